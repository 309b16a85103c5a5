package store

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Group commit for refreshes. Most of what a lone rotation costs PostgreSQL is not the
// statement but what surrounds it: a round trip, a backend woken, a transaction begun
// and committed, a WAL flush waited for. Refreshes that arrive while others are in
// flight therefore wait for a free lane and then go together: one pipeline of their
// statements (RefreshSQL each, unchanged), one round trip, one implicit transaction and
// one commit. pgbench running the statement in groups of 4-8 rotated 2.1x as many
// sessions per second as one per transaction on the same server (RATIONALE.md,
// "Refreshes in groups"). A refresh that finds a lane free runs at once, alone, exactly as before: the
// grouping costs nothing when the service is idle, and the wait for a lane under load
// is the commit a caller would otherwise have queued for in PostgreSQL.
//
// What a rotation guarantees holds in a group. Its statements run one after another in
// one transaction, each seeing what the ones before it wrote, so two refreshes of one
// session in a group behave as if they had come one after the other (the second sees
// the rotation: a grace replay). The group commits or rolls back as a whole, and no
// answer is given before the commit: a group that fails in any way, a lost connection, a
// deadlock or a failed commit, answers none of its callers, and each runs its refresh
// again alone, on its own context, where it succeeds or fails as a lone one would. Its
// statements are ordered by session id, so two groups lock their sessions' rows in one
// order and cannot deadlock each other, nor with RevokeUserSessions, which locks in the
// same order.

// Group sizes: at most refreshLanes groups in flight (each on one pool connection),
// each of at most refreshGroupMax refreshes, which bounds how long its row locks and its
// last caller's wait last. Measured with `make bench-controlplane` on 2 CPUs
// (RATIONALE.md, "Refreshes in groups"): 1 to 8 lanes at 16 clients, and groups of at
// most 16 or 64 at 64 clients, gave the same rates within the noise.
var (
	refreshLanes    = max(2, runtime.GOMAXPROCS(0))
	refreshGroupMax = 16
)

// RefreshGroupSizes returns how many refresh groups a Store runs at once at most (each on
// one connection) and how many refreshes a group holds at most: what pgbench must run
// to measure the statement as the service sends it (internal/cpbench).
func RefreshGroupSizes() (lanes, groupMax int) { return refreshLanes, refreshGroupMax }

// refreshGroupTimeout bounds a group, which runs on none of its callers' contexts (one
// caller leaving must not cancel the others' rotations). A group that takes longer
// fails, and its callers run their refreshes alone.
const refreshGroupTimeout = 10 * time.Second

// refreshCall is one refresh waiting for, or running in, a group.
type refreshCall struct {
	a    RefreshAttempt
	ctx  context.Context
	done chan struct{} // closed when the group has answered

	// The answer, written before done is closed. alone: the group failed; run again.
	r       RefreshResult
	settled bool
	err     error
	alone   bool
}

// refreshGroups queues refreshes while every lane is busy.
type refreshGroups struct {
	lanes, max int
	timeout    time.Duration

	mu      sync.Mutex
	queue   []*refreshCall
	running int // lanes in use

	// Groups of two or more that committed, and the refreshes in them
	// (RefreshGroupStats).
	sent, grouped atomic.Int64
}

// RefreshGroupStats returns how many groups of two or more refreshes this store has
// committed and how many refreshes they held (their ratio is the mean group size): a
// store whose groups stay near two has lanes to spare, one whose groups reach the most
// it sends (RefreshGroupSizes) has refreshes queued behind every lane.
func (s *Store) RefreshGroupStats() (groups, refreshes int64) {
	return s.groups.sent.Load(), s.groups.grouped.Load()
}

// refreshGrouped runs a once, alone or in a group (refreshOnce's results).
func (s *Store) refreshGrouped(ctx context.Context, a RefreshAttempt) (RefreshResult, bool, error) {
	g := &s.groups
	g.mu.Lock()
	if g.running < g.lanes {
		g.running++
		g.mu.Unlock()
		defer s.handOn() // deferred: the lane is freed however the refresh ends
		return s.refreshOnce(ctx, a)
	}
	c := &refreshCall{a: a, ctx: ctx, done: make(chan struct{})}
	g.queue = append(g.queue, c)
	g.mu.Unlock()
	select {
	case <-c.done:
	case <-ctx.Done():
		// The group may still rotate the session; the client, having no answer,
		// presents the same token again and gets the same successor (the grace).
		return RefreshResult{}, true, translate("refresh", ctx.Err())
	}
	if c.alone {
		return s.refreshOnce(ctx, a)
	}
	return c.r, c.settled, c.err
}

// take returns the next group from the queue for the lane its caller holds, or nil,
// having freed the lane, when the queue is empty.
func (g *refreshGroups) take() []*refreshCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.running--
		return nil
	}
	n := min(len(g.queue), g.max)
	group := slices.Clone(g.queue[:n])
	g.queue = slices.Delete(g.queue, 0, n)
	return group
}

// handOn passes the lane its caller held to the refreshes queued meanwhile, run on a
// goroutine of their own (the caller has its answer), or frees it.
func (s *Store) handOn() {
	if group := s.groups.take(); group != nil {
		go s.drain(group)
	}
}

// drain runs groups on one lane until the queue is empty.
func (s *Store) drain(group []*refreshCall) {
	for group != nil {
		s.runGroup(group)
		group = s.groups.take()
	}
}

// runGroup runs the calls' statements in one pipeline and implicit transaction and
// answers every call.
func (s *Store) runGroup(calls []*refreshCall) {
	defer func() {
		for _, c := range calls {
			close(c.done)
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(calls[0].ctx), s.groups.timeout)
	defer cancel()
	if len(calls) == 1 {
		c := calls[0]
		c.r, c.settled, c.err = s.refreshOnce(ctx, c.a)
		return
	}
	// Lock order: by session id; the stable sort keeps one session's refreshes in the
	// order they arrived.
	slices.SortStableFunc(calls, func(x, y *refreshCall) int { return cmp.Compare(x.a.SessionID, y.a.SessionID) })
	b := &pgx.Batch{}
	for _, c := range calls {
		b.Queue(RefreshSQL, refreshArgs(c.a)...)
	}
	br := s.pool.SendBatch(ctx, b)
	failed := false
	for _, c := range calls {
		c.r, c.settled, c.err = decodeRefresh(br.QueryRow(), c.a)
		failed = failed || c.err != nil
	}
	// Close reads to the end of the pipeline, past the commit: only then are the
	// answers true.
	if err := br.Close(); err != nil || failed {
		for _, c := range calls {
			c.r, c.settled, c.err, c.alone = RefreshResult{}, false, nil, true
		}
		return
	}
	s.groups.sent.Add(1)
	s.groups.grouped.Add(int64(len(calls)))
}
