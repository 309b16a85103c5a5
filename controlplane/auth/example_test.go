package auth_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
)

func ExampleCheckPassword() {
	for _, pw := range []string{"short", "Password1", "alice1990", "password-without-any-rules", "Tr0ub4dor&3"} {
		fmt.Printf("%q: %v\n", pw, auth.CheckPassword(pw, "alice@example.com"))
	}
	// Output:
	// "short": auth: password refused: the password must have at least 8 characters
	// "Password1": auth: password refused: the password is too easy to guess: it is a common password, or close to one
	// "alice1990": auth: password refused: the password is too easy to guess: it contains the login name or the service's name
	// "password-without-any-rules": <nil>
	// "Tr0ub4dor&3": <nil>
}

func ExampleRetryAfter() {
	var err error = &auth.ThrottledError{RetryAfter: 90 * time.Second}
	if errors.Is(err, auth.ErrThrottled) {
		d, _ := auth.RetryAfter(err)
		fmt.Println("429, Retry-After:", int(d.Seconds()))
	}
	// Output: 429, Retry-After: 90
}
