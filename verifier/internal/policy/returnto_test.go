package policy

import (
	"fmt"
	"net/url"
	"testing"
)

func TestSafeReturnTo(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"/", true},
		{"/dashboard", true},
		{"/a/b?x=1&y=%2F", true},
		{"/search?q=caf%C3%A9+au+lait", true},
		{"/p?", true},
		{"//evil.com", false},
		{"//evil.com/path", false},
		{"/\\evil.com", false},
		{"/\\/evil.com", false},
		{"https://evil.com", false},
		{"javascript:alert(1)", false},
		{"evil.com", false},
		{"", false},
		{"/%2F%2Fevil.com", false},
		{"/%2f%2fevil.com", false},
		{"/%5Cevil.com", false},
		{"/a/../b", false},
		{"/a%0D%0ASet-Cookie:x=1", false},
		{"/a?x=%0D%0ASet-Cookie:x=1", false},
		{"/a?x=%0a", false},
		{"/a?x=%7F", false},
		{"/a\r\nSet-Cookie:x", false},
		{"/a?x=\n", false},
		{"/a?x=\\y", false},
		{"/a?x=y#frag", false},
		{"/a?x=%zz", false},
		{"/a b", false},
		{"/a?b c", false},
		{"/\x00", false},
		{"/\xc3\xa9", false},
		{"/" + string(make([]byte, MaxReturnTo)), false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			if got := SafeReturnTo(tt.in); got != tt.want {
				t.Fatalf("SafeReturnTo(%q) = %v", tt.in, got)
			}
		})
	}
}

func TestLoginAndRefreshURL(t *testing.T) {
	p := mustNew(t, validConfig())
	tests := []struct {
		name, path, query, login string
	}{
		{"plain", "/dashboard", "", "/login?return_to=%2Fdashboard"},
		{"with query", "/a/b", "x=1&y=two", "/login?return_to=%2Fa%2Fb%3Fx%3D1%26y%3Dtwo"},
		{"encoded chars kept encoded", "/caf%C3%A9", "q=%2F", "/login?return_to=%2Fcaf%25C3%25A9%3Fq%3D%252F"},
		{"protocol relative dropped", "//evil.com", "", "/login"},
		{"backslash dropped", "/\\evil.com", "", "/login"},
		{"encoded slashes dropped", "/%2F%2Fevil.com", "", "/login"},
		{"encoded CRLF in query dropped", "/a", "x=%0D%0ALocation:%20https://evil.com", "/login"},
		{"raw CRLF dropped", "/a\r\n", "", "/login"},
		{"dot segments dropped", "/static/../admin", "", "/login"},
		{"absolute URL path dropped", "https://evil.com/", "", "/login"},
		{"too long dropped", "/" + string(repeat('a', MaxReturnTo)), "", "/login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(p.AppendLoginURL([]byte("x"), tt.path, tt.query))
			if got != "x"+tt.login {
				t.Fatalf("login URL %q, want %q", got, "x"+tt.login)
			}
			want := "/auth/refresh" + tt.login[len("/login"):]
			if got := string(p.AppendRefreshURL(nil, tt.path, tt.query)); got != want {
				t.Fatalf("refresh URL %q, want %q", got, want)
			}
			// The login page decodes return_to once and gets path?query back.
			if u, err := url.Parse(got); err == nil && u.Query().Has("return_to") {
				back := u.Query().Get("return_to")
				orig := tt.path
				if tt.query != "" {
					orig += "?" + tt.query
				}
				if back != orig || !SafeReturnTo(back) {
					t.Fatalf("return_to decodes to %q, want %q", back, orig)
				}
			}
		})
	}
}

func TestAfterLoginTarget(t *testing.T) {
	c := validConfig()
	c.AfterLoginPath = "/home"
	p := mustNew(t, c)
	tests := []struct{ name, query, want string }{
		{"none", "", "/home"},
		{"safe", "return_to=%2Fdashboard%3Fx%3D1", "/dashboard?x=1"},
		{"unencoded safe", "return_to=/dashboard", "/dashboard"},
		{"among others", "a=1&return_to=%2Fx&b=2", "/x"},
		{"twice dropped", "return_to=%2Fa&return_to=%2Fb", "/home"},
		{"protocol relative", "return_to=%2F%2Fevil.com", "/home"},
		{"backslash", "return_to=%2F%5Cevil.com", "/home"},
		{"absolute", "return_to=https%3A%2F%2Fevil.com", "/home"},
		{"double encoded slashes", "return_to=%2F%252F%252Fevil.com", "/home"},
		{"encoded CRLF", "return_to=%2Fa%0D%0ASet-Cookie%3Ax", "/home"},
		{"double encoded CRLF", "return_to=%2Fa%3Fx%3D%250D%250A", "/home"},
		{"bad escape", "return_to=%2", "/home"},
		{"plus is space", "return_to=/a+b", "/home"},
		{"empty", "return_to=", "/home"},
		{"other param name", "return_tox=%2Fa", "/home"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.AfterLoginTarget(tt.query); got != tt.want {
				t.Fatalf("AfterLoginTarget(%q) = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	p := mustNew(t, validConfig())
	var buf []byte
	allocs := testing.AllocsPerRun(100, func() {
		m := p.Match("/admin/users/42")
		if !m.Protected || !m.Satisfied([]string{"admin"}) {
			t.Fatal("wrong match")
		}
		buf = p.AppendLoginURL(buf[:0], "/admin/users/42", "tab=1")
	})
	if allocs != 0 {
		t.Fatalf("Match + AppendLoginURL allocate %v times", allocs)
	}
}

func repeat(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

func ExamplePolicy_AppendLoginURL() {
	p, _ := New(Config{
		Issuer: "https://auth.example.com", Audience: "app",
		AccessCookie:  Cookie{Name: "__Host-at", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"},
		RefreshCookie: Cookie{Name: "__Host-rt", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Strict"},
		LoginPath:     "/login", RefreshPath: "/auth/refresh",
		PublicPaths:      []string{"/login", "/auth/"},
		DefaultProtected: true,
	})
	fmt.Println(string(p.AppendLoginURL(nil, "/orders", "page=2")))
	fmt.Println(string(p.AppendLoginURL(nil, "//evil.com", "")))
	// Output:
	// /login?return_to=%2Forders%3Fpage%3D2
	// /login
}
