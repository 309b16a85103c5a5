package main

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func ms(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// loadAverage is /proc/loadavg's first three fields, as uptime prints them.
func loadAverage() string {
	out, err := exec.Command("cat", "/proc/loadavg").Output()
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(out))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// printTable writes the results as Markdown, the source of README's Go edge rows.
func printTable(w io.Writer, e *env, o options, res results) {
	fmt.Fprintf(w, "\nGo edge (`make bench-edge`; %s; %s; %d CPUs shared by the clients, the proxies, the upstream, the control plane and PostgreSQL %s; load average at the end %s; %d interleaved rounds of %s per target):\n\n",
		e.rev, runtime.Version(), runtime.NumCPU(), e.pgVersion, loadAverage(), o.rounds, o.duration)
	fmt.Fprintln(w, "| clients | | requests/s | p50 | p99 | ÷ bare proxy (rounds) |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|")
	for _, n := range o.clients {
		bare := res[n][e.bare.name]
		for _, t := range append(append([]target{}, e.edges...), e.bare) {
			turns := res[n][t.name]
			var lat []time.Duration
			var total, baseTotal float64
			var rounds []string
			for i, tr := range turns {
				lat = append(lat, tr.lat...)
				total += tr.rate()
				baseTotal += bare[i].rate()
				rounds = append(rounds, fmt.Sprintf("%.2f", tr.rate()/bare[i].rate()))
			}
			ratio := "1"
			if t.engine != "" {
				ratio = fmt.Sprintf("%.2f (%s)", total/baseTotal, strings.Join(rounds, ", "))
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", n, t.name, thousands(total/float64(len(turns))), ms(quantile(lat, 0.5)), ms(quantile(lat, 0.99)), ratio)
		}
	}
	fmt.Fprintf(w, "\nEach client sends GET %s with the repeat visitor's access cookie on one keep-alive connection, one request at a time; every answer is the upstream's 200. requests/s is the mean over rounds; p50/p99 over every request of every round; the ratio is the edge's requests over the bare proxy's in the same rounds.\n", o.path)
}
