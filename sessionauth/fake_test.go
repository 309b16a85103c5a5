package sessionauth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeCP is a control plane reduced to its two published documents, for the failure
// modes a real one does not show on demand: slowness, outages, forged kids, odd
// documents. Its keys and lists are real (Ed25519, signed like the control plane's).
type fakeCP struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string

	mu       sync.Mutex
	keys     []fakeKey // published; keys[0] signs
	sids     []string
	listIat  int64
	before   int64         // the list's cutoff (0: none)
	fail     bool          // answer 500
	failList bool          // answer 500 to the revocation list only
	edge     []byte        // the edge configuration document (404 while nil)
	gate     chan struct{} // when not nil, requests wait for it to close

	jwksHits, listHits, notModified atomic.Int64
}

type fakeKey struct {
	kid  string
	priv ed25519.PrivateKey
}

func newFakeKey(t *testing.T, kid string) fakeKey {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return fakeKey{kid: kid, priv: priv}
}

func newFakeCP(t *testing.T) *fakeCP {
	f := &fakeCP{t: t, issuer: "https://auth.example.test", keys: []fakeKey{newFakeKey(t, "k1")}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCP) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	gate, fail := f.gate, f.fail || (f.failList && r.URL.Path == "/.well-known/edgeauth/revocations")
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if fail {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	var body []byte
	switch r.URL.Path {
	case "/.well-known/jwks.json":
		f.jwksHits.Add(1)
		body = f.jwks()
	case "/.well-known/edgeauth/revocations":
		f.listHits.Add(1)
		body = f.list()
	case "/.well-known/edgeauth/edge-config":
		f.mu.Lock()
		body = f.edge
		f.mu.Unlock()
		if body == nil {
			http.NotFound(w, r)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		f.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body)
}

func (f *fakeCP) jwks() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []map[string]string
	for _, k := range f.keys {
		keys = append(keys, map[string]string{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": k.kid,
			"x": base64.RawURLEncoding.EncodeToString(k.priv.Public().(ed25519.PublicKey))})
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// list is the current signed revocation list; its iat is fixed until revoke changes it.
func (f *fakeCP) list() []byte {
	f.mu.Lock()
	sids, iat, before := append([]string{}, f.sids...), f.listIat, f.before
	f.mu.Unlock()
	if iat == 0 {
		iat = time.Now().Unix()
		f.mu.Lock()
		f.listIat = iat
		f.mu.Unlock()
	}
	c := jwt.MapClaims{"iss": f.issuer, "iat": iat, "exp": iat + 300, "sids": sids}
	if before != 0 {
		c["before"] = before
	}
	return []byte(f.sign("edgeauth-revocations+jwt", c))
}

func (f *fakeCP) revoke(sid string) {
	f.mu.Lock()
	f.sids = append(f.sids, sid)
	f.listIat = max(f.listIat+1, time.Now().Unix())
	f.mu.Unlock()
}

func (f *fakeCP) sign(typ string, claims jwt.Claims) string {
	f.mu.Lock()
	k := f.keys[0]
	f.mu.Unlock()
	return signWith(f.t, k, typ, claims)
}

func signWith(t *testing.T, k fakeKey, typ string, claims jwt.Claims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = k.kid
	tok.Header["typ"] = typ
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const audience = "https://app.example.test"

// token is an access token for session sid, valid for ten minutes from now.
func (f *fakeCP) token(sid string, now time.Time) string {
	return f.sign("at+jwt", jwt.MapClaims{"iss": f.issuer, "aud": audience, "sub": "user-1", "sid": sid,
		"roles": []string{"reader"}, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"sess_exp": now.Add(24 * time.Hour).Unix()})
}

// hold makes every request wait until the returned function is called.
func (f *fakeCP) hold() (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.gate = ch
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.gate = nil
			f.mu.Unlock()
			close(ch)
		})
	}
}

func (f *fakeCP) setFail(v bool) {
	f.mu.Lock()
	f.fail = v
	f.mu.Unlock()
}

// clock is a settable clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
