package httpapi_test

import (
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

// A password accepted at signup is accepted at login: the length rule counts the same
// characters in both (NFKC code points). 120 Hangul syllables typed as conjoining jamo
// (360 code points, 1,080 bytes) are 120 characters after NFKC.
func TestLongestAcceptedPasswordLogsIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.Signup = true }})
	pw := strings.Repeat("\u1100\u1161\u11a8", 120) // 각 ... in jamo
	if r := e.do(req{method: "POST", path: "/auth/signup", body: `{"email":"jamo@example.test","password":` + jsonString(pw) + `}`}); r.StatusCode != 201 {
		t.Fatalf("signup: %d %s", r.StatusCode, r.body)
	}
	for _, p := range []string{pw, strings.Repeat("\uac01", 120)} { // decomposed, then precomposed
		if r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"jamo@example.test","password":` + jsonString(p) + `}`}); r.StatusCode != 200 {
			t.Errorf("login with the %d-byte spelling: %d %s", len(p), r.StatusCode, r.body)
		}
	}
}
