package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

var dialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second}

// dial opens a socket on server s: authorized (/auth, as a page of the app with the
// session's cookies) or plain (/plain, no credentials).
func (s *server) dial(ctx context.Context, auth bool, sess session) (*websocket.Conn, error) {
	if !auth {
		c, _, err := dialer.DialContext(ctx, "ws://"+s.addr+"/plain", nil)
		return c, err
	}
	c, resp, err := dialer.DialContext(ctx, "ws://"+s.addr+"/auth", http.Header{"Origin": {origin}, "Cookie": {sess.cookie}})
	if err != nil && resp != nil {
		b, _ := io.ReadAll(resp.Body)
		err = fmt.Errorf("%w: %s %s", err, resp.Status, b)
	}
	return c, err
}

// openMany opens n sockets on s with the given concurrency; each is handed to keep
// (which may close it).
func (e *env) openMany(ctx context.Context, s *server, auth bool, n, concurrency int, keep func(i int, c *websocket.Conn)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := s.dial(ctx, auth, e.sessions[i%len(e.sessions)])
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(n))
					return
				}
				keep(i, c)
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// upgradeResult is the upgrade rate of both kinds, round by round.
type upgradeResult struct {
	plain, auth []float64 // upgrades per second, per round
}

// upgradeRate opens and at once closes sockets on server A, plain and authorized in
// alternating order round by round.
func (e *env) upgradeRate(ctx context.Context, o options) (upgradeResult, error) {
	var r upgradeResult
	s := e.servers[0]
	for round := range o.rounds {
		kinds := []bool{false, true}
		if round%2 == 1 {
			kinds = []bool{true, false}
		}
		for _, auth := range kinds {
			start := time.Now()
			err := e.openMany(ctx, s, auth, o.upgrades, o.concurrency, func(_ int, c *websocket.Conn) { c.Close() })
			if err != nil {
				return r, err
			}
			rate := float64(o.upgrades) / time.Since(start).Seconds()
			if auth {
				r.auth = append(r.auth, rate)
			} else {
				r.plain = append(r.plain, rate)
			}
		}
		fmt.Printf("upgrades, round %d: plain %.0f/s, authorized %.0f/s (%.2f)\n", round+1,
			r.plain[round], r.auth[round], r.auth[round]/r.plain[round])
	}
	return r, nil
}

// memResult is what n idle sockets cost a server process.
type memResult struct {
	n                     int
	before, after         stats
	rssPer, heapStacksPer float64 // bytes per socket
	stacksPer             float64 // of which goroutine stacks
	goroutinesPer         float64
	open                  time.Duration
}

// idleMemory opens o.idle idle sockets on a fresh server process (following replica
// A), and reads the process's memory before and after.
func (e *env) idleMemory(ctx context.Context, o options, auth bool) (memResult, error) {
	name := "plain"
	if auth {
		name = "authorized"
	}
	s, err := e.startServer(ctx, "WebSocket server ("+name+" sockets)", e.replicas[0])
	if err != nil {
		return memResult{}, err
	}
	defer s.Stop()
	m := memResult{n: o.idle}
	if m.before, err = s.stats(ctx); err != nil {
		return m, err
	}
	conns := make([]*websocket.Conn, o.idle)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	start := time.Now()
	if err := e.openMany(ctx, s, auth, o.idle, o.concurrency, func(i int, c *websocket.Conn) { conns[i] = c }); err != nil {
		return m, err
	}
	m.open = time.Since(start)
	// Every handshake has been answered; wait until the server counts every socket.
	for {
		if m.after, err = s.stats(ctx); err != nil {
			return m, err
		}
		if open := m.after.Plain + m.after.Auth; open == o.idle {
			break
		} else if open > o.idle {
			return m, fmt.Errorf("%d sockets open, %d opened", open, o.idle)
		}
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(50 * time.Millisecond): // the server's count catching up
		}
	}
	m.rssPer = (float64(m.after.RSS) - float64(m.before.RSS)) / float64(o.idle)
	m.heapStacksPer = (float64(m.after.HeapStacks) - float64(m.before.HeapStacks)) / float64(o.idle)
	m.stacksPer = (float64(m.after.Stacks) - float64(m.before.Stacks)) / float64(o.idle)
	m.goroutinesPer = float64(m.after.Goroutines-m.before.Goroutines) / float64(o.idle)
	fmt.Printf("%d idle %s sockets (opened in %s): RSS +%.1f KiB, heap+stacks +%.1f KiB (stacks %.1f KiB), %.1f goroutines per socket\n",
		o.idle, name, m.open.Round(time.Millisecond), m.rssPer/1024, m.heapStacksPer/1024, m.stacksPer/1024, m.goroutinesPer)
	return m, nil
}

// latencyResult is the revocation-to-close latency of every session.
type latencyResult struct {
	toClose  []time.Duration // logout sent -> close frame read
	logout   []time.Duration // logout sent -> logout answered
	push     []time.Duration // revoked event on the committing replica's stream -> close frame read
	wrong    int             // closed with another code than 4001 logout, or before it: not timed
	missed   int             // not closed within 30 s
	sessions int
}

// closed is how a socket ended, as its client read it.
type closed struct {
	at   time.Time
	code int
}

// record adds one session's close, its logout sent at sent, and reports whether it
// timed a revocation: a 4001 close read after sent. Any other close (another code, or
// one read before the logout was sent: the socket had already died) is counted in
// wrong and kept out of the latencies, where it would pass for a fast revocation.
func (r *latencyResult) record(sent time.Time, c closed) bool {
	if c.code != 4001 || c.at.Before(sent) {
		r.wrong++
		return false
	}
	r.toClose = append(r.toClose, c.at.Sub(sent))
	return true
}

// revocationLatency opens one socket per session, session k through server k%3
// (following replica k%3), then signs the sessions out one at a time, session k
// through replica (k+1)%3, and times each close as the client sees it.
func (e *env) revocationLatency(ctx context.Context) (latencyResult, error) {
	n := len(e.sessions)
	r := latencyResult{sessions: n}
	done := make([]chan closed, n)
	conns := make([]*websocket.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for k := range n {
		done[k] = make(chan closed, 1)
	}
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for i, s := range e.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := i; k < n; k += 3 {
				c, err := s.dial(ctx, true, e.sessions[k])
				if err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
					return
				}
				conns[k] = c
				go func() {
					for {
						_, _, err := c.ReadMessage()
						if err == nil {
							continue
						}
						var ce *websocket.CloseError
						code := 0
						if errors.As(err, &ce) {
							code = ce.Code
						}
						done[k] <- closed{time.Now(), code}
						return
					}
				}()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return r, first
	}
	for {
		open := 0
		for _, s := range e.servers {
			st, err := s.stats(ctx)
			if err != nil {
				return r, err
			}
			open += st.Auth
		}
		if open == n {
			break
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(50 * time.Millisecond): // the servers' counts catching up
		}
	}
	obs, err := e.observeStreams(ctx)
	if err != nil {
		return r, err
	}
	for k := range n {
		t0 := time.Now()
		resp, b, err := e.call(ctx, (k+1)%3, http.MethodPost, "/auth/logout", nil, e.sessions[k].cookie)
		if err != nil {
			return r, err
		}
		if resp.StatusCode != http.StatusNoContent {
			return r, fmt.Errorf("logout: %s %s", resp.Status, b)
		}
		r.logout = append(r.logout, time.Since(t0))
		select {
		case c := <-done[k]:
			if r.record(t0, c) {
				if at, ok := obs.wait(ctx, (k+1)%3, e.sessions[k].id); ok {
					r.push = append(r.push, c.at.Sub(at))
				}
			}
		case <-time.After(30 * time.Second):
			r.missed++
		case <-ctx.Done():
			return r, ctx.Err()
		}
		if (k+1)%250 == 0 {
			fmt.Printf("revocations: %d of %d closed\n", k+1, n)
		}
	}
	runtime.GC()
	return r, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// quantile of a sample (nearest rank).
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
