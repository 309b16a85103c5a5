package edge_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/wsauth"
)

// answerTable is verifier/testdata/edge-answers.json: requests and what every edge
// answers them, run here through the Go edge and in js/test/edge.test.mjs through the
// JS edge (one contract).
type answerTable struct {
	Routes      verifier.LocalConfig `json:"routes"`
	APIPrefixes []string             `json:"api_prefixes"`
	// WebSocketOrigins are allowed besides the edge's own origin (ownOrigin);
	// WebSocketRoutes are served by wsauth.Proxy behind Gate.RouteRules.
	WebSocketOrigins []string `json:"websocket_origins"`
	WebSocketRoutes  []string `json:"websocket_routes"`
	Cases            []struct {
		Name             string            `json:"name"`
		Method           string            `json:"method"`
		Path             string            `json:"path"`
		Access           string            `json:"access"`
		RefreshCookie    bool              `json:"refresh_cookie"`
		ControlPlaneDown bool              `json:"control_plane_down"`
		UpstreamDown     bool              `json:"upstream_down"`
		Headers          map[string]string `json:"headers"`
		Want             struct {
			Status       int               `json:"status"`
			Location     string            `json:"location"`
			Code         string            `json:"code"`
			CacheControl string            `json:"cache_control"`
			Clears       bool              `json:"clears"`
			Headers      map[string]string `json:"headers"`
		} `json:"want"`
	} `json:"cases"`
}

// ownOrigin is the edge's origin in the table: the JS test's requests are to it, and a
// Go edge lists it in wsauth.Config.AllowedOrigins.
const ownOrigin = "http://app.test"

func readAnswerTable(t *testing.T) answerTable {
	t.Helper()
	b, err := os.ReadFile("../../verifier/testdata/edge-answers.json")
	if err != nil {
		t.Fatal(err)
	}
	var table answerTable
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&struct {
		Description string `json:"description"`
		*answerTable
	}{answerTable: &table}); err != nil {
		t.Fatal(err)
	}
	if len(table.Cases) == 0 {
		t.Fatal("empty table")
	}
	return table
}

// The Go edge answers each request of the shared table as the table says, with either
// engine: the JS edge runs the same table (js/test/edge.test.mjs).
func TestGateAnswersTheSharedTable(t *testing.T) {
	table := readAnswerTable(t)
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		ctx := context.Background()
		now := time.Now().Unix()
		clock := func() time.Time { return time.Unix(now, 0) }
		quiet := slog.New(slog.DiscardHandler)
		cp := newStandIn(t, "https://auth.example.test", now)
		src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp.srv.URL, Engine: e, NoStream: true, Now: clock, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		conf := &edge.Configurator{URL: cp.srv.URL + edge.EdgeConfigPath, Engine: e, Source: src, Local: table.Routes}
		if _, err := conf.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := src.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("app")) })
		gate := &edge.Gate{Engine: e, Source: src, Upstream: app, Now: clock, Logger: quiet, APIPrefixes: table.APIPrefixes}
		// An edge whose control plane has been unreachable since it started: its source
		// has fetched nothing, so it has no current keys.
		unsynced, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp.srv.URL, Engine: verifier.NewNative(), NoStream: true, Now: clock, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		downGate := &edge.Gate{Engine: e, Source: unsynced, Upstream: app, Now: clock, Logger: quiet, APIPrefixes: table.APIPrefixes}
		// WebSocket routes, as hostdemo serves them: the proxy's Origin check, the route
		// rules, then the proxy's session check. No case reaches its upstream.
		withSockets := func(gate *edge.Gate, src *sessionauth.Source) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/", gate)
			checker, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{})
			if err != nil {
				t.Fatal(err)
			}
			sockets, err := wsauth.New(wsauth.Config{Checker: checker, AllowedOrigins: append([]string{ownOrigin}, table.WebSocketOrigins...), Logger: quiet, Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sockets.Close() })
			for _, p := range table.WebSocketRoutes {
				mux.Handle(p, gate.RouteRules(&wsauth.Proxy{Server: sockets, Upstream: &url.URL{Scheme: "ws", Host: "upstream.invalid"}}))
			}
			return mux
		}
		up, down := withSockets(gate, src), withSockets(downGate, unsynced)
		// upstream_down: the app behind a reverse proxy to a port nothing listens on, as
		// hostdemo proxies it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		deadApp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: ln.Addr().String()})
		deadGate := &edge.Gate{Engine: e, Source: src, Upstream: deadApp, Now: clock, Logger: quiet, APIPrefixes: table.APIPrefixes}
		deadApp.ErrorHandler = deadGate.ProxyError
		tokens := map[string]string{
			"valid":   cp.token("user-1", "c2Vzc2lvbi1vbmUtMTIzNDU2", []string{"member"}, nil),
			"expired": cp.token("user-1", "c2Vzc2lvbi1vbmUtMTIzNDU2", []string{"member"}, map[string]any{"iat": now - 700, "exp": now - 100}),
			"invalid": "not-a-token",
		}
		for _, c := range table.Cases {
			body := strings.NewReader("")
			if c.Method != http.MethodGet && c.Method != http.MethodHead {
				body = strings.NewReader("a=1")
			}
			req := httptest.NewRequest(c.Method, c.Path, body)
			for k, v := range c.Headers {
				req.Header.Set(k, v)
			}
			if tr := req.Header.Get("Trailer"); tr != "" {
				// As net/http's server reads a request that announces trailers.
				req.Trailer = http.Header{}
				for _, name := range strings.Split(tr, ",") {
					req.Trailer[http.CanonicalHeaderKey(strings.TrimSpace(name))] = nil
				}
			}
			var cookies []string
			if tok, ok := tokens[c.Access]; ok {
				cookies = append(cookies, "at="+tok)
			} else if c.Access == "smuggled" {
				cookies = append(cookies, "theme=dark, at="+tokens["valid"])
			} else if c.Access != "none" {
				t.Fatalf("%s: access %q", c.Name, c.Access)
			}
			if c.RefreshCookie {
				cookies = append(cookies, "rt=old")
			}
			if len(cookies) > 0 {
				req.Header.Set("Cookie", strings.Join(cookies, "; "))
			}
			rec := httptest.NewRecorder()
			switch {
			case c.UpstreamDown:
				deadGate.ServeHTTP(rec, req)
			case c.ControlPlaneDown:
				down.ServeHTTP(rec, req)
			default:
				up.ServeHTTP(rec, req)
			}
			res := rec.Result()
			want := c.Want
			if res.StatusCode != want.Status {
				t.Errorf("%s: status %d, want %d (Location %q, body %q)", c.Name, res.StatusCode, want.Status, res.Header.Get("Location"), rec.Body.String())
				continue
			}
			if got := res.Header.Get("Location"); got != want.Location {
				t.Errorf("%s: Location %q, want %q", c.Name, got, want.Location)
			}
			if want.CacheControl != "" && res.Header.Get("Cache-Control") != want.CacheControl {
				t.Errorf("%s: Cache-Control %q, want %q", c.Name, res.Header.Get("Cache-Control"), want.CacheControl)
			}
			for k, v := range want.Headers {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %s %q, want %q", c.Name, k, got, v)
				}
			}
			ct := res.Header.Get("Content-Type")
			switch {
			case want.Code != "":
				var e struct {
					Error struct {
						Code string `json:"code"`
					} `json:"error"`
				}
				if ct != "application/json" || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != want.Code {
					t.Errorf("%s: %s %q, want JSON with error.code %q", c.Name, ct, rec.Body.String(), want.Code)
				}
			case want.Status >= 400 && !strings.HasPrefix(ct, "text/plain"):
				t.Errorf("%s: Content-Type %q, want text/plain", c.Name, ct)
			}
			clears := false
			for _, sc := range res.Header.Values("Set-Cookie") {
				clears = clears || strings.Contains(sc, "Max-Age=0")
			}
			if clears != want.Clears {
				t.Errorf("%s: cookies cleared: %v, want %v (%q)", c.Name, clears, want.Clears, res.Header.Values("Set-Cookie"))
			}
		}
	})
}
