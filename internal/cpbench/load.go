package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
)

// warmUp is the start of every measurement that is not counted (connections made,
// caches filled).
const warmUp = 200 * time.Millisecond

// sample is one side's measurement: how many operations completed in how long, and
// each one's latency.
type sample struct {
	ops     int
	elapsed time.Duration
	lat     []time.Duration
}

func (s *sample) add(o sample) {
	s.ops += o.ops
	s.elapsed += o.elapsed
	s.lat = append(s.lat, o.lat...)
}

func (s sample) rate() float64 { return float64(s.ops) / s.elapsed.Seconds() }

// quantile returns the q-quantile of the latencies (sorting them).
func (s sample) quantile(q float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	slices.Sort(s.lat)
	i := int(q*float64(len(s.lat))+0.5) - 1
	return s.lat[min(max(i, 0), len(s.lat)-1)]
}

// concurrently runs client(i, deadline) for i in [0, n) after a warm-up, collects
// what each measured, and reports the first error.
func concurrently(ctx context.Context, n int, d time.Duration, client func(ctx context.Context, i int, count time.Time, end time.Time) ([]time.Duration, error)) (sample, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	count, end := start.Add(warmUp), start.Add(warmUp+d)
	lats := make([][]time.Duration, n)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := client(ctx, i, count, end)
			if err != nil {
				once.Do(func() { first = err; cancel() })
			}
			lats[i] = l
		}()
	}
	wg.Wait()
	if first != nil {
		return sample{}, first
	}
	s := sample{elapsed: d}
	for _, l := range lats {
		s.lat = append(s.lat, l...)
	}
	s.ops = len(s.lat)
	return s, nil
}

// httpClient is a keep-alive client with a connection per concurrent client.
func httpClient(conns int) *http.Client {
	return &http.Client{
		Transport:     &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// refreshHTTP sends one refresh as the browser does (POST with both cookies, same-origin
// fetch headers) and returns the status and, on success, the new cookies in s.
func (e *env) refreshHTTP(ctx context.Context, hc *http.Client, s *session) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+"/auth/refresh", nil)
	if err != nil {
		return 0, err
	}
	browserHeaders(req)
	req.Header.Set("Cookie", e.accessCookie+"="+s.access+"; "+e.refreshCookie+"="+s.refresh)
	res, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, fmt.Errorf("refresh: %d %s", res.StatusCode, body)
	}
	if !e.takeCookies(res, s) {
		return res.StatusCode, errors.New("refresh: 200 without a new access and refresh cookie")
	}
	return res.StatusCode, nil
}

// httpLoad runs `clients` browsers, each refreshing its own session's cookie in a
// chain, through the binary, for d.
func (e *env) httpLoad(ctx context.Context, hc *http.Client, clients int, d time.Duration) (sample, error) {
	sessions, err := e.sessionsFor(ctx, clients)
	if err != nil {
		return sample{}, err
	}
	return concurrently(ctx, clients, d, func(ctx context.Context, i int, count, end time.Time) ([]time.Duration, error) {
		var lat []time.Duration
		s := &sessions[i]
		for {
			t0 := time.Now()
			if t0.After(end) {
				return lat, nil
			}
			if _, err := e.refreshHTTP(ctx, hc, s); err != nil {
				return lat, err
			}
			if t0.After(count) {
				lat = append(lat, time.Since(t0))
			}
		}
	})
}

// inProcess refreshes the same sessions' chains by calling the service directly.
func (e *env) inProcess(ctx context.Context, clients int, d time.Duration) (sample, error) {
	sessions, err := e.sessionsFor(ctx, clients)
	if err != nil {
		return sample{}, err
	}
	return concurrently(ctx, clients, d, func(ctx context.Context, i int, count, end time.Time) ([]time.Duration, error) {
		var lat []time.Duration
		s := &sessions[i]
		for {
			t0 := time.Now()
			if t0.After(end) {
				return lat, nil
			}
			r, err := e.inproc.Auth.Refresh(ctx, auth.RefreshRequest{Token: s.refresh, IP: "127.0.0.1"})
			if err != nil {
				return lat, fmt.Errorf("in-process refresh: %w", err)
			}
			s.access, s.refresh = r.Tokens.Access, r.Tokens.Refresh
			if t0.After(count) {
				lat = append(lat, time.Since(t0))
			}
		}
	})
}

// stormResult is one same-token storm.
type stormResult struct {
	ok, successors      int
	genBefore, genAfter int
	slowest, median     time.Duration
}

// storm signs a new client in and sends n refreshes of its one cookie at once, each on
// its own (already open) connection, timing every answer from the moment all are
// released.
func (e *env) storm(ctx context.Context, n int) (stormResult, error) {
	var r stormResult
	s, err := e.login(ctx, httpClient(1))
	if err != nil {
		return r, err
	}
	if r.genBefore, err = e.generation(ctx, s.id); err != nil {
		return r, err
	}
	clients := make([]*http.Client, n)
	for i := range clients {
		clients[i] = httpClient(1)
		res, err := clients[i].Get(e.base + "/healthz")
		if err != nil {
			return r, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	var (
		wg      sync.WaitGroup
		release = make(chan struct{})
		took    = make([]time.Duration, n)
		got     = make([]session, n)
		errs    = make([]error, n)
		t0      time.Time
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := s
			<-release
			_, errs[i] = e.refreshHTTP(ctx, clients[i], &mine)
			took[i] = time.Since(t0)
			got[i] = mine
		}()
	}
	time.Sleep(50 * time.Millisecond) // every goroutine waiting on release
	t0 = time.Now()
	close(release)
	wg.Wait()
	successors := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			return r, errs[i]
		}
		r.ok++
		successors[got[i].refresh] = true
	}
	r.successors = len(successors)
	if r.genAfter, err = e.generation(ctx, s.id); err != nil {
		return r, err
	}
	if r.successors != 1 || r.genAfter != r.genBefore+1 {
		return r, fmt.Errorf("%d successors, generation %d -> %d: want one rotation", r.successors, r.genBefore, r.genAfter)
	}
	st := sample{lat: took}
	r.slowest, r.median = st.quantile(1), st.quantile(0.5)
	return r, nil
}
