package abi

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestStatusErrorRoundTrip(t *testing.T) {
	for s := Status(1); s < statusCount; s++ {
		err := s.Err()
		if err == nil {
			t.Fatalf("status %d has no error", s)
		}
		if got := StatusOf(fmt.Errorf("context: %w", err)); got != s {
			t.Errorf("StatusOf(wrapped %v) = %d, want %d", err, got, s)
		}
	}
	if StatusOf(nil) != StatusOK || StatusOK.Err() != nil {
		t.Error("StatusOK must map to nil")
	}
	if StatusOf(errors.New("other")) != StatusInternal || Status(9999).Err() != ErrInternal {
		t.Error("unknown errors and codes must map to internal")
	}
}

func TestPack(t *testing.T) {
	s, n := Unpack(Pack(StatusRevoked, 70000))
	if s != StatusRevoked || n != 70000 {
		t.Fatalf("got %d %d", s, n)
	}
}

func TestSignatureCheckEncoding(t *testing.T) {
	in := EncodeSignatureCheck([]byte(`{"kty":"OKP"}`), []byte("msg"), []byte{1, 2, 3})
	jwk, msg, sig, ok := DecodeSignatureCheck(in)
	if !ok || string(jwk) != `{"kty":"OKP"}` || string(msg) != "msg" || !bytes.Equal(sig, []byte{1, 2, 3}) {
		t.Fatalf("round trip: %q %q %v %v", jwk, msg, sig, ok)
	}
	for i := range len(in) - 3 {
		if _, _, _, ok := DecodeSignatureCheck(in[:i]); ok && i < 4+13+4+3 {
			t.Fatalf("truncated input of %d bytes accepted", i)
		}
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{StatusOK: "OK", StatusSignatureInvalid: "SignatureInvalid",
		StatusInternal: "Internal", statusCount: "Status(23)", 1 << 31: "Status(2147483648)"} {
		if got := s.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", uint32(s), got, want)
		}
	}
	for s := StatusOK; s < statusCount; s++ {
		if statusNames[s] == "" {
			t.Errorf("status %d has no name", s)
		}
	}
}

// The identity record ends with a flags byte; a record without it (from a module built
// before it) reads as no flags, and unknown flags or trailing bytes are refused.
func TestIdentityRecord(t *testing.T) {
	for _, mfa := range []bool{false, true} {
		rec := AppendIdentity(nil, "user-1", "sid-1", []string{"admin", "ops"}, 1767225600, mfa)
		sub, sid, roles, exp, gotMFA, ok := ParseIdentity(rec)
		if !ok || sub != "user-1" || sid != "sid-1" || len(roles) != 2 || roles[1] != "ops" || exp != 1767225600 || gotMFA != mfa {
			t.Fatalf("mfa %v: %q %q %v %d %v %v", mfa, sub, sid, roles, exp, gotMFA, ok)
		}
		if _, _, _, _, gotMFA, ok := ParseIdentity(rec[:len(rec)-1]); !ok || gotMFA {
			t.Fatalf("without the flags byte: second factor %v, ok %v", gotMFA, ok)
		}
		for _, bad := range [][]byte{append(rec[:len(rec)-1:len(rec)-1], 2), append(rec[:len(rec):len(rec)], 0), rec[:len(rec)-2]} {
			if _, _, _, _, _, ok := ParseIdentity(bad); ok {
				t.Fatalf("%x parses", bad)
			}
		}
	}
}
