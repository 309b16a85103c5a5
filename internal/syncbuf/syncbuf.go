// Package syncbuf is a bytes.Buffer that concurrent writers can share: the sink tests
// give loggers, handlers and child processes, and read while those still write.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects what is written to it, from any number of goroutines. The zero value
// is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
