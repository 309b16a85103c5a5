package httpapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// Two password changes sent at once from one session (a double-click, a retry): one
// wins, and the other finds its session replaced by the winner. That one is refused as
// a session that ended meanwhile (401 session_inactive, its attempt taken back), never
// as a wrong current password: the password it sent was right, and a 403
// current_password_invalid would tell the user otherwise and count a failed attempt
// against the account and the address.
func TestConcurrentPasswordChangesFromOneSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for i := range 12 {
		email := fmt.Sprintf("race%d@example.test", i)
		e.createUser(email, testPassword)
		access, _ := e.login(email, testPassword)
		news := []string{"first new passphrase one", "second new passphrase two"}
		rs := make([]resp, 2)
		var wg sync.WaitGroup
		for j := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rs[j] = e.do(req{method: "POST", path: "/auth/password", cookies: []*http.Cookie{access},
					body: `{"current_password":"` + testPassword + `","new_password":"` + news[j] + `"}`})
			}()
		}
		wg.Wait()
		won := 0
		for _, r := range rs {
			switch {
			case r.StatusCode == 200:
				won++
			case r.StatusCode == 401 && r.errorCode() == "session_inactive":
			default:
				t.Errorf("user %d: %d %s", i, r.StatusCode, r.body)
			}
		}
		if won != 1 {
			t.Errorf("user %d: %d changes won", i, won)
		}
	}
	var failures int
	if err := e.pool.QueryRow(t.Context(), "SELECT count(*) FROM audit_events WHERE kind = 'password_change_failed'").Scan(&failures); err != nil {
		t.Fatal(err)
	}
	if failures != 0 {
		t.Errorf("%d password_change_failed events for right passwords", failures)
	}
}
