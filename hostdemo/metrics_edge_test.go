package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/pgtest"
)

// requestSeries matches one series of the control plane's request histogram: its
// method and route labels (the same pattern as the edgeauth binary's own test).
var requestSeries = regexp.MustCompile(`^edgeauth_http_request_duration_seconds_count\{code="[^"]*",method="([^"]*)",route="([^"]*)"\} `)

// Issue 7, item 7, through the edge: made-up HTTP methods (short ones, lower-case ones,
// 10 KB ones) sent to the hostdemo binary in front of an `edgeauth serve` binary, on
// the paths the edge forwards to the control plane (/auth/, /.well-known/) and on the
// ones it decides itself (protected, role-protected, public), add no series to the
// control plane's /metrics, read from its operations listener, within the bounds the
// binary's direct test uses (controlplane/cmd/edgeauth,
// TestBinaryMetricsAreBoundedAndOffThePublicListener). The edge itself exposes nothing
// that grows with them: the operations paths a scraper would try answer the same
// before and after, and its log does not repeat what the clients sent.
func TestBinaryEdgeMetricsStayBounded(t *testing.T) {
	db := pgtest.NewMigratedDatabase(t)
	cpAddr, opsAddr := freeAddr(t), freeAddr(t)
	cp := startProc(t, "edgeauth", []string{"EDGEAUTH_DATABASE_URL=" + db,
		"EDGEAUTH_KEYS__KEK=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "EDGEAUTH_PUBLIC_URL=" + publicOrigin,
		"EDGEAUTH_LISTEN=" + cpAddr, "EDGEAUTH_OPS_LISTEN=" + opsAddr}, edgeauthBinary(t), "serve", "--migrate=false")
	cp.waitHTTP("http://"+cpAddr+"/readyz", func(s int) bool { return s == http.StatusOK })
	edgeAddr := freeAddr(t)
	edgeURL := "http://" + edgeAddr
	e := startProc(t, "hostdemo", nil, binary, "--control-plane", "http://"+cpAddr, "--listen", edgeAddr)
	e.waitHTTP(edgeURL+"/", func(s int) bool { return s != http.StatusServiceUnavailable })

	hc := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 16},
	}
	send := func(base, method, path string, h http.Header) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%.40s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}

	// What the edge answers on the paths where a process would expose its state.
	opsPaths := []string{"/metrics", "/debug/vars", "/debug/pprof/", "/auth/metrics", "/.well-known/metrics"}
	edgeOps := func() map[string]string {
		got := map[string]string{}
		for _, p := range opsPaths {
			st, body := send(edgeURL, http.MethodGet, p, nil)
			got[p] = strconv.Itoa(st) + " " + body
		}
		return got
	}
	before, logBefore := edgeOps(), len(e.logs.String())

	long := strings.Repeat("M", 10<<10)
	forwarded := 0 // requests the edge passed on to the control plane
	for i := range 300 {
		method := "X" + strconv.Itoa(i)
		if i%50 == 0 {
			method = long + strconv.Itoa(i)
		}
		n := strconv.Itoa(i)
		origin := http.Header{"Origin": {"https://x" + n + ".example"}}
		send(edgeURL, method, "/auth/login/"+n, origin)
		send(edgeURL, strings.ToLower(method), "/.well-known/jwks.json", nil)
		send(edgeURL, method, "/auth/session", origin)
		forwarded += 3
		send(edgeURL, method, "/app/"+n, origin)                 // protected: any signed-in user
		send(edgeURL, strings.ToLower(method), "/admin/"+n, nil) // protected: role admin
		send(edgeURL, method, "/public/"+n, origin)              // public: the demo app
	}

	st, m := send("http://"+opsAddr, http.MethodGet, "/metrics", nil)
	if st != http.StatusOK {
		t.Fatalf("/metrics on the operations listener: %d", st)
	}
	if len(m) > 64<<10 {
		t.Fatalf("metrics grew to %d bytes", len(m))
	}
	series, other := 0, false
	for _, line := range strings.Split(m, "\n") {
		sm := requestSeries.FindStringSubmatch(line)
		if sm == nil {
			continue
		}
		series++
		switch sm[1] {
		case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE":
		case "other":
			other = true
		default:
			t.Errorf("method label %.40q", sm[1])
		}
		if !strings.HasPrefix(sm[2], "GET /") && !strings.HasPrefix(sm[2], "POST /") && !strings.HasPrefix(sm[2], "DELETE /") && sm[2] != "unmatched" {
			t.Errorf("route label %.40q", sm[2])
		}
	}
	if series == 0 || series > 10 {
		t.Fatalf("%d request series after %d made-up requests through the edge:\n%.4000s", series, forwarded, m)
	}
	if !other {
		// The flood must have reached the control plane, or the bounds prove nothing.
		t.Fatalf("no series with method \"other\": the edge's made-up requests never reached the control plane:\n%.4000s", m)
	}

	after := edgeOps()
	for _, p := range opsPaths {
		if after[p] != before[p] {
			t.Errorf("GET %s on the edge changed with the made-up requests:\nbefore %.200q\nafter  %.200q", p, before[p], after[p])
		}
	}
	if logged := e.logs.String()[logBefore:]; strings.Contains(logged, "X299") || strings.Contains(logged, long[:64]) {
		t.Errorf("the edge logged the made-up methods (%d bytes):\n%.2000s", len(logged), logged)
	}
}
