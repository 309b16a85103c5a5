package sessionauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/golang-jwt/jwt/v5"
)

// The edge configuration's leeway_seconds is the leeway, 0 included: a token 30 s past
// its exp is refused under leeway 0 (as the gate refuses it with the same document),
// and accepted under 90 s. A document without the member means 0, as it always has for
// the gate (verifier.EdgeConfig). Only without an edge configuration (the issuer
// pinned) does the 1-minute default apply.
func TestEdgeConfigLeeway(t *testing.T) {
	published := func(leeway int64) []byte {
		b, err := json.Marshal(verifier.EdgeConfig{Issuer: "https://auth.example.test", Audience: audience,
			Algorithms: []string{"EdDSA"}, LeewaySeconds: leeway, AccessCookie: verifier.Cookie{Name: "at"}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, tc := range map[string]struct {
		doc    []byte // nil: no edge configuration (Issuer pinned)
		expect error  // for a token 30 s past its exp
	}{
		"published 0":   {published(0), verifier.ErrExpired},
		"published 90":  {published(90), nil},
		"written 0":     {[]byte(`{"issuer":"https://auth.example.test","audience":"` + audience + `","leeway_seconds":0}`), verifier.ErrExpired},
		"member absent": {[]byte(`{"issuer":"https://auth.example.test","audience":"` + audience + `"}`), verifier.ErrExpired},
		"issuer pinned": {nil, nil},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeCP(t)
			f.edge = tc.doc
			clk := newClock()
			src, chk := newSource(t, f, clk, func(c *sessionauth.SourceConfig) {
				if tc.doc != nil {
					c.Issuer = ""
				}
			})
			ctx := context.Background()
			if err := src.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			now := clk.Now()
			tok := f.sign("at+jwt", jwt.MapClaims{"iss": f.issuer, "aud": audience, "sub": "user-1", "sid": "s",
				"iat": now.Add(-10 * time.Minute).Unix(), "exp": now.Add(-30 * time.Second).Unix()})
			_, err := chk.Check(ctx, tok)
			if (tc.expect == nil) != (err == nil) || (tc.expect != nil && !errors.Is(err, tc.expect)) {
				t.Fatalf("token 30 s past exp: %v, want %v", err, tc.expect)
			}
		})
	}
}

// An edge configuration whose leeway the gate would refuse is refused: it is not read
// as some other leeway, and the last good configuration stays.
func TestEdgeConfigLeewayOutOfRange(t *testing.T) {
	f := newFakeCP(t)
	f.edge = []byte(`{"issuer":"https://auth.example.test","audience":"` + audience + `","leeway_seconds":301}`)
	src, _ := newSource(t, f, newClock(), func(c *sessionauth.SourceConfig) { c.Issuer = "" })
	if err := src.Sync(context.Background()); err == nil || !contains(err.Error(), "leeway_seconds 301") {
		t.Fatalf("Sync with leeway_seconds 301: %v", err)
	}
	if _, ok := src.EdgeConfig(); ok {
		t.Fatal("the refused edge configuration was applied")
	}
}

// The published form states the leeway even when it is 0, so no reader can take the
// member's absence for its own default.
func TestEdgeConfigStatesZeroLeeway(t *testing.T) {
	b, err := json.Marshal(verifier.EdgeConfig{Issuer: "i", Audience: "a"})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if v, ok := doc["leeway_seconds"]; !ok || string(v) != "0" {
		t.Fatalf("leeway 0 published as %s", b)
	}
}

// CheckerConfig.Leeway NoLeeway asks for no leeway at all, which zero cannot (zero is
// the default): a token 30 s past its exp is refused whether the issuer is pinned (the
// 1-minute default would accept it) or the edge configuration publishes 90 s.
func TestCheckerNoLeeway(t *testing.T) {
	edge90, err := json.Marshal(verifier.EdgeConfig{Issuer: "https://auth.example.test", Audience: audience,
		Algorithms: []string{"EdDSA"}, LeewaySeconds: 90, AccessCookie: verifier.Cookie{Name: "at"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string][]byte{"issuer pinned": nil, "published 90": edge90} {
		t.Run(name, func(t *testing.T) {
			f := newFakeCP(t)
			f.edge = doc
			clk := newClock()
			src, _ := newSource(t, f, clk, func(c *sessionauth.SourceConfig) {
				if doc != nil {
					c.Issuer = ""
				}
			})
			ctx := context.Background()
			if err := src.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{Audience: audience, Leeway: sessionauth.NoLeeway})
			if err != nil {
				t.Fatal(err)
			}
			now := clk.Now()
			claims := func(exp time.Time) jwt.MapClaims {
				return jwt.MapClaims{"iss": f.issuer, "aud": audience, "sub": "user-1", "sid": "s",
					"iat": now.Add(-10 * time.Minute).Unix(), "exp": exp.Unix()}
			}
			if _, err := chk.Check(ctx, f.sign("at+jwt", claims(now.Add(-30*time.Second)))); !errors.Is(err, verifier.ErrExpired) {
				t.Fatalf("token 30 s past exp under NoLeeway: %v, want ErrExpired", err)
			}
			if _, err := chk.Check(ctx, f.sign("at+jwt", claims(now.Add(30*time.Second)))); err != nil {
				t.Fatalf("token 30 s before exp under NoLeeway: %v", err)
			}
		})
	}
	// Other negative values are still refused.
	src, _ := newSource(t, newFakeCP(t), newClock(), nil)
	if _, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{Audience: audience, Leeway: -2 * time.Second}); err == nil {
		t.Fatal("Leeway -2 s accepted")
	}
}
