package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/syncbuf"
)

// Stubs for the services a handler under test does not call.
type (
	stubIdentity    struct{ Identity }
	stubKeys        struct{ JWKSSource }
	stubRevocations struct{ RevocationSource }
)

// A panic's value can carry request data or a secret (a handler that panics with the
// request, an error wrapping a token): the log gets its type and the stack, never the
// value, and the client the usual JSON 500.
func TestPanicValueStaysOutOfTheLog(t *testing.T) {
	cfg := config.Default()
	cfg.PublicURL = "https://auth.example.test"
	cfg.Keys.KEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{Auth: stubIdentity{}, Keys: stubKeys{}, Revocations: stubRevocations{}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "Bearer eyJsecretZq7Wx9"
	for _, tc := range []struct {
		name  string
		value any
		typ   string
	}{
		{"string", "token " + secret, "string"},
		{"error", fmt.Errorf("refresh with %s: %w", secret, errors.New("boom")), "*fmt.wrapError"},
		{"request header", http.Header{"Authorization": {secret}}, "http.Header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &syncbuf.Buffer{}
			s.log = slog.New(slog.NewJSONHandler(logs, nil))
			s.handle("GET /panic/"+strings.ReplaceAll(tc.name, " ", "-"), func(http.ResponseWriter, *http.Request) error { panic(tc.value) })
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("GET", "/panic/"+strings.ReplaceAll(tc.name, " ", "-"), nil))
			var body struct{ Error struct{ Code string } }
			if w.Code != 500 || w.Header().Get("Content-Type") != "application/json" || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error.Code != "internal" {
				t.Fatalf("got %d %q %s, want the JSON 500", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			log := logs.String()
			if strings.Contains(log, "Zq7Wx9") || strings.Contains(w.Body.String(), "Zq7Wx9") {
				t.Fatalf("the panic value reached the log or the answer:\n%s\n%s", log, w.Body)
			}
			if !strings.Contains(log, `"panic_type":"`+tc.typ+`"`) || !strings.Contains(log, "panic_test.go") {
				t.Fatalf("the log lacks the panic's type or stack:\n%s", log)
			}
		})
	}
}
