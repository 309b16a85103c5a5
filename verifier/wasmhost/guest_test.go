package wasmhost

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// The guest checks lengths itself too: a host that skips its own check gets status
// InputTooLarge and no output, and the instance stays usable.
func TestGuestRefusesLengthsBeyondItsBuffer(t *testing.T) {
	h, err := NewEmbedded(context.Background(), Options{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	in, err := h.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer h.put(in)
	if in.bufCap != abi.BufferCap {
		t.Fatalf("buf_cap %d, want abi.BufferCap %d", in.bufCap, abi.BufferCap)
	}
	for _, tc := range []struct {
		name string
		fn   api.Function
		n    uint32
	}{
		{"configure", in.configure, in.bufCap + 1},
		{"load_keys", in.loadKeys, 1 << 31},
		{"load_revocations", in.loadRevs, in.bufCap + 1},
		{"decide", in.decide, ^uint32(0)},
		{"verify_token", in.verifyToken, in.bufCap + 1},
		{"verify_signature", in.verSig, in.bufCap + 1},
		{"decide_compact", in.decideCompact, in.bufCap + 1},
	} {
		stack := []uint64{api.EncodeU32(tc.n), 0}
		if err := tc.fn.CallWithStack(context.Background(), stack); err != nil {
			t.Fatalf("%s: trapped: %v", tc.name, err)
		}
		if st, n := abi.Unpack(stack[0]); st != abi.StatusInputTooLarge || n != 0 {
			t.Errorf("%s(len %d) = status %d, length %d; want InputTooLarge, 0", tc.name, tc.n, st, n)
		}
	}
	if _, err := in.call(context.Background(), in.verifyToken, []byte("a.b.c"), 1, true); err == nil || discard(err) {
		t.Fatalf("instance unusable after refused lengths: %v", err)
	}
}

// heapAllocs reads the guest's allocation counter (the heap_allocs export).
func heapAllocs(t testing.TB, in *instance) uint64 {
	t.Helper()
	stack := []uint64{0}
	if err := in.mod.ExportedFunction(abi.ExportHeapAllocs).CallWithStack(context.Background(), stack); err != nil {
		t.Fatal(err)
	}
	return stack[0]
}

// TestCompactCacheHitAllocatesNothingInTheGuest decides a repeat visitor's request many
// times through decide_compact and identity and checks, with TinyGo's own allocation
// counter, that the module allocated nothing (so its collector never runs on the hot
// path) and that its memory did not grow.
func TestCompactCacheHitAllocatesNothingInTheGuest(t *testing.T) {
	h, req := benchHost(t)
	ctx := context.Background()
	in, err := h.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer h.put(in)
	d, err := in.decideCompactCall(ctx, req, vectors.Now)
	if err != nil || d.Identity == nil {
		t.Fatal(d, err)
	}
	before, size := heapAllocs(t, in), in.mem.Size()
	for range 10000 {
		if d, err = in.decideCompactCall(ctx, req, vectors.Now); err != nil || d.Identity == nil {
			t.Fatal(d, err)
		}
	}
	if n := heapAllocs(t, in) - before; n != 0 {
		t.Errorf("10000 cache-hit decisions allocated %d times in the guest", n)
	}
	if in.mem.Size() != size {
		t.Errorf("guest memory grew from %d to %d bytes", size, in.mem.Size())
	}
	// The JSON form, for contrast, allocates (the copy of the request it parses): the
	// counter counts, so the zero above is the hot path's and not a counter that stands
	// still.
	input, _ := json.Marshal(req)
	before = heapAllocs(t, in)
	if _, err := in.call(ctx, in.decide, input, vectors.Now, true); err != nil {
		t.Fatal(err)
	}
	if heapAllocs(t, in) == before {
		t.Error("the JSON form allocated nothing either: heap_allocs does not count, and the zero above proves nothing")
	}
}
