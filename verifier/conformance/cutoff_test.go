package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// cutoffList signs a revocation list at iat whose cutoff is before.
func cutoffList(t *testing.T, iat, before int64, sids ...string) []byte {
	if sids == nil {
		sids = []string{}
	}
	k := vectors.EdDSAKey()
	header := vectors.MustJSON(map[string]any{"alg": k.Alg, "kid": k.KID, "typ": "edgeauth-revocations+jwt"})
	payload := vectors.MustJSON(map[string]any{"iss": vectors.Issuer, "iat": iat, "exp": iat + 120, "sids": sids, "before": before})
	return []byte(k.Sign(header, payload))
}

// readyToVerify configures e with cfg and the test keys, and returns a check that a
// token verifies at now with the wanted error (nil for none).
func readyToVerify(t *testing.T, e verifier.Engine, cfg verifier.Config, now int64) func(step, tok string, want error) {
	t.Helper()
	ctx := context.Background()
	if err := e.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := e.LoadKeys(ctx, vectors.JWKS()); err != nil {
		t.Fatal(err)
	}
	return func(step, tok string, want error) {
		t.Helper()
		_, err := e.VerifyToken(ctx, tok, now)
		if (want == nil) != (err == nil) || !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", step, err, want)
		}
	}
}

// TestRevocationListCutoff checks the list's before member (ABI.md, "load_revocations")
// on every engine and path: a token issued before the cutoff is refused as expired
// (verify_token) and sent to refresh on a protected path, also when it was verified and
// cached before the list arrived; a token issued at the cutoff or later passes; a list
// without a cutoff lifts it; a session named on the list stays revoked either way.
func TestRevocationListCutoff(t *testing.T) {
	now := vectors.Now
	key := vectors.EdDSAKey()
	cfg := testConfig(64)
	cfg.Issuer, cfg.Audience, cfg.LeewaySeconds = vectors.Issuer, vectors.Audience, vectors.Leeway

	older := vectors.Claims(now) // iat now-60
	newer := vectors.Claims(now)
	newer["iat"], newer["sid"], newer["jti"] = now-10, "bmV3ZXItc2Vzc2lvbi0xMjM0NTY3ODkw", "tok-2"
	olderTok, newerTok := key.Token(older), key.Token(newer)
	cutoff := now - 30

	page := func(tok string) verifier.Request {
		return verifier.Request{Method: "GET", Path: "/app/settings",
			Cookies: []string{accessCookie.Name + "=" + tok + "; " + refreshCookie.Name + "=r"}}
	}

	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		ctx := context.Background()
		verify := readyToVerify(t, e, cfg, now)
		decide := func(step, tok string, action verifier.Action, reason verifier.Reason) {
			t.Helper()
			d, err := e.Decide(ctx, page(tok), now)
			if err != nil || d.Action != action || d.Reason != reason {
				t.Fatalf("%s: %+v, %v; want %s/%s", step, d, err, action, reason)
			}
			if action != verifier.ActionAllow && d.Identity != nil {
				t.Fatalf("%s: identity %+v on %s", step, d.Identity, action)
			}
		}
		// Both verified and cached before any list.
		verify("no list", olderTok, nil)
		decide("no list", olderTok, verifier.ActionAllow, verifier.ReasonAuthenticated)
		verify("no list", newerTok, nil)

		if err := e.LoadRevocations(ctx, cutoffList(t, now-5, cutoff), now); err != nil {
			t.Fatal(err)
		}
		verify("issued before the cutoff, cached", olderTok, abi.ErrExpired)
		decide("issued before the cutoff, cached", olderTok, verifier.ActionRefresh, verifier.ReasonTokenExpired)
		verify("issued after the cutoff", newerTok, nil)
		decide("issued after the cutoff", newerTok, verifier.ActionAllow, verifier.ReasonAuthenticated)

		atCutoff := vectors.Claims(now)
		atCutoff["iat"], atCutoff["jti"] = cutoff, "tok-3"
		verify("issued at the cutoff", key.Token(atCutoff), nil)
		justBefore := vectors.Claims(now)
		justBefore["iat"], justBefore["jti"] = cutoff-1, "tok-4"
		verify("issued a second before the cutoff, never cached", key.Token(justBefore), abi.ErrExpired)
		noIat := vectors.Claims(now)
		delete(noIat, "iat")
		noIat["jti"] = "tok-5"
		verify("no iat: issued at an unknown time", key.Token(noIat), abi.ErrExpired)

		if err := e.LoadRevocations(ctx, cutoffList(t, now-4, cutoff, newer["sid"].(string)), now); err != nil {
			t.Fatal(err)
		}
		verify("listed session after the cutoff", newerTok, abi.ErrRevoked)
		decide("listed session after the cutoff", newerTok, verifier.ActionRedirect, verifier.ReasonRevoked)

		if err := e.LoadRevocations(ctx, cutoffList(t, now-3, cutoff+100), now); !errors.Is(err, abi.ErrInvalidRevocationList) {
			t.Fatalf("a cutoff after the list's iat: %v", err)
		}
		verify("refused list changes nothing", newerTok, abi.ErrRevoked)

		if err := e.LoadRevocations(ctx, revocationList(t, vectors.Issuer, now-2, []string{}...), now); err != nil {
			t.Fatal(err)
		}
		verify("a list without a cutoff lifts it", olderTok, nil)
		verify("a list without the session lifts its revocation", newerTok, nil)
	})
}
