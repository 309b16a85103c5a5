package breached_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/breached"
	"github.com/edgeauth/edgeauth/internal/pwnedtest"
)

func TestBreached(t *testing.T) {
	svc := pwnedtest.Start(t, map[string]int{"correct horse battery staple": 412, "padded only": 0})
	c, err := breached.New(svc.URL+"/", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for pw, want := range map[string]bool{
		"correct horse battery staple": true,
		"padded only":                  false, // listed with count 0: a decoy
		"kvzqpwtj sailboat 1987 lamp":  false,
	} {
		got, err := c.Breached(ctx, pw)
		if err != nil || got != want {
			t.Errorf("Breached(%q) = %v, %v; want %v", pw, got, err, want)
		}
	}
	// What left the process: a five-character prefix, with padding asked for.
	asked := svc.Asked()
	for _, q := range asked {
		if len(q.Path) != len("/range/")+5 || q.Padding != "true" {
			t.Errorf("asked %+v", q)
		}
	}
	if len(asked) != 3 {
		t.Errorf("%d questions for 3 passwords", len(asked))
	}
}

// An answer that is not what the service answers is an error, never "not breached".
func TestBrokenAnswersAreErrors(t *testing.T) {
	for name, handler := range map[string]http.HandlerFunc{
		"500":          func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) },
		"empty":        func(w http.ResponseWriter, r *http.Request) {},
		"html":         func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>maintenance</html>") },
		"short suffix": func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ABC:3\r\n") },
		"no count":     func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "%035X:\r\n", 1) },
		// Well-formed lines past what is read (1 MiB, a line ending exactly there), the
		// password's own suffix after them: cut short, never "not breached".
		"too long": func(w http.ResponseWriter, r *http.Request) {
			for i := range 1 << 14 { // 64-byte lines
				fmt.Fprintf(w, "%035X:%026d\r\n", i, 1)
			}
			sum := sha1.Sum([]byte("any password"))
			fmt.Fprintf(w, "%s:5\r\n", strings.ToUpper(hex.EncodeToString(sum[:]))[5:])
		},
		"slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handler)
			defer srv.Close()
			c, err := breached.New(srv.URL, 200*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.Breached(context.Background(), "any password"); err == nil {
				t.Fatalf("answered %v without an error", got)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://api.pwnedpasswords.com": true,
		"https://mirror.example/pwned/":  true,
		"http://127.0.0.1:8080":          true,
		"http://localhost:9000/pp":       true,
		"http://api.pwnedpasswords.com":  false,
		"api.pwnedpasswords.com":         false,
		"https://user:pw@mirror.example": false,
		"https://mirror.example/?k=1":    false,
		"ftp://mirror.example":           false,
		"":                               false,
	} {
		if err := breached.CheckURL(u); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v", u, err)
		}
	}
}

// A failure's error goes to the logs (the caller warns and accepts the password): it
// names the service, never the range asked for, five characters of the password's
// SHA-1.
func TestErrorsDoNotNameTheRange(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Second)
	}))
	defer srv.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there now
	sum := sha1.Sum([]byte("any password"))
	prefix := strings.ToUpper(hex.EncodeToString(sum[:]))[:5]
	for name, url := range map[string]string{"slow": srv.URL, "unreachable": down.URL} {
		c, err := breached.New(url, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Breached(context.Background(), "any password")
		if err == nil || strings.Contains(strings.ToUpper(err.Error()), prefix) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A redirect is followed only to an address the service's URL could have been: https,
// or http on a loopback host. Following one from https to plain http would send the
// range (five characters of the password's SHA-1) in clear; it is an error instead,
// before any request to the new address, and one that does not name the range.
func TestRedirectsKeepToSafeAddresses(t *testing.T) {
	svc := pwnedtest.Start(t, map[string]int{"correct horse battery staple": 412})
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := svc.URL + r.URL.Path // a mirror on loopback: followed
		if strings.HasPrefix(r.URL.Path, "/clear/") {
			target = "http://mirror.invalid" + strings.TrimPrefix(r.URL.Path, "/clear")
		}
		http.Redirect(w, r, target, http.StatusFound)
	}))
	defer redirecting.Close()

	c, err := breached.New(redirecting.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Breached(context.Background(), "correct horse battery staple"); err != nil || !got {
		t.Fatalf("redirected to a loopback mirror: %v, %v", got, err)
	}
	c, err = breached.New(redirecting.URL+"/clear", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Breached(context.Background(), "correct horse battery staple")
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("redirected to plain http on another host: %v, want an error that says it refused the redirect", err)
	}
	sum := sha1.Sum([]byte("correct horse battery staple"))
	if prefix := strings.ToUpper(hex.EncodeToString(sum[:]))[:5]; strings.Contains(strings.ToUpper(err.Error()), prefix) {
		t.Fatalf("the error names the range: %v", err)
	}
}
