//go:build pprof

package main

// Built with -tags pprof (make bench-edge's -cpuprofile), hostdemo serves
// net/http/pprof on HOSTDEMO_PPROF's address, apart from the edge's listener, so a
// benchmark can profile the edge process under load. Release builds have none of it.

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("HOSTDEMO_PPROF"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
