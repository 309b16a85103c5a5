package main

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/internal/benchenv"
)

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
	fmt.Fprintln(w, "| clients | | requests/s | p50 | p99 | ÷ bare proxy (rounds) | ÷ bare proxy + buffer pool | proxy CPU per request |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, n := range o.clients {
		for _, t := range append(append([]target{}, e.edges...), e.pooled, e.bare) {
			turns := res[n][t.name]
			var lat []time.Duration
			var total float64
			var cpu time.Duration
			requests := 0
			for _, tr := range turns {
				lat = append(lat, tr.lat...)
				total += tr.rate()
				cpu += tr.cpu
				requests += tr.requests
			}
			vsBare, vsPooled := "1", ""
			switch t.name {
			case e.pooled.name:
				vsBare, vsPooled = ratio(turns, res[n][e.bare.name], true), "1"
			case e.bare.name:
				vsPooled = ratio(turns, res[n][e.pooled.name], false)
			default:
				vsBare, vsPooled = ratio(turns, res[n][e.bare.name], true), ratio(turns, res[n][e.pooled.name], false)
			}
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %.0f µs |\n", n, t.name, thousands(total/float64(len(turns))), benchenv.Millis(quantile(lat, 0.5)), benchenv.Millis(quantile(lat, 0.99)), vsBare, vsPooled, float64(cpu)/float64(requests)/1e3)
		}
	}
	fmt.Fprintf(w, "\nEach client sends GET %s with the repeat visitor's access cookie on one keep-alive connection, one request at a time; every answer is the upstream's 200. requests/s is the mean over rounds; p50/p99 over every request of every round; a ratio is the requests served over the baseline's in the same rounds (in brackets: the median and range of the rounds' own ratios). Proxy CPU per request: the proxy process's user+system CPU time (/proc/PID/stat, all threads) over the measured windows, divided by the requests it served: steadier than requests/s on a shared machine, though contention inflates it too.\n", o.path)
}

// ratio is a's requests over b's in the same rounds; with rounds, also the median and
// the range of the rounds' own ratios.
func ratio(a, b []turn, rounds bool) string {
	var ta, tb float64
	var each []float64
	for i := range a {
		ta += a[i].rate()
		tb += b[i].rate()
		each = append(each, a[i].rate()/b[i].rate())
	}
	if !rounds {
		return fmt.Sprintf("%.2f", ta/tb)
	}
	slices.Sort(each)
	return fmt.Sprintf("%.2f (median %.2f, %.2f–%.2f)", ta/tb, each[len(each)/2], each[0], each[len(each)-1])
}
