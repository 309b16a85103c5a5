package conformance

import (
	"context"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// TestSameSecondListsUnite checks ABI.md's rule for lists of an equal iat on every
// engine: two replicas (or a cache in front of one) can sign lists in the same second,
// one before a revocation committed and one after, and an edge may load them in either
// order. The second must not forget what the first named, nor lift its cutoff; a list
// of a later second replaces both.
func TestSameSecondListsUnite(t *testing.T) {
	now := vectors.Now
	key := vectors.EdDSAKey()
	cfg := testConfig(64)
	cfg.Issuer, cfg.Audience, cfg.LeewaySeconds = vectors.Issuer, vectors.Audience, vectors.Leeway

	first := vectors.Claims(now) // iat now-60
	second := vectors.Claims(now)
	second["sid"], second["jti"] = "c2Vjb25kLXNlc3Npb24tMTIzNDU2Nzg5MA", "tok-2"
	firstTok, secondTok := key.Token(first), key.Token(second)
	firstSID, secondSID := first["sid"].(string), second["sid"].(string)
	iat := now - 5

	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		ctx := context.Background()
		verify := readyToVerify(t, e, cfg, now)
		load := func(list []byte) {
			t.Helper()
			if err := e.LoadRevocations(ctx, list, now); err != nil {
				t.Fatal(err)
			}
		}

		load(revocationList(t, vectors.Issuer, iat, firstSID))
		load(revocationList(t, vectors.Issuer, iat, secondSID))
		verify("named by the first list of the second", firstTok, abi.ErrRevoked)
		verify("named by the second list of the second", secondTok, abi.ErrRevoked)
		d, err := e.Decide(ctx, verifier.Request{Method: "GET", Path: "/app/settings",
			Cookies: []string{accessCookie.Name + "=" + firstTok + "; " + refreshCookie.Name + "=r"}}, now)
		if err != nil || d.Action != verifier.ActionRedirect || d.Reason != verifier.ReasonRevoked {
			t.Fatalf("decide, named by the first list only: %+v, %v", d, err)
		}
		load(revocationList(t, vectors.Issuer, iat, []string{}...))
		verify("after an empty list of the same second", firstTok, abi.ErrRevoked)

		// The cutoff: the higher of the two stands (both lists are true of that second).
		load(cutoffList(t, iat, now-30))
		load(revocationList(t, vectors.Issuer, iat, []string{}...))
		verify("a list of the same second without a cutoff", firstTok, abi.ErrRevoked)
		noSession := vectors.Claims(now)
		noSession["sid"], noSession["jti"] = "dW5saXN0ZWQtc2Vzc2lvbi0xMjM0NTY3ODkw", "tok-3"
		verify("issued before the kept cutoff", key.Token(noSession), abi.ErrExpired)
		load(cutoffList(t, iat, now-90))
		verify("a lower cutoff of the same second", key.Token(noSession), abi.ErrExpired)

		load(revocationList(t, vectors.Issuer, iat+1, []string{}...))
		verify("a later list replaces: first", firstTok, nil)
		verify("a later list replaces: second", secondTok, nil)
		verify("a later list replaces: cutoff", key.Token(noSession), nil)
	})
}
