package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const userAgent = "Mozilla/5.0 (X11; Linux x86_64) edgebench/1"

// turn is one target's measured load in one round.
type turn struct {
	requests int
	elapsed  time.Duration
	lat      []time.Duration
	cpu      time.Duration // the proxy process's CPU time (user+system) in the window
}

// cpuPerRequest is the proxy process's CPU time per request served.
func (t turn) cpuPerRequest() time.Duration {
	if t.requests == 0 {
		return 0
	}
	return t.cpu / time.Duration(t.requests)
}

// processCPU is a process's CPU time so far, all threads, user and system
// (/proc/PID/stat utime and stime, in clock ticks of 1/100 s).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, b)
	}
	var ticks int64
	for _, s := range f[11:13] { // fields 14 and 15
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

func (t turn) rate() float64 { return float64(t.requests) / t.elapsed.Seconds() }

// results holds every turn: results[clients][target name][round].
type results map[int]map[string][]turn

// measure runs the interleaved rounds: at each client count, every target takes a turn
// per round, in an order that rotates each round. A fresh visitor signs in for each
// client count (an access token lives 10 minutes).
func (e *env) measure(ctx context.Context, o options) (results, error) {
	res := results{}
	targets := append([]target{e.bare, e.pooled}, e.edges...)
	for _, n := range o.clients {
		cookie, err := e.login(ctx, o.path)
		if err != nil {
			return nil, err
		}
		res[n] = map[string][]turn{}
		// A client per target for all rounds: its connections, opened in the first
		// warm-up, wait idle (well within every proxy's idle timeout) for the next turn.
		clients := map[string]*http.Client{}
		for _, t := range targets {
			clients[t.name] = httpClient(n)
			defer clients[t.name].CloseIdleConnections()
		}
		for r := range o.rounds {
			for i := range targets {
				t := targets[(i+r)%len(targets)]
				tr, err := load(ctx, clients[t.name], t, o.path, cookie, n, o.warmup, o.duration)
				if err != nil {
					return nil, fmt.Errorf("%s, %d clients: %w", t.name, n, err)
				}
				res[n][t.name] = append(res[n][t.name], tr)
				fmt.Fprintf(os.Stderr, "edgebench: %d clients, round %d: %-40s %8.0f req/s\n", n, r+1, t.name, tr.rate())
			}
		}
	}
	return res, nil
}

// load runs n clients against t for warmup, then for d measured: each client sends GET
// path with cookie on its own keep-alive connection of hc, one request at a time. Any
// answer but 200 is an error.
func load(ctx context.Context, hc *http.Client, t target, path, cookie string, n int, warmup, d time.Duration) (turn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		lats  = make([][]time.Duration, n)
		begin = time.Now()
		count = begin.Add(warmup)
		end   = count.Add(d)
	)
	var cpu0, cpu1 time.Duration
	var cpuErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(time.Until(count))
		cpu0, cpuErr = processCPU(t.Cmd.Process.Pid)
		time.Sleep(time.Until(end))
		if cpuErr == nil {
			cpu1, cpuErr = processCPU(t.Cmd.Process.Pid)
		}
	}()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, err := client(ctx, hc, t.base+path, cookie, count, end)
			if err != nil {
				once.Do(func() { first = err; cancel() })
			}
			lats[i] = lat
		}()
	}
	wg.Wait()
	if first != nil {
		return turn{}, first
	}
	if cpuErr != nil {
		return turn{}, cpuErr
	}
	out := turn{elapsed: d, cpu: cpu1 - cpu0}
	for _, l := range lats {
		out.lat = append(out.lat, l...)
	}
	out.requests = len(out.lat)
	return out, nil
}

// httpClient is a keep-alive client with up to n connections, following no redirects.
func httpClient(n int) *http.Client {
	tr := &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n, IdleConnTimeout: time.Minute, DisableCompression: true}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// client is one browser tab: requests one after the other until end, latencies kept
// for those started after count.
func client(ctx context.Context, hc *http.Client, u, cookie string, count, end time.Time) ([]time.Duration, error) {
	var lat []time.Duration
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	req.Header.Set("Accept-Language", "en-US,en;q=0.5")
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return lat, nil
		}
		resp, err := hc.Do(req)
		if err != nil {
			return lat, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return lat, err
		}
		if resp.StatusCode != http.StatusOK {
			return lat, fmt.Errorf("GET %s: %s, want 200", u, resp.Status)
		}
		if !t0.Before(count) { // counted: started in the measured window
			lat = append(lat, time.Since(t0))
		}
	}
}

func quantile(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(q * float64(len(s)-1))
	return s[i]
}

// profile loads edge t with 16 clients while fetching a CPU profile of its process
// (hostdemo built with the pprof tag) into file.
func (e *env) profile(ctx context.Context, t target, o options, file string) error {
	cookie, err := e.login(ctx, o.path)
	if err != nil {
		return err
	}
	loaded := make(chan error, 1)
	go func() {
		hc := httpClient(16)
		defer hc.CloseIdleConnections()
		tr, err := load(ctx, hc, t, o.path, cookie, 16, 0, o.profileFor+time.Second)
		if err == nil {
			fmt.Printf("edgebench: profiling %s: %.0f req/s, %.0f µs CPU per request\n", t.name, tr.rate(), float64(tr.cpuPerRequest())/1e3)
		}
		loaded <- err
	}()
	time.Sleep(500 * time.Millisecond)
	u := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", t.pprof, int(o.profileFor.Seconds()))
	if err := fetch(ctx, u, file); err != nil {
		<-loaded
		return err
	}
	if err := <-loaded; err != nil {
		return err
	}
	// Every allocation since the process started, nearly all of it under load.
	return fetch(ctx, "http://"+t.pprof+"/debug/pprof/allocs", strings.TrimSuffix(file, ".pprof")+".allocs.pprof")
}

// fetch writes what GET u answers to file.
func fetch(ctx context.Context, u, file string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s %s", u, resp.Status, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
