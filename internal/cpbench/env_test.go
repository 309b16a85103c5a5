package main

import (
	"net/http"
	"testing"
)

// TestTakeCookiesWantsARotation: a refresh counts only when its answer sets both
// cookies with values and a refresh token other than the one sent. A 200 that set
// one cookie, cleared them, or handed the same refresh token back did not rotate the
// session, and counted would pass for a fast refresh.
func TestTakeCookiesWantsARotation(t *testing.T) {
	e := &env{accessCookie: "__Host-at", refreshCookie: "__Secure-rt"}
	answer := func(cookies ...string) *http.Response {
		return &http.Response{Header: http.Header{"Set-Cookie": cookies}}
	}
	for _, tc := range []struct {
		name string
		res  *http.Response
		want bool
	}{
		{"both new", answer("__Host-at=a2; Path=/", "__Secure-rt=r2; Path=/auth"), true},
		{"access only", answer("__Host-at=a2; Path=/"), false},
		{"refresh only", answer("__Secure-rt=r2; Path=/auth"), false},
		{"the same refresh token back", answer("__Host-at=a2; Path=/", "__Secure-rt=r1; Path=/auth"), false},
		{"both cleared", answer("__Host-at=; Path=/; Max-Age=0", "__Secure-rt=; Path=/auth; Max-Age=0"), false},
		{"other cookies", answer("theme=dark"), false},
	} {
		s := session{access: "a1", refresh: "r1"}
		if got := e.takeCookies(tc.res, &s); got != tc.want {
			t.Errorf("%s: takeCookies = %v, want %v", tc.name, got, tc.want)
		}
		if !tc.want && (s.access != "a1" || s.refresh != "r1") {
			t.Errorf("%s: the session's cookies became %q, %q: want them kept", tc.name, s.access, s.refresh)
		}
		if tc.want && (s.access != "a2" || s.refresh != "r2") {
			t.Errorf("%s: the session's cookies are %q, %q: want a2, r2", tc.name, s.access, s.refresh)
		}
	}
}
