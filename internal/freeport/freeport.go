// Package freeport gives tests an address on 127.0.0.1 for a process they start, which
// must be told its address before it listens.
//
// The usual way, listening on port 0 and closing the listener, hands out a port from the
// kernel's ephemeral range: between the close and the child's bind, any other server
// listening on port 0, or any outgoing connection, may be given the same port, and a
// readiness probe then talks to a stranger (a CI run saw a 404 from another test's
// server where the edge should have answered). Ports below the ephemeral range are never
// handed out that way, so a port picked there stays free unless another test picks the
// same one by chance, which Addr makes unlikely (random choice, bind checked).
package freeport

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// span is how many ports below the ephemeral range Addr picks from.
const span = 10000

// Addr returns "127.0.0.1:port" for a port that is free now and below the kernel's
// ephemeral range (on Linux, /proc/sys/net/ipv4/ip_local_port_range; elsewhere, below
// 32768), so that no port-0 listener or outgoing connection is given it meanwhile.
func Addr(t testing.TB) string {
	t.Helper()
	low := ephemeralLow()
	if low-span < 1024 {
		return anyPort(t)
	}
	for range 100 {
		addr := "127.0.0.1:" + strconv.Itoa(low-span+rand.IntN(span))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	return anyPort(t)
}

// ephemeralLow is the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				return n
			}
		}
	}
	return 32768
}

// anyPort is the usual way, for a machine whose ephemeral range leaves no room below.
func anyPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
