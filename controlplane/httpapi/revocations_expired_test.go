package httpapi_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExpiredRevocationListIsNotServed: a replica whose list has not been rebuilt
// (its listener cannot connect, the signer is stale, ...) must not keep presenting
// the last list as current once it has expired. A 304 for it would tell every edge
// holding that ETag that its list is current, so the edge would stay "fresh" for ever
// while revocations made through other replicas never reach it; answered 503, the
// edge keeps its list only until its maximum staleness, then fails closed.
func TestExpiredRevocationListIsNotServed(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := newEnv(t, envOptions{clock: c}) // no background loops: nothing rebuilds the list
	r := e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations"})
	if r.StatusCode != 200 {
		t.Fatalf("list: %d %s", r.StatusCode, r.body)
	}
	etag := r.Header.Get("Etag")
	if r := e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations", header: map[string]string{"If-None-Match": etag}}); r.StatusCode != 304 {
		t.Fatalf("current list revalidated: %d, want 304", r.StatusCode)
	}

	c.Advance(e.cfg.Revocations.Lifetime + time.Second) // past the list's exp
	for _, h := range []map[string]string{{"If-None-Match": etag}, nil} {
		r := e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations", header: h})
		if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" {
			t.Errorf("expired list (If-None-Match %q): %d %s, want 503 with Retry-After", h["If-None-Match"], r.StatusCode, r.body)
		}
	}
	// Nor does a stream start with it (HEAD: the answer's status, without the stream).
	if r := e.do(req{method: "HEAD", path: "/.well-known/edgeauth/revocations/stream"}); r.StatusCode != 503 {
		t.Errorf("stream over an expired list: %d, want 503", r.StatusCode)
	}
}

// TestStaleKeySetIsNotServed: a replica that has not reloaded its keys for longer than
// MaxStale may lack a key that another replica created since and that is about to
// sign. Served with the full max-age, that key set would sit in an edge's cache past
// the new key's activation (PrePublish > JWKSMaxAge + ReloadEvery assumes a served
// set is at most MaxStale old). It answers 503, as /readyz does, so the edge asks
// again (another replica) and keeps the set it has meanwhile.
func TestStaleKeySetIsNotServed(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := newEnv(t, envOptions{clock: c}) // no background loops: nothing reloads the keys
	if r := e.do(req{method: "GET", path: "/.well-known/jwks.json"}); r.StatusCode != 200 {
		t.Fatalf("jwks: %d %s", r.StatusCode, r.body)
	}
	c.Advance(e.app.Keys.MaxStale() + time.Second)
	r := e.do(req{method: "GET", path: "/.well-known/jwks.json"})
	if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("stale key set: %d %s (Cache-Control %q), want 503 with Retry-After", r.StatusCode, r.body, r.Header.Get("Cache-Control"))
	}
}

// TestRevocationListMaxAgeEndsAtExp: a list served close to its exp (rebuilds failed,
// or max_age set near lifetime) must not be cacheable past that exp: an edge or a
// shared cache would hold it as fresh while every edge refuses it as expired. Its
// max-age is what is left of the list's own lifetime when that is shorter, and a 304
// for it carries the same cap (it refreshes the cached copy's freshness).
func TestRevocationListMaxAgeEndsAtExp(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := newEnv(t, envOptions{clock: c}) // no background loops: nothing rebuilds the list
	path := "/.well-known/edgeauth/revocations"
	r := e.do(req{method: "GET", path: path})
	if r.StatusCode != 200 {
		t.Fatalf("list: %d %s", r.StatusCode, r.body)
	}
	if got, want := maxAge(t, r), int(e.cfg.Revocations.MaxAge/time.Second); got != want {
		t.Fatalf("fresh list: max-age=%d, want the configured %d", got, want)
	}
	etag := r.Header.Get("Etag")

	left := 10 * time.Second // less than revocations.max_age (30 s)
	c.Advance(e.app.Revocations.Expires().Sub(c.Now()) - left)
	for _, h := range []map[string]string{nil, {"If-None-Match": etag}} {
		r := e.do(req{method: "GET", path: path, header: h})
		if r.StatusCode != 200 && r.StatusCode != 304 {
			t.Fatalf("list near its exp (If-None-Match %q): %d %s", h["If-None-Match"], r.StatusCode, r.body)
		}
		if got := maxAge(t, r); got > int(left/time.Second) {
			t.Errorf("list %s before its exp (If-None-Match %q, %d): Cache-Control %q: cacheable past exp",
				left, h["If-None-Match"], r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
}

// maxAge returns the max-age of r's Cache-Control.
func maxAge(t *testing.T, r resp) int {
	t.Helper()
	cc := r.Header.Get("Cache-Control")
	_, v, ok := strings.Cut(cc, "max-age=")
	if !ok {
		t.Fatalf("Cache-Control %q: no max-age", cc)
	}
	v, _, _ = strings.Cut(v, ",")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		t.Fatalf("Cache-Control %q: %v", cc, err)
	}
	return n
}
