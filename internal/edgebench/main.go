// Command edgebench measures the Go edge (hostdemo) as a deployment runs it, every part
// a process of its own on this machine:
//
//   - one `edgeauth serve` control plane built from this tree, with production settings
//     (https public URL, sealed keys), on a PostgreSQL database created for the run and
//     dropped after it; a user signs in through it for the repeat visitor's cookies;
//   - a tiny upstream app (this command with -serve-upstream): 200 and a short body;
//   - the hostdemo binary built from this tree, once per engine (--engine wasm and
//     --engine native), following the control plane (keys, revocation list and stream,
//     edge configuration) and forwarding to the upstream;
//   - the baseline: a bare httputil.ReverseProxy (this command with -serve-bare) to the
//     same upstream, with the same transport and server timeouts as hostdemo's proxy;
//     and beside it the same proxy lending its copy buffers from a pool as hostdemo's
//     does (hostdemo's proxy without the gate), so the gate's own cost shows too;
//   - this process: the clients, each on one keep-alive connection, sending GET on a
//     protected path with the repeat visitor's cookies (the access token is verified
//     once, then every request is a cache hit).
//
// Targets take turns in interleaved rounds (the order rotates each round) at each
// client count; it reports requests/s, p50/p99 and the ratios to both baselines in the
// same rounds. Every answer must be the upstream's 200: anything else fails the run.
// It reports and never asserts timings. Run by `make bench-edge`; not part of
// `make test`.
//
// With -cpuprofile PREFIX, hostdemo is built with the pprof tag (hostdemo/pprof.go) and,
// after the rounds, each engine's edge process and the pooled bare proxy are profiled
// under 16 clients' load into PREFIX-wasm.pprof, PREFIX-native.pprof and
// PREFIX-pooled-bare.pprof (CPU), with each process's allocations in
// PREFIX-*.allocs.pprof.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	clients     []int
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	databaseURL string
	cpuProfile  string
	profileFor  time.Duration
	path        string
}

func main() {
	var o options
	upstreamMode := flag.Bool("serve-upstream", false, "run as the tiny upstream app (internal: started by edgebench itself)")
	bareMode := flag.Bool("serve-bare", false, "run as the bare reverse proxy to -upstream (internal: started by edgebench itself)")
	upstream := flag.String("upstream", "", "with -serve-bare: the upstream's URL")
	pooled := flag.Bool("buffer-pool", false, "with -serve-bare: copy buffers from a pool, as hostdemo's proxy does")
	clients := flag.String("clients", "16,64", "concurrent clients, comma-separated")
	flag.IntVar(&o.rounds, "rounds", 12, "interleaved rounds per client count")
	flag.DurationVar(&o.duration, "duration", time.Second, "measured length of each target's turn in each round")
	flag.DurationVar(&o.warmup, "warmup", 200*time.Millisecond, "unmeasured load before each turn (the first opens the connections and warms the caches)")
	flag.StringVar(&o.databaseURL, "database-url", "", "a PostgreSQL server's URL to create the benchmark database on (default: EDGEAUTH_TEST_DATABASE_URL, else 127.0.0.1:5432, else the development cluster)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "after the rounds, profile each engine's edge process under load into PREFIX-ENGINE.pprof")
	flag.DurationVar(&o.profileFor, "profile-for", 10*time.Second, "with -cpuprofile: how long to profile each engine")
	flag.StringVar(&o.path, "path", "/app/", "the protected path requested (hostdemo's default routes protect /app/)")
	flag.Parse()

	switch {
	case *upstreamMode:
		fail(serveUpstream())
		return
	case *bareMode:
		fail(serveBare(*upstream, *pooled))
		return
	}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "edgebench: -clients %q: want positive integers, comma-separated\n", *clients)
			os.Exit(2)
		}
		o.clients = append(o.clients, n)
	}
	if o.rounds < 1 || o.duration <= 0 {
		fmt.Fprintln(os.Stderr, "edgebench: -rounds >= 1 and -duration > 0")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail(run(ctx, o))
}

func fail(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "edgebench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	start := time.Now()
	e, err := setUp(ctx, o)
	if e != nil {
		defer e.tearDown()
	}
	if err != nil {
		return err
	}
	fmt.Printf("edgebench: control plane, upstream, bare proxy and hostdemo (wasm, native) up (%s)\n", time.Since(start).Round(time.Second))
	res, err := e.measure(ctx, o)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	printTable(os.Stdout, e, o, res)
	if o.cpuProfile != "" {
		for _, t := range append([]target{e.pooled}, e.edges...) {
			file := o.cpuProfile + "-" + t.engine + ".pprof"
			if err := e.profile(ctx, t, o, file); err != nil {
				return fmt.Errorf("profiling %s: %w", t.name, err)
			}
			fmt.Printf("edgebench: CPU profile of %s under %d clients for %s: %s\n", t.name, 16, o.profileFor, file)
		}
	}
	return nil
}
