package cookies

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The clearing header repeats every attribute of the setting one.
func TestClearRepeatsAttributes(t *testing.T) {
	s := Spec{Name: "__Secure-rt", Path: "/auth", Domain: "example.com", Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: time.Hour}
	w := httptest.NewRecorder()
	s.Set(w, "tok")
	s.Clear(w)
	h := w.Header().Values("Set-Cookie")
	if len(h) != 2 {
		t.Fatal(h)
	}
	set, clr := h[0], h[1]
	if set != "__Secure-rt=tok; Path=/auth; Domain=example.com; Max-Age=3600; HttpOnly; Secure; SameSite=Strict" {
		t.Fatalf("set: %s", set)
	}
	if clr != "__Secure-rt=; Path=/auth; Domain=example.com; Max-Age=0; HttpOnly; Secure; SameSite=Strict" {
		t.Fatalf("clear: %s", clr)
	}
	if strings.Replace(set, "tok", "", 1) != strings.Replace(clr, "Max-Age=0", "Max-Age=3600", 1) {
		t.Fatal("set and clear differ beyond value and Max-Age")
	}
}

func TestReadRefusesDuplicates(t *testing.T) {
	s := Spec{Name: "a"}
	for _, tc := range []struct {
		name, header string
		ok           bool
	}{
		{"one", "a=1; b=2", true},
		{"absent", "b=2", false},
		{"empty", "a=", false},
		{"twice", "a=1; a=2", false},
		{"prefix of another name", "ab=1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", tc.header)
			if _, ok := s.Read(r); ok != tc.ok {
				t.Fatalf("ok = %v", ok)
			}
		})
	}
}

func TestValuesKeepsEveryCopy(t *testing.T) {
	s := Spec{Name: "a"}
	many := strings.Repeat("a=x; ", 3)
	for i := range MaxValues + 2 {
		many += "a=" + strconv.Itoa(i) + "; "
	}
	for _, tc := range []struct {
		name, header string
		want         []string
	}{
		{"one", "a=1; b=2", []string{"1"}},
		{"absent", "b=2", nil},
		{"empty", "a=; a=2", []string{"2"}},
		{"twice", "a=1; a=2", []string{"1", "2"}},
		{"the same value twice", "a=1; a=1", []string{"1"}},
		{"bounded", many, []string{"x", "0", "1", "2", "3", "4", "5", "6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", tc.header)
			if got := s.Values(r); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
