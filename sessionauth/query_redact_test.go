package sessionauth_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/freeport"
	"github.com/edgeauth/edgeauth/internal/syncbuf"
	"github.com/edgeauth/edgeauth/sessionauth"
)

// A control plane URL with a secret in its query (a gateway's ?key= in front of it,
// sent with every fetch) keeps the secret out of the errors and log lines of fetches
// that fail before any answer (connection refused): http.Client's error quotes the
// request's URL, query and all.
func TestControlPlaneQueryStaysOutOfTransportErrors(t *testing.T) {
	const secret = "Cp-Query-S3cret"
	cp := "http://" + freeport.Addr(t) + "/?key=" + secret // nothing listens there
	var out strings.Builder
	for _, issuer := range []string{"", "https://auth.example.com"} { // the edge configuration, then the keys
		src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp, Issuer: issuer, NoStream: true,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Sync(context.Background()); err == nil {
			t.Fatal("Sync with nothing listening succeeded")
		} else {
			out.WriteString(err.Error() + "\n")
		}
	}

	// The revocation stream's failure is logged.
	logs := &lineWaiter{want: "revocation stream failed", seen: make(chan struct{})}
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp, Issuer: "https://auth.example.com",
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { src.Run(ctx); close(ran) }()
	select {
	case <-logs.seen:
	case <-time.After(20 * time.Second):
		t.Error("the stream's failure was not logged")
	}
	cancel()
	<-ran
	out.WriteString(logs.String())

	if !strings.Contains(out.String(), "connection refused") || !strings.Contains(out.String(), "key=") {
		t.Fatalf("the failures were not reported with the URL's query keys:\n%s", out.String())
	}
	if strings.Contains(out.String(), secret) {
		t.Fatalf("the control plane URL's query value reached an error or the log:\n%s",
			strings.ReplaceAll(out.String(), secret, "<secret>"))
	}
}

// lineWaiter is a log sink that closes seen once a line holding want is written.
type lineWaiter struct {
	syncbuf.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *lineWaiter) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Contains(string(p), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}
