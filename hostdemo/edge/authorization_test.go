package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Authorization is a singleton field (RFC 9110): a request that sends it twice is
// malformed, so the gate refuses it (400; invalid_request on an API path, as the
// control plane and sessionauth answer it) rather than judge one copy and forward both to an upstream
// that may read the other; with a valid cookie too. (The JS edge never sees two: the
// Fetch API joins them into one value, which is then not a token.)
func TestGateRefusesAuthorizationSentTwice(t *testing.T) {
	served := false
	g, cp := newStandInGate(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served = true }))
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	tok := cp.token("ada", "s-1", []string{"member"}, nil)
	for name, h := range map[string]http.Header{
		"without a cookie": {"Authorization": {"Bearer " + tok, "Bearer " + tok}},
		"with the cookie":  {"Cookie": {"at=" + tok}, "Authorization": {"Bearer " + tok, "Basic YTpi"}},
	} {
		served = false
		req, _ := http.NewRequest("GET", srv.URL+"/app/x", nil)
		req.Header = h
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || served { // a page path: the refusal's message as text
			t.Errorf("%s: %d %q (upstream served: %v), want 400", name, res.StatusCode, b, served)
		}
	}
}
