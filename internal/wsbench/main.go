// Command wsbench measures WebSocket session authorization (package wsauth) as a
// deployment runs it, every part a process of its own on this machine:
//
//   - three `edgeauth serve` replicas of the control plane, built from this tree, on one
//     PostgreSQL database (created for the run and dropped after it);
//   - WebSocket servers (this command again, with -serve): a wsauth.Server whose
//     sessionauth.Source follows one replica's keys and revocation stream;
//   - this process: the clients.
//
// It reports, in one run:
//
//   - revocation-to-close latency across replicas: one socket per session, each
//     through a server following replica i, its session signed out (POST /auth/logout)
//     through replica i+1; the time from sending the logout to the client reading the
//     close frame, p50/p99/max over every session, measured one session at a time;
//   - idle authorized sockets: memory per socket in the server process, from its RSS
//     (VmRSS) and from the Go runtime (HeapInuse + StackInuse after runtime.GC), before
//     and after opening them, beside the same number of plain gorilla/websocket sockets
//     (no authorization) in a fresh server process;
//   - upgrades per second: wsauth-authorized upgrades beside plain gorilla/websocket
//     upgrades on the same server, in interleaved rounds, as a ratio.
//
// It reports and never asserts timings. Run by `make bench-ws`; not part of `make test`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	sessions    int
	idle        int
	upgrades    int
	rounds      int
	concurrency int
	adminURL    string
}

func main() {
	var o options
	serveMode := flag.Bool("serve", false, "run as the WebSocket server process (internal: started by wsbench itself)")
	controlPlane := flag.String("control-plane", "", "with -serve: the control-plane replica to follow")
	origin := flag.String("origin", "", "with -serve: the allowed Origin")
	flag.IntVar(&o.sessions, "sessions", 1000, "sessions signed out one by one for the revocation-to-close latency")
	flag.IntVar(&o.idle, "idle", 10000, "idle sockets held open for the memory figures")
	flag.IntVar(&o.upgrades, "upgrades", 1500, "upgrades per kind per round for the upgrade rate")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds of the upgrade rate")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent clients opening sockets")
	flag.StringVar(&o.adminURL, "database-url", "", "a PostgreSQL server's URL to create the benchmark database on (default: EDGEAUTH_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres, else the development cluster)")
	flag.Parse()
	if *serveMode {
		if err := serve(*controlPlane, *origin); err != nil {
			fmt.Fprintf(os.Stderr, "wsbench -serve: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if o.sessions < 10 || o.idle < 1 || o.upgrades < 1 || o.rounds < 1 || o.concurrency < 1 {
		fmt.Fprintln(os.Stderr, "wsbench: -sessions >= 10, -idle, -upgrades, -rounds and -concurrency >= 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "wsbench: %v\n", err)
		os.Exit(1)
	}
}

// openFilesNeeded raises RLIMIT_NOFILE so this process can hold n sockets beside its
// own descriptors (the servers raise theirs the same way: Go lifts the soft limit to
// the hard one at start, so the hard limit is what counts; `ulimit -n` in the Makefile
// raises it where allowed).
func openFilesNeeded(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	want := uint64(n + 1024)
	if lim.Cur >= want {
		return nil
	}
	if lim.Max < want {
		lim.Max = want // allowed for root only
	}
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("%d sockets need %d open files, RLIMIT_NOFILE allows %d: raise it (ulimit -n) or lower -idle (%v)", n, want, lim.Cur, err)
	}
	return nil
}

func run(ctx context.Context, o options) error {
	if err := openFilesNeeded(o.idle); err != nil {
		return err
	}
	start := time.Now()
	e, err := setUp(ctx, o)
	if err != nil {
		if e != nil {
			e.tearDown()
		}
		return err
	}
	defer e.tearDown()
	fmt.Printf("wsbench: 3 replicas, %d sessions signed in (%s)\n", len(e.sessions), time.Since(start).Round(time.Second))

	up, err := e.upgradeRate(ctx, o)
	if err != nil {
		return fmt.Errorf("upgrade rate: %w", err)
	}
	plainMem, err := e.idleMemory(ctx, o, false)
	if err != nil {
		return fmt.Errorf("idle plain sockets: %w", err)
	}
	authMem, err := e.idleMemory(ctx, o, true)
	if err != nil {
		return fmt.Errorf("idle authorized sockets: %w", err)
	}
	lat, err := e.revocationLatency(ctx)
	if err != nil {
		return fmt.Errorf("revocation latency: %w", err)
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	printTable(os.Stdout, e, o, up, plainMem, authMem, lat)
	return nil
}
