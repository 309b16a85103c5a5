package wasmhost

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/edgeauth/edgeauth/verifier/abi"
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
