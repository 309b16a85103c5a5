package wasmhost

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
)

// firingCtx is a context that becomes done, with err, only when fire is called. The
// tests fire it from inside a module call (a function listener on the export), so the
// call is interrupted while it runs in the module, never before it starts, and no test
// depends on how fast the machine is.
type firingCtx struct {
	context.Context
	done chan struct{}
	err  error
	once sync.Once
}

type firingKey struct{}

func newFiringCtx(err error) *firingCtx {
	return &firingCtx{Context: context.Background(), done: make(chan struct{}), err: err}
}

func (c *firingCtx) Done() <-chan struct{} { return c.done }
func (c *firingCtx) fire()                 { c.once.Do(func() { close(c.done) }) }
func (c *firingCtx) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}
func (c *firingCtx) Value(key any) any {
	if key == (firingKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// firesOn returns a context for New whose compiled module fires the call's firingCtx
// when one of the named exports is entered, and returns to the module once wazero has
// seen the context done.
func firesOn(exports ...string) context.Context {
	return experimental.WithFunctionListenerFactory(context.Background(),
		experimental.FunctionListenerFactoryFunc(func(def api.FunctionDefinition) experimental.FunctionListener {
			if !slices.ContainsFunc(def.ExportNames(), func(n string) bool { return slices.Contains(exports, n) }) {
				return nil
			}
			return experimental.FunctionListenerFunc(func(ctx context.Context, mod api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
				c, ok := ctx.Value(firingKey{}).(*firingCtx)
				if !ok {
					return
				}
				c.fire()
				// wazero notices a done context on a goroutine of its own; wait until it
				// has marked the instance closed, so the call cannot finish first.
				for ctx.Err() != nil && !mod.IsClosed() {
					runtime.Gosched()
				}
			})
		}))
}

// spin.wasm is fake.wasm whose decide, decide_compact and load_keys loop forever: only a done context
// ends them.
func TestContextStopsACallInsideTheModule(t *testing.T) {
	h, err := New(firesOn(abi.ExportDecideCompact, abi.ExportLoadKeys), load(t, "spin"), Options{PoolSize: 1, StopOnContextDone: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	works := func(step string) {
		t.Helper()
		if _, err := h.VerifyToken(context.Background(), "x", 1); !errors.Is(err, abi.ErrExpired) {
			t.Fatalf("%s: the host no longer works: %v", step, err)
		}
	}
	works("before")
	for _, want := range []error{context.Canceled, context.DeadlineExceeded} {
		ctx := newFiringCtx(want)
		_, err := h.Decide(ctx, verifier.Request{Path: "/"}, 1)
		var in errInterrupted
		if !errors.Is(err, want) || !errors.As(err, &in) {
			t.Fatalf("decide interrupted by %v: got %v", want, err)
		}
		works("after an interrupted decide")
	}

	// Configuration and keys are applied on a fresh instance: an interrupted change
	// leaves the host's state as it was.
	h.mu.Lock()
	before := h.state
	h.mu.Unlock()
	ctx := newFiringCtx(context.DeadlineExceeded)
	if err := h.LoadKeys(ctx, []byte(`{"keys":[]}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("load keys interrupted: got %v", err)
	}
	h.mu.Lock()
	after := h.state
	h.mu.Unlock()
	if after.epoch != before.epoch || after.keys != nil {
		t.Fatalf("an interrupted LoadKeys changed the state: epoch %d -> %d, keys %q", before.epoch, after.epoch, after.keys)
	}
	works("after an interrupted load_keys")
}

// A call waiting for an instance (the pool is at its bound) gives up when its context
// is done, and the pool is intact afterwards.
func TestContextStopsAWaitForAnInstance(t *testing.T) {
	h, err := New(firesOn(abi.ExportDecideCompact), load(t, "spin"), Options{PoolSize: 1, StopOnContextDone: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())

	// Hold the only instance with a decide that runs until its context is cancelled.
	holding, release := context.WithCancel(context.Background())
	entered := make(chan struct{})
	held := make(chan error, 1)
	go func() {
		inner := newFiringCtx(context.Canceled) // fired on entry: signals that the slot is held
		go func() { <-inner.done; close(entered); <-holding.Done() }()
		_, err := h.Decide(holdCtx{inner, holding}, verifier.Request{Path: "/"}, 1)
		held <- err
	}()
	<-entered

	waiting, cancel := context.WithCancel(context.Background())
	go cancel()
	if _, err := h.VerifyToken(waiting, "x", 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting for an instance: got %v", err)
	}
	release()
	if err := <-held; !errors.Is(err, context.Canceled) {
		t.Fatalf("the holding call: got %v", err)
	}
	if _, err := h.VerifyToken(context.Background(), "x", 1); !errors.Is(err, abi.ErrExpired) {
		t.Fatalf("after: %v", err)
	}
}

// holdCtx carries the firingKey of fired (so the listener signals entry) but is done
// only with done.
type holdCtx struct {
	fired *firingCtx
	context.Context
}

func (c holdCtx) Value(key any) any {
	if key == (firingKey{}) {
		return c.fired
	}
	return c.Context.Value(key)
}

// The committed module: a context done while decide runs stops it inside the module
// (its loops check the context), and the next call works.
func TestContextStopsTheRealModule(t *testing.T) {
	h, err := NewEmbedded(firesOn(abi.ExportDecideCompact, abi.ExportVerifyToken), Options{PoolSize: 1, StopOnContextDone: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	bg := context.Background()
	if err := h.Configure(bg, gatetest.Config()); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadKeys(bg, gatetest.JWKS()); err != nil {
		t.Fatal(err)
	}
	req := verifier.Request{Method: "GET", Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}
	for _, want := range []error{context.Canceled, context.DeadlineExceeded} {
		var in errInterrupted
		if _, err := h.Decide(newFiringCtx(want), req, gatetest.Now); !errors.Is(err, want) || !errors.As(err, &in) {
			t.Fatalf("decide: got %v, want %v inside the module", err, want)
		}
		if _, err := h.VerifyToken(newFiringCtx(want), gatetest.Valid, gatetest.Now); !errors.Is(err, want) || !errors.As(err, &in) {
			t.Fatalf("verify token: got %v, want %v inside the module", err, want)
		}
		d, err := h.Decide(bg, req, gatetest.Now)
		if err != nil || d.Action != verifier.ActionAllow {
			t.Fatalf("after an interrupted call: %+v %v", d, err)
		}
	}
}

// A change (Configure, LoadKeys, LoadRevocations) waits for the one in progress, and
// gives up when its context is done: at once when it is done already, else when it
// becomes done while waiting.
func TestContextStopsAWaitForAnotherChange(t *testing.T) {
	h, err := New(firesOn(abi.ExportLoadKeys), load(t, "spin"), Options{PoolSize: 2, StopOnContextDone: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())

	// A LoadKeys that runs inside the module until holding is cancelled.
	holding, release := context.WithCancel(context.Background())
	entered := make(chan struct{})
	held := make(chan error, 1)
	go func() {
		inner := newFiringCtx(context.Canceled) // fired on entry: signals that the change is under way
		go func() { <-inner.done; close(entered); <-holding.Done() }()
		held <- h.LoadKeys(holdCtx{inner, holding}, []byte(`{"keys":[]}`))
	}()
	<-entered
	defer func() {
		release()
		if err := <-held; !errors.Is(err, context.Canceled) {
			t.Fatalf("the holding call: got %v", err)
		}
		if _, err := h.VerifyToken(context.Background(), "x", 1); !errors.Is(err, abi.ErrExpired) {
			t.Fatalf("after: %v", err)
		}
	}()

	returns := func(what string, call func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still waits for the change in progress", what)
			return nil
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for name, call := range map[string]func(ctx context.Context) error{
		"Configure":       func(ctx context.Context) error { return h.Configure(ctx, verifier.Config{}) },
		"LoadKeys":        func(ctx context.Context) error { return h.LoadKeys(ctx, []byte(`{"keys":[]}`)) },
		"LoadRevocations": func(ctx context.Context) error { return h.LoadRevocations(ctx, []byte("x"), 1) },
	} {
		if err := returns(name, func() error { return call(cancelled) }); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context, behind a change in progress: %v", name, err)
		}
		waiting, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := returns(name, func() error { return call(waiting) })
		stop()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s whose deadline passes while it waits for a change in progress: %v", name, err)
		}
	}
}

// A call running inside the module when the host is closed fails with ErrClosed (which
// wraps verifier.ErrClosed), not as a module bug (ErrInternal).
func TestCloseStopsACallInsideTheModule(t *testing.T) {
	h, err := New(firesOn(abi.ExportDecideCompact), load(t, "spin"), Options{PoolSize: 1, StopOnContextDone: true})
	if err != nil {
		t.Fatal(err)
	}
	inner := newFiringCtx(context.Canceled) // fired on entry, never done for the call
	running := make(chan error, 1)
	go func() {
		_, err := h.Decide(holdCtx{inner, context.Background()}, verifier.Request{Path: "/"}, 1)
		running <- err
	}()
	<-inner.done
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-running:
		if !errors.Is(err, ErrClosed) || !errors.Is(err, verifier.ErrClosed) || errors.Is(err, abi.ErrInternal) {
			t.Fatalf("a call running when the host closed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call running in the module outlived Close")
	}
}
