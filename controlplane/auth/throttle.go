package auth

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/internal/loginname"
)

// attempt identifies the throttling buckets of one login (or signup) attempt.
type attempt struct {
	account []byte // accountKey of the login name
	client  string // clientKey of the address; empty: no per-client bucket
	failure int64  // the failure recorded for it, until it succeeds
}

// accountKey is the throttling key of a login name: SHA-256 of its loginname.Key, so
// every spelling of one account's name spends one budget, and a password typed into the
// name field is not stored readable.
func accountKey(email string) []byte {
	h := sha256.Sum256([]byte(loginname.Key(email)))
	return h[:]
}

// clientKey is the throttling key of a client address: the address itself (a port, as
// in "192.0.2.1:5678" or "[2001:db8::1]:443", is dropped), an IPv6 address reduced to its
// /64 (one host usually owns a whole /64). Empty when ip is empty: no per-client limit
// then, rather than one bucket shared by every client.
func clientKey(ip string) string {
	ip = strings.TrimSpace(ip)
	if ip == "" {
		return ""
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(ip)
		if err2 != nil {
			return truncate(ip, 64)
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// truncate cuts s to at most n bytes of valid UTF-8 without NUL bytes (which PostgreSQL
// text cannot hold), for values stored as information (user agent, address).
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", "")
}

// beginAttempt decides whether an attempt on the login name from ip may go on and, if
// so, records it as a failure before any password is checked (a success takes it back).
// Counting and recording happen in one transaction holding the buckets' locks, so a burst
// of concurrent attempts gets exactly the budget that was left, never more. A refused
// attempt returns a *ThrottledError and records nothing.
func (s *Service) beginAttempt(ctx context.Context, name, ip string, now time.Time) (attempt, error) {
	a := attempt{account: accountKey(name), client: clientKey(ip)}
	t := s.cfg.Throttle
	var refused error
	err := s.st.InTx(ctx, func(q store.Queries) error {
		if err := q.LockThrottle(ctx, a.account, a.client); err != nil {
			return err
		}
		c, err := q.LoginFailures(ctx, a.account, a.client, store.FailureSince{
			Pair: now.Add(-t.Window), Client: now.Add(-t.Window), Account: now.Add(-t.AccountWindow)})
		if err != nil {
			return err
		}
		if a.client == "" {
			c.Client = 0
		}
		known := false
		if c.Account >= t.AccountFailures && a.client != "" {
			if known, err = q.KnownClient(ctx, a.account, a.client, now.Add(-t.KnownClientFor)); err != nil {
				return err
			}
		}
		if refused = s.throttled(c, known, now); refused != nil {
			return nil
		}
		a.failure, err = q.RecordLoginFailure(ctx, a.account, a.client, now)
		return err
	})
	if err != nil {
		return a, err
	}
	if refused != nil {
		s.cfg.Logger.InfoContext(ctx, "login throttled", "ip", ip)
		return a, refused
	}
	return a, nil
}

// throttled returns a *ThrottledError if a bucket is full: the pair's or the client's
// within Window, or the account's within AccountWindow unless the client is one the
// account signed in from (known).
func (s *Service) throttled(c store.FailureCounts, known bool, now time.Time) error {
	t := s.cfg.Throttle
	full := false
	var wait time.Duration
	limit := func(n, budget int, oldest time.Time, window time.Duration) {
		if n >= budget {
			full = true
			wait = max(wait, oldest.Add(window).Sub(now))
		}
	}
	limit(c.Pair, t.PairFailures, c.PairOldest, t.Window)
	limit(c.Client, t.ClientFailures, c.ClientOldest, t.Window)
	if !known {
		limit(c.Account, t.AccountFailures, c.AccountOldest, t.AccountWindow)
	}
	if !full {
		return nil
	}
	// Round up to whole seconds, at least one.
	wait = (wait + time.Second - 1).Truncate(time.Second)
	return &ThrottledError{RetryAfter: max(wait, time.Second)}
}

// withdraw takes back the attempt's own failure record, and nothing else: the attempt
// was neither a failure nor a sign-in (a right password that still needs its second
// factor), so the address is not remembered and earlier failures stay.
func (a attempt) withdraw(ctx context.Context, st Storage) error {
	return st.DeleteLoginFailure(ctx, a.failure)
}

// succeed takes back the attempt's failure record and the earlier failures of the same
// account from the same address (the owner's typos), and remembers the address as one
// the account signs in from. Runs inside the transaction that opens the session.
func (a attempt) succeed(ctx context.Context, q store.Queries, now time.Time) error {
	if err := q.ClearPairFailures(ctx, a.account, a.client); err != nil {
		return err
	}
	if a.client == "" {
		return nil
	}
	return q.RememberClient(ctx, a.account, a.client, now)
}
