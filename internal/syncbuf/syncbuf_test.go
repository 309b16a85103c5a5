package syncbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/edgeauth/edgeauth/internal/syncbuf"
)

// Concurrent writes all land, whole (run with -race to check the locking).
func TestConcurrentWrites(t *testing.T) {
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				b.Write([]byte("line\n"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got := strings.Count(b.String(), "line\n"); got != 800 {
		t.Fatalf("%d lines, want 800", got)
	}
	if len(b.String()) != 800*len("line\n") {
		t.Fatalf("%d bytes, want %d", len(b.String()), 800*len("line\n"))
	}
}
