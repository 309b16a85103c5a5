package wasmhost

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// The host's half of the two-phase path: RS256 signatures checked with crypto/rsa by
// default, with the results of the module's own crypto; cached tokens never leave the
// module; a broken exchange is an internal error, never a decision.

func TestTwoPhaseAnswersAsTheModule(t *testing.T) {
	ctx := context.Background()
	twoPhase, token := rs256Host(t, Options{})
	module, _ := rs256Host(t, Options{ModuleSignatures: true})
	tokens := map[string]string{
		"valid":         token,
		"unpublished":   vectors.UnpublishedRS256Key().Token(vectors.Claims(vectors.Now)),
		"expired":       vectors.RS256Key().Token(vectors.Claims(vectors.Now - 7200)),
		"wrong alg key": vectors.EdDSAKey().Token(vectors.Claims(vectors.Now)),
	}
	for name, tok := range tokens {
		want, wantErr := module.VerifyToken(ctx, tok, vectors.Now)
		got, err := twoPhase.VerifyToken(ctx, tok, vectors.Now)
		if abi.StatusOf(err) != abi.StatusOf(wantErr) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: two-phase %+v %v, module %+v %v", name, got, err, want, wantErr)
		}
	}
	if n := twoPhase.HostSignatureChecks(); n != 3 { // the EdDSA token fails at the allow-list
		t.Errorf("host checked %d signatures, want 3", n)
	}
	if n := module.HostSignatureChecks(); n != 0 {
		t.Errorf("ModuleSignatures: host checked %d signatures", n)
	}
}

func TestTwoPhaseCachedTokensStayInTheModule(t *testing.T) {
	ctx := context.Background()
	h, err := NewEmbedded(ctx, Options{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	cfg := verifier.Config{
		EdgeConfig: verifier.EdgeConfig{
			Issuer: vectors.Issuer, Audience: vectors.Audience, Algorithms: []string{"RS256"}, LeewaySeconds: 30,
			AccessCookie:  verifier.Cookie{Name: "__Host-edgeauth", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			RefreshCookie: verifier.Cookie{Name: "__Secure-edgeauth-refresh", Path: "/auth", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			LoginPath:     "/login", RefreshPath: "/auth/refresh",
		},
		LocalConfig: verifier.LocalConfig{PublicPaths: []string{"/login", "/auth/"}, DefaultProtected: true, CacheEntries: 16},
	}
	if err := h.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadKeys(ctx, vectors.JWKS()); err != nil {
		t.Fatal(err)
	}
	req := verifier.Request{Method: "GET", Path: "/app", Cookies: []string{"__Host-edgeauth=" + vectors.RS256Key().Token(vectors.Claims(vectors.Now))}}
	for i := range 3 {
		d, err := h.Decide(ctx, req, vectors.Now)
		if err != nil || d.Action != verifier.ActionAllow || d.Identity == nil {
			t.Fatalf("decision %d: %+v %v", i, d, err)
		}
		if n := h.HostSignatureChecks(); n != 1 {
			t.Fatalf("after decision %d the host checked %d signatures, want 1", i, n)
		}
	}
	// A new key set replaces the instances: the cache and the host's keys go with them.
	if err := h.LoadKeys(ctx, vectors.JWKS()); err != nil {
		t.Fatal(err)
	}
	if d, err := h.decideJSON(ctx, req, vectors.Now); err != nil || d.Action != verifier.ActionAllow || h.HostSignatureChecks() != 2 {
		t.Fatalf("after load_keys (JSON form): %+v %v, %d checks", d, err, h.HostSignatureChecks())
	}
}

func TestTwoPhaseRefusesABrokenExchange(t *testing.T) {
	ctx := context.Background()
	h, token := rs256Host(t, Options{})
	in, err := h.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer h.put(in)
	for name, q := range map[string][]byte{
		"empty":       nil,
		"short":       make([]byte, abi.SignatureQuestionSize-1),
		"other alg":   abi.AppendSignatureQuestion(nil, abi.AlgEdDSA, 0, make([]byte, 32), []byte("m"), make([]byte, 64)),
		"lengths off": append(abi.AppendSignatureQuestion(nil, abi.AlgRS256, 0, abi.AppendRSAKey(nil, 65537, []byte{1}), nil, nil), 0),
		"no modulus":  abi.AppendSignatureQuestion(nil, abi.AlgRS256, 0, abi.AppendRSAKey(nil, 65537, nil), []byte("m"), []byte("s")),
	} {
		if err := in.answer(ctx, q); !errors.Is(err, abi.ErrInternal) {
			t.Errorf("%s: %v, want ErrInternal", name, err)
		}
	}
	// A well-formed question the module did not ask: its verdict is refused.
	if _, err := in.call(ctx, in.verifyToken, []byte(token), vectors.Now, true); err != nil {
		t.Fatal(err)
	}
	q := abi.AppendSignatureQuestion(nil, abi.AlgRS256, 0, abi.AppendRSAKey(nil, 65537, []byte{0xC5}), []byte("m"), []byte{1})
	if err := in.answer(ctx, q); !errors.Is(err, abi.ErrInternal) {
		t.Errorf("unasked question: %v, want ErrInternal", err)
	}
}

// A question the host was not told to expect is an internal error, never a decision.
func TestUnexpectedQuestionIsInternal(t *testing.T) {
	ctx := context.Background()
	h, token := rs256Host(t, Options{})
	in, err := h.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer h.put(in)
	in.hostMask = 0 // the module still checks RS256 with the host; this host no longer answers
	_, err = in.call(ctx, in.verifyToken, []byte(token), vectors.Now, true)
	if !errors.Is(err, abi.ErrInternal) || !errors.Is(err, abi.ErrNeedSignature) || abi.StatusOf(err) != abi.StatusInternal {
		t.Errorf("verify_token: %v, want ErrInternal", err)
	}
	req := verifier.Request{Method: "GET", Path: "/app", Cookies: []string{"__Host-edgeauth=" + token}}
	if _, err := in.decideCompactCall(ctx, req, vectors.Now); abi.StatusOf(err) != abi.StatusInternal {
		t.Errorf("decide_compact: %v, want ErrInternal", err)
	}
}
