// Package totptest computes the codes an authenticator app shows, for tests of the
// control plane's second factor (RFC 6238: HMAC-SHA1, six digits, 30-second steps).
package totptest

import (
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Code is the code for the base32 secret at t.
func Code(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
