package freeport

import (
	"net"
	"strconv"
	"testing"
)

// The address is free, and below the ephemeral range, where port-0 listeners and
// outgoing connections are never given it.
func TestAddrIsFreeAndBelowTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	for range 20 {
		addr := Addr(t)
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(port)
		if low-span >= 1024 && (n >= low || n < low-span) {
			t.Fatalf("port %d, want within [%d, %d)", n, low-span, low)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is not free: %v", addr, err)
		}
		ln.Close()
	}
}
