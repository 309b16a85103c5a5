package main

import (
	"net"
	"slices"
	"testing"
)

// The default WebSocket origins are what a browser sends for this edge's address. On an
// unspecified address (--listen :8080) that is no "http://[::]:8080" but the loopback
// names a browser on this machine uses.
func TestDefaultWebSocketOrigins(t *testing.T) {
	for listen, want := range map[string][]string{
		"127.0.0.1:8000": {"http://127.0.0.1:8000"},
		"[::1]:8000":     {"http://[::1]:8000"},
		"0.0.0.0:8080":   {"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"},
		"[::]:8080":      {"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"},
	} {
		addr, err := net.ResolveTCPAddr("tcp", listen)
		if err != nil {
			t.Fatal(err)
		}
		if got := defaultWebSocketOrigins(addr); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", listen, got, want)
		}
	}
}
