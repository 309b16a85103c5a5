// Package wasmhost runs verifier.wasm (the gate compiled by TinyGo) in wazero and
// implements verifier.Engine on it, so Go programs can decide requests with exactly the
// bytes the JS edges run.
//
// A Host compiles the module once (with wazero's optimising compiler on amd64 and arm64,
// its interpreter elsewhere; pass a CompilationCache to share the compilation between
// hosts), checks its exports and ABI version, and keeps a
// bounded pool of instances (an instance is single-threaded). Every instance holds the
// current configuration, keys and revocation list: the host keeps the last inputs that
// were applied successfully, with generation numbers, and brings an instance up to date
// when it is checked out. An instance that traps or fails is closed, never reused.
//
// Every call takes a context: a call whose context is done before it starts, or while
// it waits for an instance (or, for Configure, LoadKeys and LoadRevocations, for the
// change in progress), returns an error wrapping ctx.Err() and changes nothing.
// With Options.StopOnContextDone (wazero's RuntimeConfig.WithCloseOnContextDone) a
// context done while the call runs inside the module stops it there too; the
// interrupted instance is discarded and the host's state (configuration, keys,
// revocation list) is unchanged.
//
// RS256 signatures are checked by the host with crypto/rsa on the module's two-phase
// path (verifier/ABI.md, "Two-phase verification"): the module asks about one signature
// under the key it parsed, the host answers and calls again, within the same Decide or
// VerifyToken. Every other check and the decision stay in the module; a cached token
// never leaves it. Options.ModuleSignatures keeps the arithmetic in the module too.
package wasmhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/heldlists"
)

// ErrClosed is returned by every method of a Host after Close. It wraps
// verifier.ErrClosed, which the native engine returns, so a caller of either Engine
// tests for verifier.ErrClosed.
var ErrClosed = fmt.Errorf("wasmhost: host closed: %w", verifier.ErrClosed)

// ErrModule is wrapped by New when the module does not satisfy the ABI (missing or
// mistyped exports, imports, another ABI version).
var ErrModule = errors.New("wasmhost: module does not satisfy the edgeauth ABI")

// Options tune a Host. The zero value is usable.
type Options struct {
	// PoolSize bounds the number of live instances, and so the number of calls that
	// run at once; default runtime.GOMAXPROCS(0).
	PoolSize int
	// MemoryLimitPages caps each instance's linear memory (64 KiB pages); default
	// 256 (16 MiB). A module that needs more traps, and the call fails.
	MemoryLimitPages uint32
	// CompilationCache, when set, is shared with other runtimes so the module is
	// compiled once per process (or once per machine with a directory cache).
	CompilationCache wazero.CompilationCache
	// StopOnContextDone stops a call inside the module when its context is cancelled
	// or its deadline passes (wazero's WithCloseOnContextDone). Off by default: the
	// compiled code then checks at every loop header, which costs several times the
	// CPU of a call (RATIONALE.md, "A context on every engine call"), while the
	// module's inputs are bounded (abi.BufferCap, size and depth limits) so a call
	// ends on its own. Without it the context is still honoured before a call and
	// while it waits for an instance.
	StopOnContextDone bool
	// ModuleSignatures makes the module check every signature itself. By default the
	// host checks RS256 signatures with crypto/rsa on the two-phase path (verifier/ABI.md,
	// "Two-phase verification"): the module does every other check and the decision,
	// the host only the arithmetic, which costs ~16x less natively than in the module
	// (README, "Speed"). Decisions are the same either way (verifier/conformance runs
	// every suite through both). A module without the two-phase exports checks every
	// signature itself whatever this says.
	ModuleSignatures bool
}

// DefaultMemoryLimitPages is the default per-instance memory cap (16 MiB).
const DefaultMemoryLimitPages = 256

// Host is a verifier.Engine backed by verifier.wasm in wazero. It is safe for
// concurrent use.
type Host struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule

	slots    chan struct{} // one token per instance that may exist (pool bound)
	hostMask uint32        // host_signatures mask of every instance (two-phase path)

	mu     sync.Mutex // guards idle, state, closed
	idle   []*instance
	state  state
	closed bool

	change chan struct{} // a one-token lock that serialises Configure, LoadKeys, LoadRevocations (lockChange)

	hostChecks atomic.Uint64 // signatures checked for the module (two-phase path)
}

// state is what every instance must hold: the last inputs applied successfully.
// epoch changes with the configuration or the keys (instances of an older epoch are
// replaced by fresh ones, replayed in the order configuration, keys, revocations);
// revGen changes with the revocation list (loaded in place).
type state struct {
	config, keys []byte
	revs         heldlists.Held // the revocation lists to replay (heldlists: one second's may be several)
	epoch        uint64
	revGen       uint64
}

// instance is one module instance with its ABI entry points.
type instance struct {
	mod                 api.Module
	mem                 api.Memory
	bufPtr, bufCap      uint32
	configure, loadKeys api.Function
	loadRevs, decide    api.Function
	verifyToken, verSig api.Function
	decideCompact       api.Function
	identity            api.Function
	verdict             api.Function // signature_verdict (two-phase path only)
	hostMask            uint32
	rsaKeys             []rsaKey       // the two-phase path's parsed keys, by key index
	hostChecks          *atomic.Uint64 // the host's counter
	stack               [2]uint64
	epoch, revGen       uint64

	// clear holds the clearing cookies of the latest decision that had them: they
	// depend only on the configuration, so a decision reuses the strings (in a slice
	// of its own).
	clear [2]string
	// id is the identity read last, under its identity key idKey (0: none): a
	// decision with the same key has the same identity and skips the identity call.
	idKey uint32
	id    verifier.Identity
}

// New compiles a module and checks it against the ABI: required exports with their
// parameter and result types, an exported memory, no imports, and abi_version equal
// to abi.Version. One instance is created at once, so a module that fails to start
// is refused here. Errors wrap ErrModule for ABI problems, and ctx.Err() when ctx is
// done before the host is ready (nothing is left running then).
func New(ctx context.Context, wasm []byte, opts Options) (*Host, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wasmhost: %w", err)
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = runtime.GOMAXPROCS(0)
	}
	if opts.MemoryLimitPages == 0 {
		opts.MemoryLimitPages = DefaultMemoryLimitPages
	}
	// CloseOnContextDone makes compiled code check for a done context at loop headers,
	// so a cancelled call stops inside the module instead of running to its end.
	cfg := wazero.NewRuntimeConfig().WithMemoryLimitPages(opts.MemoryLimitPages).WithCloseOnContextDone(opts.StopOnContextDone)
	if opts.CompilationCache != nil {
		cfg = cfg.WithCompilationCache(opts.CompilationCache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	compiled, err := rt.CompileModule(ctx, wasm)
	if err == nil {
		err = ctx.Err() // compiling does not watch the context: check it after
	}
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wasmhost: compiling module: %w", err)
	}
	twoPhase, err := checkExports(compiled)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	h := &Host{rt: rt, compiled: compiled, slots: make(chan struct{}, opts.PoolSize), change: make(chan struct{}, 1)}
	if twoPhase && !opts.ModuleSignatures {
		h.hostMask = 1 << abi.AlgRS256
	}
	h.slots <- struct{}{}
	inst, err := h.instantiate(ctx)
	if err != nil {
		rt.Close(ctx)
		return nil, ctxErr(ctx, err)
	}
	h.put(inst)
	return h, nil
}

// i32 and i64 are the wasm value types of the ABI.
var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// signatures gives the exact types of every required export (abi.RequiredExports
// gives the counts; a TinyGo uint32 is an i32, an int64 or uint64 an i64).
var signatures = map[string][2][]api.ValueType{
	abi.ExportInitialize:       {nil, nil},
	abi.ExportABIVersion:       {nil, {i32}},
	abi.ExportBufPtr:           {nil, {i32}},
	abi.ExportBufCap:           {nil, {i32}},
	abi.ExportConfigure:        {{i32}, {i64}},
	abi.ExportLoadKeys:         {{i32}, {i64}},
	abi.ExportLoadRevocations:  {{i32, i64}, {i64}},
	abi.ExportDecide:           {{i32, i64}, {i64}},
	abi.ExportVerifyToken:      {{i32, i64}, {i64}},
	abi.ExportVerifySignature:  {{i32}, {i64}},
	abi.ExportDecideCompact:    {{i32, i64}, {i64}},
	abi.ExportIdentity:         {nil, {i64}},
	abi.ExportHeapAllocs:       {nil, {i64}},
	abi.ExportHostSignatures:   {{i32}, {i64}},
	abi.ExportSignatureVerdict: {{i32}, {i64}},
}

// checkExports checks the module's imports, memory and exports. The two-phase exports
// (abi.TwoPhaseExports) are a compatible addition to ABI version 1: twoPhase reports
// that the module has them (then with the right types); a module without either keeps
// every signature check to itself, and one with only some of them is refused.
func checkExports(m wazero.CompiledModule) (twoPhase bool, err error) {
	if imps := m.ImportedFunctions(); len(imps) > 0 {
		mod, name, _ := imps[0].Import()
		return false, fmt.Errorf("%w: it imports %s.%s (and %d more); build it with -target=wasm-unknown",
			ErrModule, mod, name, len(imps)-1)
	}
	if _, ok := m.ExportedMemories()[abi.ExportMemory]; !ok {
		return false, fmt.Errorf("%w: no exported memory %q", ErrModule, abi.ExportMemory)
	}
	fns := m.ExportedFunctions()
	required := abi.RequiredExports
	present := 0
	for _, e := range abi.TwoPhaseExports {
		if _, ok := fns[e.Name]; ok {
			present++
		}
	}
	if twoPhase = present > 0; twoPhase {
		required = append(slices.Clip(required), abi.TwoPhaseExports...)
	}
	for _, e := range required {
		def, ok := fns[e.Name]
		if !ok {
			return false, fmt.Errorf("%w: export %q missing", ErrModule, e.Name)
		}
		params, results := def.ParamTypes(), def.ResultTypes()
		if len(params) != e.Params || len(results) != e.Results {
			return false, fmt.Errorf("%w: export %q has %d params and %d results, want %d and %d",
				ErrModule, e.Name, len(params), len(results), e.Params, e.Results)
		}
		if want, ok := signatures[e.Name]; ok && (!sameTypes(params, want[0]) || !sameTypes(results, want[1])) {
			return false, fmt.Errorf("%w: export %q has type %s -> %s, want %s -> %s", ErrModule, e.Name,
				typeNames(params), typeNames(results), typeNames(want[0]), typeNames(want[1]))
		}
	}
	return twoPhase, nil
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func typeNames(ts []api.ValueType) string {
	s := "("
	for i, t := range ts {
		if i > 0 {
			s += ", "
		}
		s += api.ValueTypeName(t)
	}
	return s + ")"
}

// instantiate starts a fresh instance (running _initialize) and checks its ABI
// version and buffer. The caller holds a slot; on error the slot is still held.
func (h *Host) instantiate(ctx context.Context) (*instance, error) {
	mod, err := h.rt.InstantiateModule(ctx, h.compiled,
		wazero.NewModuleConfig().WithName("").WithStartFunctions(abi.ExportInitialize))
	if err != nil {
		return nil, fmt.Errorf("wasmhost: starting instance: %w", err)
	}
	in := &instance{mod: mod, mem: mod.Memory()}
	getter := func(name string) (uint32, error) {
		r, err := mod.ExportedFunction(name).Call(ctx)
		if err != nil {
			return 0, fmt.Errorf("wasmhost: calling %s: %w", name, err)
		}
		return api.DecodeU32(r[0]), nil
	}
	version, err := getter(abi.ExportABIVersion)
	if err == nil && version != abi.Version {
		err = fmt.Errorf("%w: abi_version is %d, this host speaks %d", ErrModule, version, abi.Version)
	}
	if err == nil {
		in.bufPtr, err = getter(abi.ExportBufPtr)
	}
	if err == nil {
		in.bufCap, err = getter(abi.ExportBufCap)
	}
	if err == nil && (in.bufCap == 0 || uint64(in.bufPtr)+uint64(in.bufCap) > uint64(in.mem.Size())) {
		err = fmt.Errorf("%w: buffer [%d, +%d) outside memory of %d bytes", ErrModule, in.bufPtr, in.bufCap, in.mem.Size())
	}
	if err != nil {
		mod.Close(ctx)
		return nil, err
	}
	in.configure = mod.ExportedFunction(abi.ExportConfigure)
	in.loadKeys = mod.ExportedFunction(abi.ExportLoadKeys)
	in.loadRevs = mod.ExportedFunction(abi.ExportLoadRevocations)
	in.decide = mod.ExportedFunction(abi.ExportDecide)
	in.verifyToken = mod.ExportedFunction(abi.ExportVerifyToken)
	in.verSig = mod.ExportedFunction(abi.ExportVerifySignature)
	in.decideCompact = mod.ExportedFunction(abi.ExportDecideCompact)
	in.identity = mod.ExportedFunction(abi.ExportIdentity)
	if h.hostMask != 0 {
		in.verdict = mod.ExportedFunction(abi.ExportSignatureVerdict)
		in.stack[0] = api.EncodeU32(h.hostMask)
		err := mod.ExportedFunction(abi.ExportHostSignatures).CallWithStack(ctx, in.stack[:])
		if err == nil {
			if st, _ := abi.Unpack(in.stack[0]); st != abi.StatusOK {
				err = fmt.Errorf("%w: host_signatures(%#x) answered %v", ErrModule, h.hostMask, st)
			}
		}
		if err != nil {
			mod.Close(ctx)
			return nil, fmt.Errorf("wasmhost: declaring host signatures: %w", err)
		}
		in.hostMask, in.hostChecks = h.hostMask, &h.hostChecks
	}
	return in, nil
}

// call writes input into the buffer, calls fn(len, now) (now only for two-parameter
// exports) and returns the output, which aliases guest memory until the next call. A
// signature question (the two-phase path) is answered and the call made once more.
// A trap is returned as an error that does not wrap a status sentinel; the caller
// must discard the instance.
func (in *instance) call(ctx context.Context, fn api.Function, input []byte, now int64, withNow bool) ([]byte, error) {
	if uint64(len(input)) > uint64(in.bufCap) {
		return nil, fmt.Errorf("%w: %d bytes, buffer holds %d", abi.ErrInputTooLarge, len(input), in.bufCap)
	}
	for asked := false; ; asked = true {
		if !in.mem.Write(in.bufPtr, input) {
			return nil, errTrap{errors.New("buffer outside memory")}
		}
		in.stack[0] = api.EncodeU32(uint32(len(input)))
		in.stack[1] = api.EncodeI64(now)
		if err := fn.CallWithStack(ctx, in.stack[:]); err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, errInterrupted{ctx: cerr, err: err}
			}
			return nil, errTrap{err}
		}
		status, n := abi.Unpack(in.stack[0])
		if n > in.bufCap {
			return nil, errTrap{fmt.Errorf("output length %d exceeds the buffer", n)}
		}
		out, ok := in.mem.Read(in.bufPtr, n)
		if !ok {
			return nil, errTrap{errors.New("output outside memory")}
		}
		if status == abi.StatusNeedSignature && !asked && in.hostMask != 0 {
			// The two-phase path: check the signature, answer, and call again.
			if err := in.answer(ctx, out); err != nil {
				return nil, err
			}
			continue
		}
		if status == abi.StatusNeedSignature {
			return nil, errUnanswered
		}
		if err := status.Err(); err != nil {
			if status == abi.StatusInvalidConfig && n > 0 {
				// configure's refusal carries its reason (verifier/ABI.md, "configure"):
				// the same message as the native engine's.
				return nil, abi.Wrap(err, string(out))
			}
			return nil, err
		}
		return out, nil
	}
}

// errTrap marks a failure of the instance itself (trap, out-of-bounds result): the
// instance is discarded and the error surfaces as abi.ErrInternal.
type errTrap struct{ err error }

func (e errTrap) Error() string   { return "wasmhost: module trapped: " + e.err.Error() }
func (e errTrap) Unwrap() []error { return []error{abi.ErrInternal, e.err} }

// errInterrupted marks a call stopped inside the module because its context was done:
// wazero closed the instance, so it is discarded like a trapped one, and the error
// wraps the context's error (context.Canceled or context.DeadlineExceeded).
type errInterrupted struct{ ctx, err error }

func (e errInterrupted) Error() string {
	return "wasmhost: call interrupted: " + e.ctx.Error() + " (" + e.err.Error() + ")"
}
func (e errInterrupted) Unwrap() error { return e.ctx }

// discard reports whether err leaves the instance unusable (a trap, or a call
// interrupted by its context).
func discard(err error) bool {
	var t errTrap
	var i errInterrupted
	return errors.As(err, &t) || errors.As(err, &i)
}

// ctxErr makes err wrap ctx's error when the context is done and err does not say so
// already (wazero reports an instance closed by a done context during instantiation as
// a sys.ExitError only).
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); err != nil && cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, cerr)
	}
	return err
}

// acquire takes a pool slot, giving up when ctx is done first.
func (h *Host) acquire(ctx context.Context) error { return take(ctx, h.slots) }

// lockChange takes the change lock (unlock: <-h.change), giving up when ctx is done
// first: a change waits for the one in progress, which may itself wait for an instance.
func (h *Host) lockChange(ctx context.Context) error { return take(ctx, h.change) }

// take puts a token into ch (a semaphore), giving up when ctx is done first; a ctx
// already done wins even when ch has room.
func take(ctx context.Context, ch chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// get checks out an instance brought up to date with the current state, waiting for
// a free slot when the pool is at its bound.
func (h *Host) get(ctx context.Context) (*instance, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		<-h.slots
		return nil, ErrClosed
	}
	var in *instance
	if n := len(h.idle); n > 0 {
		in, h.idle = h.idle[n-1], h.idle[:n-1]
	}
	st := h.state
	h.mu.Unlock()
	in, err := h.sync(ctx, in, st)
	if err != nil {
		<-h.slots
		return nil, ctxErr(ctx, err)
	}
	return in, nil
}

// sync brings in (nil for none) to state st: an instance of another epoch is replaced
// by a fresh one with everything replayed; an older revocation list is replaced in
// place. On error the instance is closed.
func (h *Host) sync(ctx context.Context, in *instance, st state) (*instance, error) {
	if in != nil && in.epoch != st.epoch {
		in.mod.Close(context.WithoutCancel(ctx))
		in = nil
	}
	if in == nil {
		var err error
		if in, err = h.instantiate(ctx); err != nil {
			return nil, err
		}
		if err := in.replay(ctx, st); err != nil {
			in.mod.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("wasmhost: bringing a new instance up to date: %w", err)
		}
		return in, nil
	}
	if in.revGen != st.revGen {
		for _, l := range st.revs.Lists() {
			if _, err := in.call(ctx, in.loadRevs, l.Body, l.Now, true); err != nil {
				in.mod.Close(context.WithoutCancel(ctx))
				return nil, fmt.Errorf("wasmhost: bringing an instance's revocation list up to date: %w", err)
			}
		}
		in.revGen = st.revGen
	}
	return in, nil
}

// replay applies st to a fresh instance: configuration, keys, revocation list.
func (in *instance) replay(ctx context.Context, st state) error {
	if st.config != nil {
		if _, err := in.call(ctx, in.configure, st.config, 0, false); err != nil {
			return fmt.Errorf("configure: %w", err)
		}
	}
	if st.keys != nil {
		if _, err := in.call(ctx, in.loadKeys, st.keys, 0, false); err != nil {
			return fmt.Errorf("load_keys: %w", err)
		}
	}
	for _, l := range st.revs.Lists() {
		if _, err := in.call(ctx, in.loadRevs, l.Body, l.Now, true); err != nil {
			return fmt.Errorf("load_revocations: %w", err)
		}
	}
	in.epoch, in.revGen = st.epoch, st.revGen
	return nil
}

// put returns a healthy instance to the pool and frees its slot.
func (h *Host) put(in *instance) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		in.mod.Close(context.Background())
	} else {
		h.idle = append(h.idle, in)
		h.mu.Unlock()
	}
	<-h.slots
}

// release ends a checkout: a trapped or interrupted instance is closed, any other
// goes back.
func (h *Host) release(ctx context.Context, in *instance, err error) {
	if err != nil && discard(err) {
		in.mod.Close(context.WithoutCancel(ctx))
		<-h.slots
		return
	}
	h.put(in)
}

// with runs fn on an up-to-date instance and releases it.
func (h *Host) with(ctx context.Context, fn func(ctx context.Context, in *instance) error) error {
	in, err := h.get(ctx)
	if err != nil {
		return h.closedDuring(err)
	}
	err = fn(ctx, in)
	h.release(ctx, in, err)
	return h.closedDuring(err)
}

// closedDuring reports the failure of a call that Close overtook (its instance, or the
// runtime it was starting one in, closed under it) as ErrClosed rather than as a module
// bug (ErrInternal). A status the module answered, and a done context, stay as they are.
func (h *Host) closedDuring(err error) error {
	if err == nil || errors.Is(err, ErrClosed) || abi.StatusOf(err) != abi.StatusInternal ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if !closed {
		return err
	}
	return fmt.Errorf("%w (the call was under way: %v)", ErrClosed, err)
}

// Configure implements verifier.Engine. A refused configuration returns an
// *abi.Error wrapping abi.ErrInvalidConfig whose Reason is the module's explanation
// (the same message as the native engine's). The configuration is validated by a fresh
// instance that also replays the current keys and revocation list; on success every
// instance is brought to the new state before its next call. A revocation list that no
// longer loads under the new configuration (another issuer) is dropped.
func (h *Host) Configure(ctx context.Context, cfg verifier.Config) error {
	config, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("wasmhost: configure: encoding: %w", err)
	}
	return h.rebase(ctx, func(st *state) { st.config = config }, "configure")
}

// LoadKeys implements verifier.Engine, with the same replay rule as Configure: a
// revocation list signed by a key that is no longer in the set is dropped.
func (h *Host) LoadKeys(ctx context.Context, jwks []byte) error {
	return h.rebase(ctx, func(st *state) { st.keys = clone(jwks) }, "load keys")
}

// rebase applies a configuration or key change on a fresh instance and, on success,
// makes it the new epoch.
func (h *Host) rebase(ctx context.Context, change func(*state), what string) error {
	if err := h.lockChange(ctx); err != nil {
		return fmt.Errorf("wasmhost: %s: %w", what, err)
	}
	defer func() { <-h.change }()
	if err := h.acquire(ctx); err != nil {
		return fmt.Errorf("wasmhost: %s: %w", what, err)
	}
	h.mu.Lock()
	closed, next := h.closed, h.state
	h.mu.Unlock()
	if closed {
		<-h.slots
		return ErrClosed
	}
	change(&next)
	next.epoch++
	in, err := h.instantiate(ctx)
	if err != nil {
		<-h.slots
		return fmt.Errorf("wasmhost: %s: %w", what, h.closedDuring(ctxErr(ctx, err)))
	}
	revs := next.revs
	next.revs = heldlists.Held{}
	if err := in.replay(ctx, next); err != nil {
		in.mod.Close(context.WithoutCancel(ctx))
		<-h.slots
		if refused := (*abi.Error)(nil); errors.As(err, &refused) && refused.Sentinel == abi.ErrInvalidConfig {
			return refused // says what to fix, in the native engine's words
		}
		return fmt.Errorf("wasmhost: %s: %w", what, h.closedDuring(err))
	}
	for _, l := range revs.Lists() {
		if _, err := in.call(ctx, in.loadRevs, l.Body, l.Now, true); err == nil {
			next.revs.Add(l.Body, l.Now)
		} else if discard(err) {
			in.mod.Close(context.WithoutCancel(ctx))
			<-h.slots
			return fmt.Errorf("wasmhost: %s: replaying the revocation list: %w", what, h.closedDuring(err))
		} else {
			next.revGen++ // the list is dropped: instances of the old epoch are replaced anyway
		}
	}
	in.epoch, in.revGen = next.epoch, next.revGen
	h.mu.Lock()
	h.state = next
	h.mu.Unlock()
	h.put(in)
	return nil
}

// LoadRevocations implements verifier.Engine. The list is checked on one instance;
// the others load it before their next call.
func (h *Host) LoadRevocations(ctx context.Context, list []byte, now int64) error {
	if err := h.lockChange(ctx); err != nil {
		return fmt.Errorf("wasmhost: load revocations: %w", err)
	}
	defer func() { <-h.change }()
	return h.with(ctx, func(ctx context.Context, in *instance) error {
		if _, err := in.call(ctx, in.loadRevs, list, now, true); err != nil {
			return fmt.Errorf("wasmhost: load revocations: %w", err)
		}
		h.mu.Lock()
		h.state.revs.Add(list, now)
		h.state.revGen++
		in.revGen = h.state.revGen
		h.mu.Unlock()
		return nil
	})
}

// Decide implements verifier.Engine. It uses the compact form (decide_compact, and
// identity only when the decision has one whose identity key the instance has not
// read already): the request is encoded straight into the module's buffer, and no JSON
// is written or read on either side.
func (h *Host) Decide(ctx context.Context, req verifier.Request, now int64) (verifier.Decision, error) {
	if req.Path == "" {
		// Refused here, as the native engine refuses it: the module would decide it as
		// a protected path (verifier/ABI.md, "decide").
		if err := ctx.Err(); err != nil {
			return verifier.Decision{}, fmt.Errorf("wasmhost: decide: %w", err)
		}
		return verifier.Decision{}, fmt.Errorf("wasmhost: decide: %w: empty path (Request.Path is the request's path, \"/\" at least)", verifier.ErrInvalidRequest)
	}
	// h.with's closure would put d on the heap: the checkout is spelled out.
	in, err := h.get(ctx)
	if err != nil {
		return verifier.Decision{}, fmt.Errorf("wasmhost: decide: %w", h.closedDuring(err))
	}
	d, err := in.decideCompactCall(ctx, req, now)
	h.release(ctx, in, err)
	if err != nil {
		return verifier.Decision{}, fmt.Errorf("wasmhost: decide: %w", h.closedDuring(err))
	}
	return d, nil
}

// decideJSON decides through the JSON export (decide), for tests that check both
// forms agree.
func (h *Host) decideJSON(ctx context.Context, req verifier.Request, now int64) (verifier.Decision, error) {
	var d verifier.Decision
	err := h.with(ctx, func(ctx context.Context, in *instance) error {
		var err error
		d, err = in.decideJSONCall(ctx, req, now)
		return err
	})
	if err != nil {
		return verifier.Decision{}, fmt.Errorf("wasmhost: decide: %w", err)
	}
	return d, nil
}

// VerifyToken implements verifier.Engine.
func (h *Host) VerifyToken(ctx context.Context, token string, now int64) (verifier.Claims, error) {
	var c verifier.Claims
	if err := ctx.Err(); err != nil {
		// Before the size, as for every other call.
		return c, fmt.Errorf("wasmhost: verify token: %w", err)
	}
	if len(token) > abi.BufferCap {
		// Too large for the buffer, and too large for any token rule: both sentinels
		// match, and the status is TooLarge, as natively.
		return c, fmt.Errorf("wasmhost: verify token: %w (%w: %d bytes)", abi.ErrTooLarge, abi.ErrInputTooLarge, len(token))
	}
	err := h.with(ctx, func(ctx context.Context, in *instance) error {
		out, err := in.call(ctx, in.verifyToken, []byte(token), now, true)
		if err != nil {
			return err
		}
		if c, err = decodeClaims(out); err != nil {
			return fmt.Errorf("%w: decoding claims: %w", abi.ErrInternal, err)
		}
		return nil
	})
	if err != nil {
		return verifier.Claims{}, fmt.Errorf("wasmhost: verify token: %w", err)
	}
	return c, nil
}

// VerifySignature runs the module's raw signature check (the verify_signature export,
// input built with abi.EncodeSignatureCheck). It exists for conformance vectors that
// are not JWS; it needs no configuration or keys.
func (h *Host) VerifySignature(ctx context.Context, input []byte) error {
	err := h.with(ctx, func(ctx context.Context, in *instance) error {
		_, err := in.call(ctx, in.verSig, input, 0, false)
		return err
	})
	if err != nil {
		return fmt.Errorf("wasmhost: verify signature: %w", err)
	}
	return nil
}

// HostSignatureChecks returns how many signatures the host has checked for the module
// on the two-phase path (Options.ModuleSignatures): a test and monitoring aid.
func (h *Host) HostSignatureChecks() uint64 { return h.hostChecks.Load() }

// MemorySize returns the linear memory size in bytes of one idle instance (0 when none
// is idle): a test and monitoring aid, since a module that leaks grows its memory.
func (h *Host) MemorySize() uint32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.idle) == 0 {
		return 0
	}
	return h.idle[len(h.idle)-1].mem.Size()
}

// Close releases the runtime and every instance. Calls made after Close return
// ErrClosed; Close waits for no call in progress but their instances are closed too,
// and such a call, if it had not finished, returns ErrClosed as well.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.idle = nil
	h.mu.Unlock()
	return h.rt.Close(ctx)
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

var _ verifier.Engine = (*Host)(nil)
