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
