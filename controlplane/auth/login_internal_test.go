package auth

import (
	"bytes"
	"strconv"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestClientKey(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"IPv4", "192.0.2.1", "192.0.2.1"},
		{"IPv4 with port", "192.0.2.1:5678", "192.0.2.1"},
		{"IPv4-mapped IPv6", "::ffff:192.0.2.1", "192.0.2.1"},
		{"IPv6 reduced to /64", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"IPv6 with port", "[2001:db8:1:2::9]:443", "2001:db8:1:2::/64"},
		{"IPv6 with zone", "fe80::1%eth0", "fe80::/64"},
		{"spaces", " 192.0.2.1 ", "192.0.2.1"},
		{"empty: no per-client bucket", "", ""},
		{"not an address: kept, truncated", "unix-socket-peer", "unix-socket-peer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := clientKey(c.in); got != c.want {
				t.Fatalf("clientKey(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestPHCRejectsMalformed(t *testing.T) {
	t.Parallel()
	good := hashPassword("password1", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if ok, err := verifyPassword("password1", good); !ok || err != nil {
		t.Fatalf("good hash: %v %v", ok, err)
	}
	if ok, _ := verifyPassword("password2", good); ok {
		t.Fatal("wrong password accepted")
	}
	for name, h := range map[string]string{
		"empty":           "",
		"argon2i":         "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"old version":     "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"zero memory":     "$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"unknown param":   "$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"missing param":   "$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"bad salt base64": "$argon2id$v=19$m=64,t=1,p=1$***$aGFzaGhhc2hoYXNoaGFzaA",
		"short key":       "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
		"extra field":     "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA$x",
	} {
		if _, _, _, err := parsePHC(h); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParsePHC: what parses is usable and bounded (the bounds parsePHC applies so
// that a tampered hash cannot make a login allocate gigabytes or spin), and written
// back in hashPassword's form it parses to the same parameters, salt and key.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=,t=2,p=1$$")
	f.Add("$argon2id$v=19$m=4194304,t=65,p=255$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$p=1,t=2,m=19456,m=0019456$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			return
		}
		if p.Memory == 0 || p.Memory > 1<<21 || p.Time == 0 || p.Time > 64 || p.Threads == 0 ||
			len(salt) < 8 || len(key) < 16 || p.SaltLen != len(salt) || p.KeyLen != len(key) {
			t.Fatalf("accepted unusable parameters %+v from %q", p, s)
		}
		again := "$argon2id$v=" + strconv.Itoa(argon2.Version) + "$m=" + strconv.FormatUint(uint64(p.Memory), 10) +
			",t=" + strconv.FormatUint(uint64(p.Time), 10) + ",p=" + strconv.FormatUint(uint64(p.Threads), 10) +
			"$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
		p2, salt2, key2, err := parsePHC(again)
		if err != nil || p2 != p || !bytes.Equal(salt2, salt) || !bytes.Equal(key2, key) {
			t.Fatalf("%q parsed as %+v, written back as %q, which parses as %+v (%v)", s, p, again, p2, err)
		}
	})
}
