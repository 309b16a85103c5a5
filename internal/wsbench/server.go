package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/gorilla/websocket"
)

// serve is the WebSocket server process (wsbench -serve): a wsauth.Server whose
// sessionauth.Source follows one control-plane replica (keys, revocation stream), as an
// application's WebSocket server would run it. It answers
//
//	/auth   upgrades authorized by wsauth (Origin, access cookie), then an idle reader
//	/plain  plain gorilla/websocket upgrades without authorization, the same reader
//	/stats  JSON: open sockets, Go heap and stacks in use, RSS (after a GC)
//
// and prints its address on stdout once the source holds keys and a list.
func serve(controlPlane, origin string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: controlPlane, Logger: quiet})
	if err != nil {
		return err
	}
	if err := src.Sync(ctx); err != nil {
		return err
	}
	go src.Run(ctx)
	chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{})
	if err != nil {
		return err
	}
	srv, err := wsauth.New(wsauth.Config{Checker: chk, AllowedOrigins: []string{origin}, Logger: quiet})
	if err != nil {
		return err
	}
	defer srv.Close()
	var plainOpen atomic.Int64
	plain := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	// Both kinds hold a socket the same way: one goroutine reading until it ends.
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		c, err := srv.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		c, err := plain.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		plainOpen.Add(1)
		defer plainOpen.Add(-1)
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		json.NewEncoder(w).Encode(stats{
			Auth: srv.Count(), Plain: int(plainOpen.Load()), Goroutines: runtime.NumGoroutine(),
			HeapStacks: m.HeapInuse + m.StackInuse, Stacks: m.StackInuse, RSS: rss(), Streaming: src.Streaming(),
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	fmt.Println(ln.Addr().String())
	return hs.Serve(ln)
}

// stats is what /stats answers.
type stats struct {
	Auth       int    `json:"auth"`        // sockets open on /auth (wsauth.Server.Count)
	Plain      int    `json:"plain"`       // sockets open on /plain
	Goroutines int    `json:"goroutines"`  // runtime.NumGoroutine
	HeapStacks uint64 `json:"heap_stacks"` // MemStats.HeapInuse + StackInuse, after runtime.GC
	Stacks     uint64 `json:"stacks"`      // MemStats.StackInuse
	RSS        uint64 `json:"rss"`         // VmRSS of /proc/self/status, bytes
	Streaming  bool   `json:"streaming"`   // the source holds the revocation stream
}

// rss is the process's resident set size (0 where /proc is missing).
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
