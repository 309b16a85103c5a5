package keys

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzOpenSealed: any stored bytes either open to exactly what was sealed or fail
// with one of the package's errors; never a panic.
func FuzzOpenSealed(f *testing.F) {
	kek := bytes.Repeat([]byte{7}, KEKSize)
	s, err := newSealer(kek, nil, false)
	if err != nil {
		f.Fatal(err)
	}
	secret := []byte("pkcs8 bytes")
	good, err := s.seal("kid-1", AlgEdDSA, secret)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{sealPlain, 1, 2})
	f.Add([]byte{sealAESGCM})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, stored []byte) {
		pt, err := s.open("kid-1", AlgEdDSA, stored)
		if err == nil {
			if !bytes.Equal(pt, secret) {
				t.Fatalf("opened %q from forged input", pt)
			}
			return
		}
		if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrWrongKEK) && !errors.Is(err, ErrPlaintextKey) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func TestSealRoundTripAndBinding(t *testing.T) {
	t.Parallel()
	s, err := newSealer(bytes.Repeat([]byte{1}, KEKSize), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.seal("kid-a", AlgEdDSA, []byte("secret"))
	b, _ := s.seal("kid-a", AlgEdDSA, []byte("secret"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same key are identical (nonce reuse)")
	}
	for _, tc := range []struct {
		name, kid, alg string
		ok             bool
	}{
		{"same kid and alg", "kid-a", AlgEdDSA, true},
		{"other kid", "kid-b", AlgEdDSA, false},
		{"other alg", "kid-a", AlgES256, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := s.open(tc.kid, tc.alg, a)
			if tc.ok != (err == nil) || (tc.ok && string(pt) != "secret") {
				t.Fatalf("open = %q, %v", pt, err)
			}
			if !tc.ok && !errors.Is(err, ErrDecrypt) {
				t.Fatalf("open = %v, want ErrDecrypt", err)
			}
		})
	}
}

// TestReloadFailureKeepsServing: when the database is unreachable, Reload fails and
// the replica keeps its JWKS and signing key (until MaxStale).
func TestReloadFailureKeepsServing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	m := newManager(t, newPool(t), testConfig(t, c))
	body, tag := m.JWKS()
	m.pool.Close()
	if err := m.Reload(ctx); err == nil {
		t.Fatal("Reload succeeded on a closed pool")
	}
	if err := m.Advance(ctx); err == nil {
		t.Fatal("Advance succeeded on a closed pool")
	}
	c.Add(time.Minute)
	if b, e := m.JWKS(); !bytes.Equal(b, body) || e != tag {
		t.Fatal("JWKS changed after a failed reload")
	}
	if _, err := m.Sign(ctx, claims(c.Now(), time.Minute), "at+jwt"); err != nil {
		t.Fatalf("Sign after a failed reload: %v", err)
	}
}
