package sessionauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/golang-jwt/jwt/v5"
)

// A token whose amr lists "mfa" gives an identity with SecondFactor;
// RequireSecondFactor admits only those, answering others 403 mfa_required, and a
// request that reached it without Middleware 401.
func TestRequireSecondFactor(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	src, chk := newSource(t, f, clk, nil)
	if err := src.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	token := func(amr any) string {
		now := clk.Now()
		c := jwt.MapClaims{"iss": f.issuer, "aud": audience, "sub": "user-1", "sid": "s1",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
		if amr != nil {
			c["amr"] = amr
		}
		return f.sign("at+jwt", c)
	}
	reached := 0
	h := chk.Middleware()(sessionauth.RequireSecondFactor(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := sessionauth.IdentityFrom(r.Context())
		if !id.SecondFactor {
			t.Error("reached without a second factor")
		}
		reached++
	})))
	for _, tc := range []struct {
		name   string
		amr    any
		status int
		code   string
	}{
		{"no amr", nil, http.StatusForbidden, "mfa_required"},
		{"password only", []string{"pwd"}, http.StatusForbidden, "mfa_required"},
		{"with a second factor", []string{"pwd", "otp", "mfa"}, http.StatusOK, ""},
		{"amr not an array", "mfa", http.StatusUnauthorized, "unauthenticated"},
	} {
		req := httptest.NewRequest("GET", "/vault/", nil)
		req.Header.Set("Authorization", "Bearer "+token(tc.amr))
		rec := httptest.NewRecorder()
		before := reached
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Fatalf("%s: status %d %s, want %d", tc.name, rec.Code, rec.Body, tc.status)
		}
		if tc.code != "" {
			var body struct{ Error struct{ Code string } }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != tc.code {
				t.Fatalf("%s: body %s, want code %s", tc.name, rec.Body, tc.code)
			}
		}
		if (reached > before) != (tc.status == http.StatusOK) {
			t.Fatalf("%s: handler reached %v", tc.name, reached > before)
		}
	}

	// Mounted without Middleware: no identity, refused rather than opened.
	rec := httptest.NewRecorder()
	sessionauth.RequireSecondFactor(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/vault/", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("without Middleware: %d", rec.Code)
	}
}
