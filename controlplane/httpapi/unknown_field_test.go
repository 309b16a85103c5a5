package httpapi_test

import (
	"strings"
	"testing"
)

// An unknown member's name is echoed (and logged) only when it looks like a field name:
// short, plain ASCII. Any other name may be data (a password pasted as a name, text of
// any length, characters that reorder or hide text) and is neither answered nor logged;
// a value never is.
func TestUnknownFieldNameIsBoundedAndPlain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	long := strings.Repeat("Kp4Mn8", 2000)
	for _, tc := range []struct {
		name, member string
		echoed       bool
	}{
		{"a misspelt field is named", "passwrd", true},
		{"a long name is not", long, false},
		{"a name with a bidi override is not", "pass\u202eword", false},
		{"a name with spaces is not", "my secret phrase", false},
		{"a name with a slash is not", "a/b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"email":"` + testEmail + `","password":"x",` + jsonString(tc.member) + `:"Zq7Wx9hunter"}`
			r := e.do(req{method: "POST", path: "/auth/login", body: body})
			if r.StatusCode != 400 || r.errorCode() != "unknown_field" {
				t.Fatalf("got %d %s", r.StatusCode, r.body)
			}
			if strings.Contains(string(r.body), "Zq7Wx") {
				t.Fatalf("the value is echoed: %s", r.body)
			}
			if len(r.body) > 200 {
				t.Fatalf("the answer is %d bytes long: %.300s", len(r.body), r.body)
			}
			line := e.requestLog(t, r)
			for _, part := range []string{"Kp4Mn8", "\\u202e", "\u202e", "secret phrase", "Zq7Wx"} {
				if strings.Contains(line, part) || strings.Contains(string(r.body), part) {
					t.Fatalf("%q is in the answer or the log:\n%s\n%s", part, r.body, line)
				}
			}
			if named := strings.Contains(string(r.body), `\"`+tc.member+`\"`); named != tc.echoed {
				t.Fatalf("name echoed %v, want %v: %s", named, tc.echoed, r.body)
			}
		})
	}
}
