package wasmhost

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// rs256Host is a one-instance host on the embedded module, configured for RS256 with
// the cache disabled (every verification is cold), and an RS256 token.
func rs256Host(b testing.TB, opts Options) (*Host, string) {
	opts.PoolSize = 1
	h, err := NewEmbedded(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	cookie := verifier.Cookie{Name: "__Host-edgeauth", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"}
	cfg := verifier.Config{
		EdgeConfig: verifier.EdgeConfig{
			Issuer: vectors.Issuer, Audience: vectors.Audience, Algorithms: []string{"RS256"}, LeewaySeconds: 30,
			AccessCookie: cookie, RefreshCookie: verifier.Cookie{Name: "__Secure-edgeauth-refresh", Path: "/auth", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			LoginPath: "/login", RefreshPath: "/auth/refresh",
		},
		LocalConfig: verifier.LocalConfig{PublicPaths: []string{"/login", "/auth/"}, DefaultProtected: true},
	}
	if err := h.Configure(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	if err := h.LoadKeys(context.Background(), vectors.JWKS()); err != nil {
		b.Fatal(err)
	}
	return h, vectors.RS256Key().Token(vectors.Claims(vectors.Now))
}

// BenchmarkTwoPhaseParts splits a cold RS256 verification on the two-phase path: the
// module's first call (every check up to the signature, the question out), the host's
// crypto/rsa check, and the whole round trip.
func BenchmarkTwoPhaseParts(b *testing.B) {
	h, token := rs256Host(b, Options{})
	in, err := h.get(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer h.put(in)
	ask := func() []byte {
		in.mem.Write(in.bufPtr, []byte(token))
		in.stack[0], in.stack[1] = uint64(len(token)), uint64(vectors.Now)
		if err := in.verifyToken.CallWithStack(context.Background(), in.stack[:]); err != nil {
			b.Fatal(err)
		}
		if st := status(in.stack[0]); st != abi.StatusNeedSignature {
			b.Fatal(st)
		}
		q, _ := in.output()
		return q
	}
	b.Run("module-question", func(b *testing.B) { loop(b, func() { ask() }) })
	q := append([]byte(nil), ask()...)
	b.Run("host-rsa", func(b *testing.B) {
		qq, _ := abi.ParseSignatureQuestion(q)
		loop(b, func() {
			pub, err := in.rsaKey(qq.KeyIndex, qq.Key)
			if err != nil {
				b.Fatal(err)
			}
			d := sha256.Sum256(qq.Message)
			if rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], qq.Sig) != nil {
				b.Fatal("does not verify")
			}
		})
	})
	b.Run("round-trip", func(b *testing.B) {
		loop(b, func() {
			if _, err := in.call(context.Background(), in.verifyToken, []byte(token), vectors.Now, true); err != nil {
				b.Fatal(err)
			}
		})
	})
}
