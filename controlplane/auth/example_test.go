package auth_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
)

func ExampleCheckPassword() {
	for _, pw := range []string{"short", "eight ch", "ñññññññ€", "password-without-any-rules"} {
		fmt.Printf("%q: %v\n", pw, auth.CheckPassword(pw) == nil)
	}
	// Output:
	// "short": false
	// "eight ch": true
	// "ñññññññ€": true
	// "password-without-any-rules": true
}

func ExampleRetryAfter() {
	var err error = &auth.ThrottledError{RetryAfter: 90 * time.Second}
	if errors.Is(err, auth.ErrThrottled) {
		d, _ := auth.RetryAfter(err)
		fmt.Println("429, Retry-After:", int(d.Seconds()))
	}
	// Output: 429, Retry-After: 90
}
