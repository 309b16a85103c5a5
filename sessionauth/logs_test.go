package sessionauth_test

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/syncbuf"
	"github.com/edgeauth/edgeauth/sessionauth"
)

// A control plane reached with credentials in its URL (basic auth in front of it:
// http.Client sends the userinfo) keeps them out of every error and log line: a
// refused fetch, a refused stream, an unusable ControlPlane setting.
func TestControlPlaneCredentialsStayOutOfErrorsAndLogs(t *testing.T) {
	const password = "Cp-Basic-Passw0rd"
	f := newFakeCP(t)
	f.fail = true // every document and the stream answer 500
	u, err := url.Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("edge", password)
	var logs syncbuf.Buffer
	src, _ := newSource(t, f, newClock(), func(c *sessionauth.SourceConfig) {
		c.ControlPlane = u.String()
		c.Issuer = "" // the edge configuration is fetched too
		c.PollEvery = 50 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	var out strings.Builder
	if err := src.Sync(ctx); err == nil {
		t.Fatal("Sync against a failing control plane succeeded")
	} else {
		out.WriteString(err.Error() + "\n")
	}
	src.Run(ctx)
	if err := src.Fresh(); err != nil {
		out.WriteString(err.Error() + "\n")
	}
	for _, bad := range []string{"http://edge:" + password + "@auth.example.com:bad/", "edge:" + password + "@auth.example.com"} {
		if _, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: bad}); err == nil {
			t.Fatalf("ControlPlane %q accepted", bad)
		} else {
			out.WriteString(err.Error() + "\n")
		}
	}
	out.WriteString(logs.String())
	if !strings.Contains(out.String(), "500") {
		t.Fatalf("the failures were not reported:\n%s", out.String())
	}
	if strings.Contains(out.String(), password) {
		t.Fatalf("the control plane's password reached an error or the log:\n%s", out.String())
	}
}
