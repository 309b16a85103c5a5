package wasmhost

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
)

// The modules under testdata are built from the .wat files beside them with wat2wasm;
// fake.wasm satisfies the ABI with canned answers: verify_token returns
// StatusExpired, verify_signature StatusSignatureInvalid, and decide and decide_compact trap.

func load(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewRejectsModulesOutsideTheABI(t *testing.T) {
	for _, tc := range []struct{ module, want string }{
		{"empty", `no exported memory "memory"`},
		{"imports", "imports env.now"},
		{"missing", `export "verify_signature" missing`},
		{"badtype", `export "decide" has type (i32, i32) -> (i64), want (i32, i64) -> (i64)`},
		{"version2", "abi_version is 2, this host speaks 1"},
		{"halftwophase", `export "signature_verdict" missing`},
	} {
		t.Run(tc.module, func(t *testing.T) {
			h, err := New(context.Background(), load(t, tc.module), Options{})
			if err == nil {
				h.Close(context.Background())
				t.Fatal("module accepted")
			}
			if !errors.Is(err, ErrModule) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q: want ErrModule containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(context.Background(), []byte("not wasm"), Options{}); err == nil {
		t.Fatal("garbage compiled")
	}
}

func TestStatusesBecomeSentinelsAndTrapsDiscardInstances(t *testing.T) {
	h, err := New(context.Background(), load(t, "fake"), Options{PoolSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if err := h.Configure(context.Background(), verifier.Config{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if _, err := h.VerifyToken(context.Background(), "x", 1); !errors.Is(err, abi.ErrExpired) {
					errs <- err
				}
				if _, err := h.Decide(context.Background(), verifier.Request{Path: "/"}, 1); !errors.Is(err, abi.ErrInternal) {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("unexpected result: %v", err)
	}
	if err := h.VerifySignature(context.Background(), nil); !errors.Is(err, abi.ErrSignatureInvalid) {
		t.Fatalf("verify_signature: %v", err)
	}
	h.mu.Lock()
	idle := len(h.idle)
	h.mu.Unlock()
	if idle < 1 || idle > 3 {
		t.Fatalf("%d idle instances, pool bound 3", idle)
	}
}

func TestInputLargerThanBufferRefusedBeforeWriting(t *testing.T) {
	h, err := New(context.Background(), load(t, "fake"), Options{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	big := strings.Repeat("a", abi.BufferCap+1)
	if _, err := h.VerifyToken(context.Background(), big, 1); !errors.Is(err, abi.ErrInputTooLarge) {
		t.Fatalf("got %v", err)
	}
	if err := h.LoadKeys(context.Background(), []byte(big)); !errors.Is(err, abi.ErrInputTooLarge) {
		t.Fatalf("got %v", err)
	}
	if _, err := h.VerifyToken(context.Background(), big[:abi.BufferCap], 1); !errors.Is(err, abi.ErrExpired) {
		t.Fatalf("an input of exactly buf_cap bytes: %v", err)
	}
}

func TestClose(t *testing.T) {
	h, err := New(context.Background(), load(t, "fake"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.VerifyToken(context.Background(), "x", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := h.Configure(context.Background(), verifier.Config{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestEmbeddedModuleLoads(t *testing.T) {
	h, err := NewEmbedded(context.Background(), Options{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if _, err := h.VerifyToken(context.Background(), "x", 1); err == nil {
		t.Fatal("an unconfigured module accepted a token")
	}
}

func TestCloseWhileCallsRun(t *testing.T) {
	h, err := New(context.Background(), load(t, "fake"), Options{PoolSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				_, err := h.VerifyToken(context.Background(), "x", 1)
				if errors.Is(err, ErrClosed) {
					return
				}
				if !errors.Is(err, abi.ErrExpired) && !errors.Is(err, abi.ErrInternal) {
					t.Errorf("unexpected error: %v", err)
					return
				}
			}
		}()
	}
	h.Close(context.Background())
	wg.Wait()
	if _, err := h.VerifyToken(context.Background(), "x", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// New honours its context as the Host's methods do: one that is done already refuses
// to compile anything, and no runtime is left behind.
func TestNewWithADoneContext(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, opts := range []Options{{}, {StopOnContextDone: true}} {
		h, err := NewEmbedded(cancelled, opts)
		if h != nil {
			h.Close(context.Background())
		}
		if h != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("New with a cancelled context (StopOnContextDone %v): host %v, error %v", opts.StopOnContextDone, h != nil, err)
		}
	}
}
