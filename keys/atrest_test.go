package keys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// privateBytes lists byte strings that would reveal the private key if stored.
func privateBytes(t *testing.T, m *Manager) [][]byte {
	t.Helper()
	s := m.snap.Load().active
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		t.Fatal(err)
	}
	out := [][]byte{der}
	switch k := s.key.(type) {
	case ed25519.PrivateKey:
		out = append(out, k.Seed())
	case *ecdsa.PrivateKey:
		d, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	case *rsa.PrivateKey:
		out = append(out, k.D.Bytes(), k.Primes[0].Bytes(), k.Primes[1].Bytes())
	}
	return out
}

func TestPrivateKeysEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []string{AlgEdDSA, AlgES256, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			pool := newPool(t)
			cfg := testConfig(t, newClock())
			cfg.Algorithm = alg
			m := newManager(t, pool, cfg)
			var row, sealed []byte
			if err := pool.QueryRow(ctx, `SELECT convert_to(s::text, 'UTF8'), private_key FROM signing_keys s`).Scan(&row, &sealed); err != nil {
				t.Fatal(err)
			}
			if sealed[0] != sealAESGCM {
				t.Fatalf("stored version byte %#x, want %#x", sealed[0], sealAESGCM)
			}
			for _, secret := range privateBytes(t, m) {
				if bytes.Contains(sealed, secret) {
					t.Fatal("private_key column contains private key bytes")
				}
				if bytes.Contains(row, secret) || bytes.Contains(bytes.ToLower(row), []byte(hexString(secret))) {
					t.Fatal("row text contains private key bytes")
				}
			}
		})
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestStoredKeyFailures: each way a stored key can fail to open fails NewManager with
// a clear error (never a panic), and nothing new is written.
func TestStoredKeyFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, m *Manager, cfg *Config)
		want   error
		msg    string
	}{
		{name: "wrong KEK", want: ErrWrongKEK, msg: "different key-encryption key",
			tamper: func(t *testing.T, m *Manager, cfg *Config) { cfg.KEK = randomKEK(t) }},
		{name: "no KEK in development mode", want: ErrNoKEK, msg: "no key-encryption key",
			tamper: func(t *testing.T, m *Manager, cfg *Config) { cfg.KEK, cfg.AllowPlaintext = nil, true }},
		{name: "flipped ciphertext byte", want: ErrDecrypt, msg: "failed authentication",
			tamper: func(t *testing.T, m *Manager, cfg *Config) {
				exec(t, m, `UPDATE signing_keys SET private_key = set_byte(private_key, 40, get_byte(private_key, 40) # 1)`)
			}},
		{name: "truncated ciphertext", want: ErrDecrypt, msg: "too short",
			tamper: func(t *testing.T, m *Manager, cfg *Config) {
				exec(t, m, `UPDATE signing_keys SET private_key = substring(private_key from 1 for 20)`)
			}},
		{name: "ciphertext moved to another kid", want: ErrDecrypt, msg: "failed authentication",
			tamper: func(t *testing.T, m *Manager, cfg *Config) {
				// A pending key exists beside the active one; swap their sealed keys.
				if _, err := m.Rotate(ctx, RotateOptions{}); err != nil {
					t.Fatal(err)
				}
				exec(t, m, `UPDATE signing_keys a SET private_key = b.private_key FROM signing_keys b WHERE a.kid <> b.kid`)
			}},
		{name: "plaintext row while a KEK is required", want: ErrPlaintextKey, msg: "plaintext",
			tamper: func(t *testing.T, m *Manager, cfg *Config) {
				exec(t, m, `UPDATE signing_keys SET private_key = '\x00'::bytea || substring(private_key from 30)`)
			}},
		{name: "unknown storage version", want: ErrDecrypt, msg: "unknown storage version 7",
			tamper: func(t *testing.T, m *Manager, cfg *Config) {
				exec(t, m, `UPDATE signing_keys SET private_key = set_byte(private_key, 0, 7)`)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := newPool(t)
			cfg := testConfig(t, newClock())
			m := newManager(t, pool, cfg)
			tc.tamper(t, m, &cfg)
			before := states(t, m)
			_, err := NewManager(ctx, pool, cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("NewManager = %v, want %v", err, tc.want)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tc.msg)) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if after := states(t, m); len(after[StateActive])+len(after[StatePending]) != len(before[StateActive])+len(before[StatePending]) {
				t.Errorf("keys changed after a failed start: %v -> %v", before, after)
			}
		})
	}
}

func TestPlaintextDevelopmentMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	cfg := testConfig(t, newClock())
	cfg.KEK, cfg.AllowPlaintext = nil, true
	m := newManager(t, pool, cfg)
	var sealed []byte
	if err := pool.QueryRow(ctx, `SELECT private_key FROM signing_keys`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if sealed[0] != sealPlain {
		t.Fatalf("stored version %#x, want plaintext", sealed[0])
	}
	// A second replica in the same mode opens it and signs with the same kid.
	m2 := newManager(t, pool, cfg)
	a, _ := m.Active()
	b, _ := m2.Active()
	if a.KID != b.KID {
		t.Fatalf("replicas sign with %s and %s", a.KID, b.KID)
	}
	// Switching the deployment to a KEK without AllowPlaintext refuses the plaintext key.
	cfg.KEK, cfg.AllowPlaintext = randomKEK(t), false
	if _, err := NewManager(ctx, pool, cfg); !errors.Is(err, ErrPlaintextKey) {
		t.Fatalf("NewManager with KEK over plaintext keys = %v, want ErrPlaintextKey", err)
	}
}

func exec(t *testing.T, m *Manager, sql string) {
	t.Helper()
	if _, err := m.pool.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

// TestKEKRotation: with the new KEK current and the old one in PreviousKEKs, a
// replica opens the old rows and the next Advance re-seals them; afterwards the new
// KEK alone suffices and the old one alone is refused. Plaintext development keys are
// sealed the same way when a KEK is configured beside AllowPlaintext.
func TestKEKRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		start func(cfg *Config)
	}{
		{"previous KEK", func(cfg *Config) {}},
		{"plaintext development keys", func(cfg *Config) { cfg.KEK, cfg.AllowPlaintext = nil, true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			pool := newPool(t)
			old := testConfig(t, c)
			tc.start(&old)
			m := newManager(t, pool, old)
			if _, err := m.Rotate(ctx, RotateOptions{}); err != nil { // a pending key too
				t.Fatal(err)
			}
			kids := states(t, m)

			next := testConfig(t, c)
			next.KEK = randomKEK(t)
			if old.KEK != nil {
				next.PreviousKEKs = [][]byte{old.KEK}
			} else {
				next.AllowPlaintext = true
			}
			m2 := newManager(t, pool, next) // opens, then re-seals
			rows, err := pool.Query(ctx, `SELECT private_key FROM signing_keys`)
			if err != nil {
				t.Fatal(err)
			}
			sealer, _ := newSealer(next.KEK, nil, false)
			n := 0
			for rows.Next() {
				var stored []byte
				if err := rows.Scan(&stored); err != nil {
					t.Fatal(err)
				}
				if !sealer.current(stored) {
					t.Errorf("a private key is not sealed under the new KEK (version %#x)", stored[0])
				}
				n++
			}
			if n != 2 || rows.Err() != nil {
				t.Fatalf("%d keys, %v", n, rows.Err())
			}
			if after := states(t, m2); len(after[StateActive]) != 1 || after[StateActive][0] != kids[StateActive][0] || after[StatePending][0] != kids[StatePending][0] {
				t.Fatalf("keys changed: %v -> %v", kids, after)
			}

			only := next
			only.PreviousKEKs, only.AllowPlaintext = nil, false
			m3 := newManager(t, pool, only)
			if _, err := m3.Sign(ctx, claims(c.Now(), time.Minute), "at+jwt"); err != nil {
				t.Fatal(err)
			}
			if old.KEK != nil {
				if _, err := NewManager(ctx, pool, old); !errors.Is(err, ErrWrongKEK) {
					t.Fatalf("old KEK alone: %v, want ErrWrongKEK", err)
				}
			}
		})
	}
}

func TestNewManagerWithoutMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	_, err = NewManager(ctx, pool, testConfig(t, newClock()))
	if err == nil || !strings.Contains(err.Error(), "apply the migrations first") {
		t.Fatalf("NewManager on an empty database = %v, want a hint to apply the migrations", err)
	}
}
