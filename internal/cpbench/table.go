package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/internal/benchenv"
)

// clientRow is everything measured at one client count, summed over the rounds.
type clientRow struct {
	clients                        int
	http, inproc, update, rotation sample
	grouped                        sample // the rotation statement as the binary groups it
	lanes, group                   int    // grouped's connections and statements per transaction
	hasRotation                    bool
	// per-round ratios, to show the spread
	httpUpdate, httpRotation, httpInproc []float64
}

// groupedShape is how the binary's store groups c concurrent refreshes at most: its
// lanes (connections), each sending up to its group size per transaction.
func groupedShape(c int) (lanes, group int) {
	lanes, max := store.RefreshGroupSizes()
	lanes = min(lanes, c)
	return lanes, min(max, (c+lanes-1)/lanes)
}

func (e *env) measureClients(ctx context.Context, c int, o options) (clientRow, error) {
	row := clientRow{clients: c}
	row.lanes, row.group = groupedShape(c)
	hc := httpClient(c)
	defer hc.CloseIdleConnections()
	for r := range o.rounds {
		h, err := e.httpLoad(ctx, hc, c, o.duration)
		if err != nil {
			return row, err
		}
		u, _, err := e.pgbench(ctx, "update", updateScript, c, o.duration)
		if err != nil {
			return row, err
		}
		rot, ok, err := e.rotationPgbench(ctx, c, 1, o.duration)
		if err != nil {
			return row, err
		}
		grp, okGrouped, err := e.rotationPgbench(ctx, row.lanes, row.group, o.duration)
		if err != nil {
			return row, err
		}
		in, err := e.inProcess(ctx, c, o.duration)
		if err != nil {
			return row, err
		}
		row.http.add(h)
		row.update.add(u)
		row.inproc.add(in)
		row.httpUpdate = append(row.httpUpdate, h.rate()/u.rate())
		row.httpInproc = append(row.httpInproc, h.rate()/in.rate())
		line := fmt.Sprintf("%d clients, round %d: HTTP %.0f/s (p99 %s), in-process %.0f/s, pgbench UPDATE %.0f tps",
			c, r+1, h.rate(), benchenv.Millis(h.quantile(0.99)), in.rate(), u.rate())
		if ok {
			row.hasRotation = true
			row.rotation.add(rot)
			row.httpRotation = append(row.httpRotation, h.rate()/rot.rate())
			line += fmt.Sprintf(", pgbench rotation %.0f tps", rot.rate())
		}
		if okGrouped {
			row.grouped.add(grp)
			line += fmt.Sprintf(", grouped %.0f rotations/s", grp.rate())
		}
		fmt.Println(line + fmt.Sprintf("; HTTP / UPDATE %.2f", h.rate()/u.rate()))
	}
	return row, nil
}

func printTable(w io.Writer, e *env, o options, rows []clientRow, storms []stormResult) {
	fmt.Fprintf(w, "Control plane (`make bench-controlplane`; %s; PostgreSQL %s, %s; %d CPUs shared by the load generator, the binary and the server; binary's pool %d connections; %d interleaved rounds of %v, pgbench's after a %v warm-up of its fresh connections):\n\n",
		e.rev, e.pgVersion, e.pgSettings, e.cpus, e.pool, o.rounds, o.duration, pgbenchWarmUp)
	fmt.Fprintln(w, "| clients | | per second | p50 | p99 | max | ÷ pgbench UPDATE (rounds) |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		line := func(what string, s sample, ratio string) {
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s |\n", r.clients, what, thousands(s.rate()),
				benchenv.Millis(s.quantile(0.5)), benchenv.Millis(s.quantile(0.99)), benchenv.Millis(s.quantile(1)), ratio)
		}
		u := r.update.rate()
		line("refresh through the `edgeauth` binary over HTTP", r.http, ratio(r.http.rate()/u, r.httpUpdate))
		line("refresh in-process (`auth.Service.Refresh`: no HTTP, cookies, CSRF, JSON, logs, metrics)", r.inproc, ratio(r.inproc.rate()/u, nil))
		if r.hasRotation {
			line("pgbench: the service's rotation statement", r.rotation, ratio(r.rotation.rate()/u, nil))
			line(fmt.Sprintf("pgbench: that statement in pipelines of %d, one commit each, on %d connections (the most the binary groups; rotations/s, latency per pipeline)", r.group, r.lanes),
				r.grouped, ratio(r.grouped.rate()/u, nil))
		}
		line("pgbench: single-row UPDATE (baseline)", r.update, "1")
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "- %d clients: HTTP / in-process %s", r.clients, ratio(r.http.rate()/r.inproc.rate(), r.httpInproc))
		if r.hasRotation {
			fmt.Fprintf(w, "; HTTP / pgbench rotation statement %s", ratio(r.http.rate()/r.rotation.rate(), r.httpRotation))
		}
		fmt.Fprintln(w)
	}
	if len(storms) > 0 {
		var slow, med []time.Duration
		all200, one := true, true
		for _, s := range storms {
			slow, med = append(slow, s.slowest), append(med, s.median)
			all200 = all200 && s.ok == o.stormSize
			one = one && s.successors == 1 && s.genAfter == s.genBefore+1
		}
		verdict := "every answer 200 with the same successor, one rotation each"
		if !all200 || !one {
			verdict = "FAILED: not every answer 200 with one successor"
		}
		fmt.Fprintf(w, "- same-token storm (%d concurrent refreshes of one cookie through the binary, %d storms): %s; slowest answer %s, median %s\n",
			o.stormSize, len(storms), verdict, spread(slow), spread(med))
	}
}

func ratio(all float64, rounds []float64) string {
	s := fmt.Sprintf("%.2f", all)
	if len(rounds) > 1 {
		lo, hi := rounds[0], rounds[0]
		for _, x := range rounds {
			lo, hi = min(lo, x), max(hi, x)
		}
		s += fmt.Sprintf(" (%.2f–%.2f)", lo, hi)
	}
	return s
}

// spread is "a–b" over the values (one value alone as is).
func spread(ds []time.Duration) string {
	lo, hi := ds[0], ds[0]
	for _, d := range ds {
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo == hi {
		return benchenv.Millis(lo)
	}
	return strings.TrimSuffix(benchenv.Millis(lo), " ms") + "–" + benchenv.Millis(hi)
}

// thousands formats a rate with thousands separators.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
