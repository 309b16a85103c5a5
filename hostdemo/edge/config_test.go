package edge_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/internal/freeport"
	"github.com/edgeauth/edgeauth/verifier"
)

// A control plane reached with credentials in its URL (basic auth in front of it)
// keeps them out of the Configurator's errors, which the edge logs on every poll: a
// refused fetch, a document it cannot read.
func TestConfiguratorErrorsHoldNoURLPassword(t *testing.T) {
	const password = "Cp-Basic-Passw0rd"
	answers := []func(http.ResponseWriter){
		func(w http.ResponseWriter) { http.Error(w, "who are you", http.StatusUnauthorized) },
		func(w http.ResponseWriter) { io.WriteString(w, `{"issuer":"x","unknown_member":1}`) },
	}
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answers[n%len(answers)](w)
		n++
	}))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("edge", password)
	engine := verifier.NewNative()
	defer engine.Close(context.Background())
	c := &edge.Configurator{URL: u.JoinPath(edge.EdgeConfigPath).String(), Engine: engine}
	for range answers {
		_, err := c.Sync(context.Background())
		if err == nil {
			t.Fatal("Sync succeeded against a refusing control plane")
		}
		if strings.Contains(err.Error(), password) {
			t.Fatalf("the control plane's password is in the error: %v", err)
		}
		if !strings.Contains(err.Error(), u.Host) {
			t.Errorf("the error does not say which control plane: %v", err)
		}
	}
}

// A control plane URL with a secret in its query (a gateway's ?key=, sent with every
// fetch) keeps the secret out of the Configurator's errors, which the edge logs on
// every poll, when the fetch fails before any answer: http.Client's error quotes the
// request's URL, query and all.
func TestConfiguratorTransportErrorsHoldNoQueryValue(t *testing.T) {
	const secret = "Cp-Query-S3cret"
	engine := verifier.NewNative()
	defer engine.Close(context.Background())
	u := &url.URL{Scheme: "http", Host: freeport.Addr(t), Path: edge.EdgeConfigPath, RawQuery: "key=" + secret} // nothing listens there
	_, err := (&edge.Configurator{URL: u.String(), Engine: engine}).Sync(context.Background())
	if err == nil {
		t.Fatal("Sync succeeded with nothing listening")
	}
	if msg := err.Error(); strings.Contains(msg, secret) || !strings.Contains(msg, u.Host) || !strings.Contains(msg, "key=") {
		t.Fatalf("the error holds the query's value, or does not say which control plane: %s", strings.ReplaceAll(msg, secret, "<secret>"))
	}
}

// The control plane's edge configuration has one meaning or is refused: a member in
// another case or twice (the last one would win), or a second document after it,
// leaves the edge with the configuration it had, as the JS edge's module refuses it.
func TestConfiguratorReadsTheDocumentStrictly(t *testing.T) {
	good := `{"issuer":"https://cp.example","audience":"app","algorithms":["EdDSA"],"leeway_seconds":60,` +
		`"access_cookie":{"name":"__Host-access","path":"/","secure":true,"http_only":true,"same_site":"Lax"},` +
		`"refresh_cookie":{"name":"__Host-refresh","path":"/","secure":true,"http_only":true,"same_site":"Strict"},` +
		`"login_path":"/login","refresh_path":"/auth/refresh","logout_path":"/auth/logout"}`
	for _, tc := range []struct {
		name, doc string
		ok        bool
	}{
		{"as published", good, true},
		{"a member in another case", strings.Replace(good, `"audience":"app"`, `"audience":"app","Issuer":"https://other.example"`, 1), false},
		{"a member twice", strings.Replace(good, `"leeway_seconds":60`, `"leeway_seconds":60,"leeway_seconds":300`, 1), false},
		{"a cookie member in another case", strings.Replace(good, `"name":"__Host-access"`, `"name":"__Host-access","Name":"other"`, 1), false},
		{"a second document", good + ` {"issuer":"https://other.example"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.doc) }))
			defer srv.Close()
			engine := verifier.NewNative()
			defer engine.Close(context.Background())
			c := &edge.Configurator{URL: srv.URL + edge.EdgeConfigPath, Engine: engine,
				Local: verifier.LocalConfig{Protected: []verifier.ProtectedRoute{{Prefix: "/app/"}}}}
			_, err := c.Sync(context.Background())
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("applied")
			}
		})
	}
}
