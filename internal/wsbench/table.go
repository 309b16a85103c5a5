package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/edgeauth/edgeauth/internal/benchenv"
)

func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}

func ratios(a, b []float64) string {
	var parts []string
	for i := range a {
		parts = append(parts, fmt.Sprintf("%.2f", a[i]/b[i]))
	}
	return strings.Join(parts, ", ")
}

// printTable writes the results as Markdown, the source of README's WebSocket rows.
func printTable(w io.Writer, e *env, o options, up upgradeResult, plain, auth memResult, lat latencyResult) {
	fmt.Fprintf(w, "\nWebSockets (`make bench-ws`; %s; %s; PostgreSQL %s; %d CPUs shared by the clients, 3 replicas, the WebSocket servers and PostgreSQL):\n\n",
		e.rev, runtime.Version(), e.pgVersion, runtime.NumCPU())
	fmt.Fprintln(w, "| measurement | figure |")
	fmt.Fprintln(w, "|---|---|")
	timed := fmt.Sprintf("%d sessions", lat.sessions)
	if len(lat.toClose) != lat.sessions {
		timed = fmt.Sprintf("%d of %d sessions: the others below", len(lat.toClose), lat.sessions)
	}
	fmt.Fprintf(w, "| revocation to close, across replicas (%s, logout through replica i+1, socket on a server following replica i) | p50 %s, p99 %s, max %s |\n",
		timed, benchenv.Millis(quantile(lat.toClose, 0.5)), benchenv.Millis(quantile(lat.toClose, 0.99)), benchenv.Millis(quantile(lat.toClose, 1)))
	fmt.Fprintf(w, "| push path: the revocation event on the committing replica's stream to the close frame | p50 %s, p99 %s, max %s |\n",
		benchenv.Millis(quantile(lat.push, 0.5)), benchenv.Millis(quantile(lat.push, 0.99)), benchenv.Millis(quantile(lat.push, 1)))
	fmt.Fprintf(w, "| the logout request itself (sent to answered) | p50 %s, p99 %s, max %s |\n", benchenv.Millis(quantile(lat.logout, 0.5)), benchenv.Millis(quantile(lat.logout, 0.99)), benchenv.Millis(quantile(lat.logout, 1)))
	if lat.wrong > 0 || lat.missed > 0 {
		fmt.Fprintf(w, "| sockets closed with another code or before their logout (not timed) / not closed within 30 s | %d / %d |\n", lat.wrong, lat.missed)
	}
	fmt.Fprintf(w, "| %d idle authorized sockets, server process memory per socket | RSS %.1f KiB, Go heap+stacks %.1f KiB (stacks %.1f KiB) |\n",
		auth.n, auth.rssPer/1024, auth.heapStacksPer/1024, auth.stacksPer/1024)
	fmt.Fprintf(w, "| %d idle plain gorilla/websocket sockets, same measure (baseline) | RSS %.1f KiB, Go heap+stacks %.1f KiB (stacks %.1f KiB) |\n",
		plain.n, plain.rssPer/1024, plain.heapStacksPer/1024, plain.stacksPer/1024)
	pr, ar := sum(up.plain)/float64(len(up.plain)), sum(up.auth)/float64(len(up.auth))
	fmt.Fprintf(w, "| upgrades per second, %d clients: authorized / plain (baseline) | %.0f / %.0f = %.2f (rounds: %s) |\n",
		o.concurrency, ar, pr, ar/pr, ratios(up.auth, up.plain))
	fmt.Fprintf(w, "\nMemory: the server process's VmRSS and Go MemStats.HeapInuse+StackInuse (after runtime.GC), before and after opening the sockets, divided by their number; each kind in a fresh process. Latency: from sending POST /auth/logout to the client reading the close frame (4001), one session at a time; the push path starts when this process, holding each replica's revocation stream, reads the revocation's event from the replica that committed it.\n")
}
