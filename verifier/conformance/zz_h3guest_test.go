package conformance

import (
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/gate/gatetest"
)

func BenchmarkH3GuestDecide(b *testing.B) {
	ctx := context.Background()
	wasm, err := os.ReadFile(os.Getenv("H3WASM"))
	if err != nil {
		b.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		b.Fatal(err)
	}
	ptrRes, _ := mod.ExportedFunction(abi.ExportBufPtr).Call(ctx)
	ptr := uint32(ptrRes[0])
	call := func(name string, in []byte, args ...uint64) (abi.Status, []byte) {
		if !mod.Memory().Write(ptr, in) {
			b.Fatal("write")
		}
		res, err := mod.ExportedFunction(name).Call(ctx, append([]uint64{uint64(len(in))}, args...)...)
		if err != nil {
			b.Fatal(err)
		}
		st, n := abi.Unpack(res[0])
		out, _ := mod.Memory().Read(ptr, n)
		return st, out
	}
	if st, _ := call(abi.ExportConfigure, gatetest.MustJSON(gatetest.Config())); st != 0 {
		b.Fatal("configure", st)
	}
	if st, _ := call(abi.ExportLoadKeys, gatetest.JWKS()); st != 0 {
		b.Fatal("keys", st)
	}
	for _, tc := range []struct {
		name string
		req  verifier.Request
	}{
		{"cache-hit-allow", verifier.Request{Method: "GET", Path: "/admin/users", Query: "tab=1", Cookies: []string{"theme=dark; _ga=GA1.2.3", gatetest.AccessName + "=" + gatetest.Valid}}},
		{"no-token-redirect", verifier.Request{Method: "GET", Path: "/dashboard", Query: "tab=1"}},
		{"public-with-other-cookies", verifier.Request{Method: "GET", Path: "/", Cookies: []string{"theme=dark; _ga=GA1.2.3; x=" + gatetest.Valid}}},
		{"public-cache-hit", verifier.Request{Method: "GET", Path: "/", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}},
		{"expired-refresh", verifier.Request{Method: "GET", Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Expired}}},
	} {
		req := gatetest.MustJSON(tc.req)
		b.Run(tc.name, func(b *testing.B) {
			fn := mod.ExportedFunction(abi.ExportDecide)
			mod.Memory().Write(ptr, req)
			for b.Loop() {
				res, err := fn.Call(ctx, uint64(len(req)), uint64(gatetest.Now))
				if err != nil {
					b.Fatal(err)
				}
				if st, _ := abi.Unpack(res[0]); st != 0 {
					b.Fatal(st)
				}
				mod.Memory().Write(ptr, req) // the output overwrote the buffer
			}
		})
	}
}
