// Package pwnedtest serves the Pwned Passwords range API (k-anonymity) on 127.0.0.1
// for tests: the answers a breached-password check gets from the real service, made
// from a handful of passwords, each padded with decoy lines of count 0.
package pwnedtest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Service is a running range service.
type Service struct {
	URL string // base URL: ranges are URL + "/range/XXXXX"

	breached map[string]int // upper-case SHA-1 -> count
	mu       sync.Mutex
	asked    []Question
	down     bool
}

// Question is one request the service received.
type Question struct {
	Path    string // "/range/XXXXX"
	Padding string // the Add-Padding header
}

// Start serves the range API for passwords (each with its breach count; 0 lists it as
// a decoy) until the test ends.
func Start(t testing.TB, passwords map[string]int) *Service {
	s := &Service{breached: map[string]int{}}
	for pw, n := range passwords {
		sum := sha1.Sum([]byte(pw))
		s.breached[strings.ToUpper(hex.EncodeToString(sum[:]))] = n
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetDown makes every answer a 503 (down) or a range again.
func (s *Service) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// Asked returns the questions received so far.
func (s *Service) Asked() []Question {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Question(nil), s.asked...)
}

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.asked = append(s.asked, Question{r.URL.Path, r.Header.Get("Add-Padding")})
	down := s.down
	s.mu.Unlock()
	if down {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	prefix, ok := strings.CutPrefix(r.URL.Path, "/range/")
	if !ok || len(prefix) != 5 {
		http.NotFound(w, r)
		return
	}
	for digest, n := range s.breached {
		if strings.HasPrefix(digest, prefix) {
			fmt.Fprintf(w, "%s:%d\r\n", strings.ToLower(digest[5:]), n) // a client must not care about case
		}
	}
	for i := range 3 {
		fmt.Fprintf(w, "%035X:0\r\n", i) // decoys
	}
}
