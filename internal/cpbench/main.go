// Command cpbench measures the control plane's refresh path as users get it: the
// edgeauth binary, built from this tree and run with production settings (not --dev:
// https public URL, encrypted keys, JSON logs of every request, metrics on an
// operations listener), refreshing over HTTP with real cookies and CSRF headers, beside
// pgbench on the same PostgreSQL server in the same run:
//
//   - pgbench running a single-row UPDATE by primary key (the cheapest durable write
//     one round trip can make: the ceiling for any one-commit operation);
//   - pgbench running the service's exact rotation statement (store.RefreshSQL) on real
//     sessions, which separates the cost of the SQL from the cost of the service, once
//     one statement per transaction and once in pipelines of one commit each, shaped as
//     the binary groups the refreshes that queue while its lanes are busy (the most it
//     groups: store.RefreshGroupSizes);
//   - the same service called in-process (auth.Service.Refresh on app.New's service, no
//     HTTP, cookies, CSRF, JSON, logs or metrics), on a pool of the binary's size.
//
// Each client count runs in interleaved rounds (HTTP, pgbench, in-process, then again),
// so a change in the shared machine's load hits every side alike. Then the same-token
// storm: many concurrent refreshes of one cookie through the binary, each on its own
// connection (tabs waking together), checking that every answer is 200 with the same
// successor and that the session rotated once.
//
// The PostgreSQL server is a private cluster started for the run with PostgreSQL's
// default settings (fsync and synchronous_commit on) except max_connections, unless
// -database-url names an existing server. The results end as a Markdown table, the
// source of the control-plane rows of README.md's "Speed" section.
//
// Run by `make bench-controlplane`; not part of `make test`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/internal/benchenv"
)

type options struct {
	clients     []int
	rounds      int
	duration    time.Duration // per measurement per round
	storms      int
	stormSize   int
	pool        int // the binary's database_pool_size (0: its default)
	databaseURL string
	keep        bool
}

func main() {
	var o options
	clients := flag.String("clients", "16,64", "concurrent clients, comma-separated")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds per client count")
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "length of each measurement in each round")
	flag.IntVar(&o.storms, "storms", 5, "same-token storms")
	flag.IntVar(&o.stormSize, "storm-size", 100, "concurrent refreshes of one cookie per storm")
	flag.IntVar(&o.pool, "pool", 0, "the binary's database_pool_size (0: its default, sized from the machine)")
	flag.StringVar(&o.databaseURL, "database-url", "", "an existing PostgreSQL server's URL (a database edgeauth_bench_* is created and dropped on it); default: a private server")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binary, server logs, pgbench scripts)")
	flag.Parse()
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "cpbench: -clients: %q is not a positive number\n", f)
			os.Exit(2)
		}
		o.clients = append(o.clients, n)
	}
	if o.rounds < 1 || o.duration < 500*time.Millisecond || o.storms < 0 || o.stormSize < 2 || o.pool < 0 {
		fmt.Fprintln(os.Stderr, "cpbench: -rounds >= 1, -duration >= 500ms, -storms >= 0, -storm-size >= 2, -pool >= 0")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "cpbench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	e, err := setUp(ctx, o)
	if err != nil {
		return err
	}
	defer e.tearDown()
	fmt.Printf("edgeauth %s, %s; PostgreSQL %s (%s); load generator, binary and server share %d CPUs\n",
		e.rev, e.goVersion, e.pgVersion, e.pgSettings, e.cpus)
	fmt.Printf("binary: database pool %d connections; %d rounds of %v per measurement\n\n", e.pool, o.rounds, o.duration)

	var rows []clientRow
	for _, c := range o.clients {
		r, err := e.measureClients(ctx, c, o)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	var storms []stormResult
	for i := range o.storms {
		s, err := e.storm(ctx, o.stormSize)
		if err != nil {
			return fmt.Errorf("storm %d: %w", i+1, err)
		}
		fmt.Printf("storm %d: %d x %d, %d successor(s), session generation %d -> %d, slowest answer %v\n",
			i+1, s.ok, 200, s.successors, s.genBefore, s.genAfter, benchenv.Millis(s.slowest))
		storms = append(storms, s)
	}
	fmt.Println()
	printTable(os.Stdout, e, o, rows, storms)
	return nil
}
