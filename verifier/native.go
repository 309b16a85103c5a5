package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate"
	"github.com/edgeauth/edgeauth/verifier/internal/heldlists"
	"github.com/edgeauth/edgeauth/verifier/internal/policy"
)

// NewNative returns an Engine that runs the gate compiled by Go: the same package and
// the same byte-level calls as the WebAssembly guest (Decide: the compact request and
// decision record of decide_compact), so both engines decide identically. Calls are
// serialised by a mutex (a gate is single-threaded); a cold EdDSA verification takes
// tens of microseconds and a cache-hit decision about half a microsecond (README, "Speed"),
// so one gate serves a control plane's introspection load.
//
// State follows the same rule as the wasm host (verifier/ABI.md, "Host state"): a new
// configuration or key set is applied to a fresh gate that replays the other current
// inputs, and replaces the old gate only if everything but the revocation list loads;
// a revocation list that no longer verifies under the new inputs is dropped.
func NewNative() Engine { return &native{g: gate.New()} }

type native struct {
	mu     sync.Mutex
	g      *gate.Gate
	config []byte
	keys   []byte
	revs   heldlists.Held // the revocation lists a new gate replays
	closed bool

	in, out []byte    // Decide's request and record, reused under mu
	clear   [2]string // the clearing cookies of the latest decision that had them
	// (their strings are shared; every Decision gets a slice of its own, so neither
	// a new configuration nor a caller changing its Decision changes another's)
}

// fits applies the module's input limit (abi.BufferCap), so that both engines refuse
// the same inputs. A done context is refused first, as the wasm host refuses it before
// it looks at the input.
func fits(ctx context.Context, what string, input []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("verifier: %s: %w", what, err)
	}
	if len(input) > abi.BufferCap {
		return fmt.Errorf("verifier: %s: %w: %d bytes, the module's buffer holds %d", what, abi.ErrInputTooLarge, len(input), abi.BufferCap)
	}
	return nil
}

func (n *native) Configure(ctx context.Context, cfg Config) error {
	config, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("verifier: configure: encoding: %w", err)
	}
	if err := fits(ctx, "configure", config); err != nil {
		return err
	}
	if err := n.lock(ctx); err != nil {
		return fmt.Errorf("verifier: configure: %w", err)
	}
	defer n.mu.Unlock()
	return n.rebase(config, n.keys, "configure")
}

func (n *native) LoadKeys(ctx context.Context, jwks []byte) error {
	if err := fits(ctx, "load keys", jwks); err != nil {
		return err
	}
	if err := n.lock(ctx); err != nil {
		return fmt.Errorf("verifier: load keys: %w", err)
	}
	defer n.mu.Unlock()
	return n.rebase(n.config, clone(jwks), "load keys")
}

// lock takes n.mu for one call: it refuses a done context (checked before and after
// waiting for the lock) and a closed engine. On error the lock is not held.
func (n *native) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	err := ctx.Err()
	if err == nil && n.closed {
		err = ErrClosed
	}
	if err != nil {
		n.mu.Unlock()
	}
	return err
}

// rebase builds a gate from config, keys and the current revocation list and, when
// config and keys load, makes it current. n.mu is held.
func (n *native) rebase(config, keys []byte, what string) error {
	g := gate.New()
	if config != nil {
		if err := g.Configure(config); err != nil {
			if refused := (*policy.ConfigError)(nil); errors.As(err, &refused) {
				// Says what to fix; the wasm host gives the same message.
				return abi.Wrap(ErrInvalidConfig, refused.Reason())
			}
			return fmt.Errorf("verifier: %s: configure: %w", what, err)
		}
	}
	if keys != nil {
		if err := g.LoadKeys(keys); err != nil {
			return fmt.Errorf("verifier: %s: load_keys: %w", what, err)
		}
	}
	var revs heldlists.Held // those that still verify under config and keys
	for _, l := range n.revs.Lists() {
		if g.LoadRevocations(l.Body, l.Now) == nil {
			revs.Add(l.Body, l.Now)
		}
	}
	n.g, n.config, n.keys, n.revs = g, config, keys, revs
	return nil
}

func (n *native) LoadRevocations(ctx context.Context, list []byte, now int64) error {
	if err := fits(ctx, "load revocations", list); err != nil {
		return err
	}
	if err := n.lock(ctx); err != nil {
		return fmt.Errorf("verifier: load revocations: %w", err)
	}
	defer n.mu.Unlock()
	if err := n.g.LoadRevocations(list, now); err != nil {
		return fmt.Errorf("verifier: load revocations: %w", err)
	}
	n.revs.Add(list, now)
	return nil
}

// Decide decides with the gate's compact form (gate.DecideCompact, as the wasm host's
// decide_compact): the request is written into a buffer the engine keeps, and the
// identity is read from the gate directly. Nothing is encoded as JSON; a cache hit
// allocates only the Identity (and a copy of its roles).
func (n *native) Decide(ctx context.Context, req Request, now int64) (Decision, error) {
	if req.Path == "" {
		return Decision{}, emptyPath(ctx)
	}
	req = validRequest(req)
	size := abi.CompactRequestSize(req.Method, req.Path, req.Query, req.Authorization, req.Cookies)
	if size > compactMax {
		// Beyond the gate's limit: the JSON form refuses it as it always did (and as
		// the wasm host does).
		return n.decideJSON(ctx, req, now)
	}
	if err := n.lock(ctx); err != nil {
		return Decision{}, fmt.Errorf("verifier: decide: %w", err)
	}
	defer n.mu.Unlock()
	n.in = abi.AppendCompactRequest(n.in[:0], req.Method, req.Path, req.Query, req.Authorization, req.Cookies)
	out, err := n.g.DecideCompact(n.in, now, n.out[:0])
	n.out = out[:0]
	if err != nil {
		return Decision{}, fmt.Errorf("verifier: decide: %w", err)
	}
	rec, ok := abi.ParseDecisionRecord(out)
	if !ok {
		return Decision{}, fmt.Errorf("verifier: decide: %w: decision record does not match the ABI", abi.ErrInternal)
	}
	d := Decision{Action: Action(abi.Actions[rec.Action]), Reason: abi.Reasons[rec.Reason], Status: int(rec.Status)}
	if len(rec.Location) > 0 {
		d.Location = string(rec.Location)
	}
	if rec.Flags&abi.FlagClearCookies != 0 {
		if n.clear[0] != string(rec.ClearAccess) || n.clear[1] != string(rec.ClearRefresh) {
			n.clear = [2]string{string(rec.ClearAccess), string(rec.ClearRefresh)}
		}
		d.ClearCookies = []string{n.clear[0], n.clear[1]}
	}
	if rec.Flags&abi.FlagIdentity != 0 {
		sub, sid, roles, exp, mfa, ok := n.g.LastIdentity()
		if !ok {
			return Decision{}, fmt.Errorf("verifier: decide: %w: a decision flagged with an identity has none", abi.ErrInternal)
		}
		// The strings are the cache's (immutable); the roles slice is copied, since a
		// caller may change its Decision.
		d.Identity = &Identity{Subject: sub, SessionID: sid, Roles: slices.Clone(roles), ExpiresAt: exp, SecondFactor: mfa}
	}
	return d, nil
}

// compactMax is the gate's limit on a request (either form).
const compactMax = 64 << 10

// decideJSON decides with the gate's JSON form (gate.Decide), the reference: encoding/json
// in and out. Decide uses it for requests beyond the compact form's limit, which the
// gate refuses, so that they are refused exactly as before.
func (n *native) decideJSON(ctx context.Context, req Request, now int64) (Decision, error) {
	var d Decision
	in, err := json.Marshal(req)
	if err != nil {
		return d, fmt.Errorf("verifier: encoding request: %w", err)
	}
	if err := fits(ctx, "decide", in); err != nil {
		return d, err
	}
	out, err := n.call(ctx, func(g *gate.Gate, out []byte) ([]byte, error) { return g.Decide(in, now, out) })
	if err != nil {
		return d, fmt.Errorf("verifier: decide: %w", err)
	}
	if err := json.Unmarshal(out, &d); err != nil {
		return Decision{}, fmt.Errorf("verifier: decide: %w: decoding decision: %v", abi.ErrInternal, err)
	}
	return d, nil
}

// emptyPath is Decide's error for a request without a path: the context's error when
// it is done (as for every call), else one wrapping ErrInvalidRequest. The module
// would decide such a request as a protected path; the Go hosts refuse it (ABI.md,
// "decide"), as wasmhost.Host does.
func emptyPath(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("verifier: decide: %w", err)
	}
	return fmt.Errorf("verifier: decide: %w: empty path (Request.Path is the request's path, \"/\" at least)", abi.ErrInvalidRequest)
}

// validRequest replaces every byte of invalid UTF-8 with U+FFFD (abi.ToValidUTF8), as
// encoding/json does for the JSON form and the wasm host does, so every path decides
// the same request.
func validRequest(r Request) Request {
	r.Method, r.Path, r.Query = abi.ToValidUTF8(r.Method), abi.ToValidUTF8(r.Path), abi.ToValidUTF8(r.Query)
	r.Authorization = abi.ToValidUTF8(r.Authorization)
	copied := false
	for i, c := range r.Cookies {
		if v := abi.ToValidUTF8(c); len(v) != len(c) {
			if !copied {
				r.Cookies, copied = slices.Clone(r.Cookies), true
			}
			r.Cookies[i] = v
		}
	}
	return r
}

func (n *native) VerifyToken(ctx context.Context, token string, now int64) (Claims, error) {
	var c Claims
	if err := ctx.Err(); err != nil {
		// Before the size, as for every other call (fits).
		return c, fmt.Errorf("verifier: verify token: %w", err)
	}
	if len(token) > abi.BufferCap {
		// The module's limit, so that both engines answer alike.
		return c, fmt.Errorf("verifier: verify token: %w (%w: %d bytes)", abi.ErrTooLarge, abi.ErrInputTooLarge, len(token))
	}
	out, err := n.call(ctx, func(g *gate.Gate, out []byte) ([]byte, error) { return g.VerifyToken([]byte(token), now, out) })
	if err != nil {
		return c, fmt.Errorf("verifier: verify token: %w", err)
	}
	if err := json.Unmarshal(out, &c); err != nil {
		return Claims{}, fmt.Errorf("verifier: verify token: %w: decoding claims: %v", abi.ErrInternal, err)
	}
	return c, nil
}

// call runs fn on the current gate under the lock, with an output buffer of its own.
// A gate call is short (microseconds), so the context is checked when the call starts,
// not while it runs.
func (n *native) call(ctx context.Context, fn func(g *gate.Gate, out []byte) ([]byte, error)) ([]byte, error) {
	out := make([]byte, 0, 512)
	if err := n.lock(ctx); err != nil {
		return nil, err
	}
	defer n.mu.Unlock()
	return fn(n.g, out)
}

// Close implements Engine; the context is unused (nothing to release but memory).
func (n *native) Close(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed, n.g = true, nil
	return nil
}

func clone(b []byte) []byte { return append([]byte{}, b...) }
