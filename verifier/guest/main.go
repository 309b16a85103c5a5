// Command guest is the WebAssembly shim around package gate: TinyGo compiles it into
// verifier/verifier.wasm (see wasm.mk). Every export only checks the input length,
// calls the gate and packs the result; all logic lives in package gate, which the
// native engine runs unchanged. The ABI (exports, buffer, result packing, status
// codes) is named in package abi and documented in verifier/ABI.md.
//
// The module owns one static buffer of abi.BufferCap bytes. The host writes an input at
// buf_ptr, calls an export with its length, and reads the output (if any) from
// buf_ptr. The module imports nothing, so it runs in every JS edge runtime and in
// wazero: there is no clock, and the host passes now (unix seconds).
package main

import (
	"errors"
	"runtime"
	"unsafe"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate"
	"github.com/edgeauth/edgeauth/verifier/internal/policy"
)

// buf is the shared input/output buffer. Inputs are read from it in place; outputs are
// built in out and copied here only when they fit. It is a heap slice rather than a
// static array because TinyGo's collector scans the data and bss sections
// conservatively on every cycle, and a pointer-free heap object is never scanned.
var buf = make([]byte, abi.BufferCap)

// out is the reusable output scratch space. The gate appends to out[:0], so outputs
// never alias the input they are computed from.
var out = make([]byte, 0, 4096)

// g is the single gate of this instance (an instance is single-threaded).
var g = gate.New()

func main() {}

//export abi_version
func abiVersion() uint32 { return abi.Version }

//export buf_ptr
func bufPtr() uint32 { return uint32(uintptr(unsafe.Pointer(&buf[0]))) }

//export buf_cap
func bufCap() uint32 { return abi.BufferCap }

//export configure
func configure(n uint32) uint64 {
	in, ok := input(n)
	if !ok {
		return abi.Pack(abi.StatusInputTooLarge, 0)
	}
	err := g.Configure(in)
	var refused *policy.ConfigError
	if errors.As(err, &refused) {
		// The one status with an output: the reason, so that every host can say what
		// to fix (verifier/ABI.md, "configure").
		return abi.Pack(abi.StatusInvalidConfig, uint32(copy(buf, refused.Reason())))
	}
	return status(err)
}

//export load_keys
func loadKeys(n uint32) uint64 {
	in, ok := input(n)
	if !ok {
		return abi.Pack(abi.StatusInputTooLarge, 0)
	}
	return status(g.LoadKeys(in))
}

//export load_revocations
func loadRevocations(n uint32, now int64) uint64 {
	in, ok := input(n)
	if !ok {
		return abi.Pack(abi.StatusInputTooLarge, 0)
	}
	return status(g.LoadRevocations(in, now))
}

//export decide
func decide(n uint32, now int64) uint64 {
	in, ok := input(n)
	if !ok {
		return abi.Pack(abi.StatusInputTooLarge, 0)
	}
	res, err := g.Decide(in, now, out[:0])
	return output(res, err)
}

//export decide_compact
func decideCompact(n uint32, now int64) uint64 {
	in, ok := input(n)
	if !ok {
		return abi.Pack(abi.StatusInputTooLarge, 0)
	}
	res, err := g.DecideCompact(in, now, out[:0])
	return output(res, err)
}

//export identity
func identity() uint64 { return output(g.AppendLastIdentity(out[:0]), nil) }

//export heap_allocs
func heapAllocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

//export verify_token
func verifyToken(n uint32, now int64) uint64 {
	in, ok := input(n)
	if !ok {
		return abi.Pack(abi.StatusInputTooLarge, 0)
	}
	res, err := g.VerifyToken(in, now, out[:0])
	return output(res, err)
}

//export verify_signature
func verifySignature(n uint32) uint64 {
	in, ok := input(n)
	if !ok {
		return abi.Pack(abi.StatusInputTooLarge, 0)
	}
	return output(nil, g.VerifySignature(in))
}

//export host_signatures
func hostSignatures(mask uint32) uint64 { return status(g.SetHostSignatures(mask)) }

//export signature_verdict
func signatureVerdict(valid uint32) uint64 { return status(g.SignatureVerdict(valid)) }

// input returns the n bytes the host wrote at buf_ptr; ok is false when n exceeds the
// buffer (a host bug: hosts refuse such inputs before writing).
func input(n uint32) ([]byte, bool) {
	if n > abi.BufferCap {
		return nil, false
	}
	return buf[:n], true
}

// status packs an error-only result.
func status(err error) uint64 { return abi.Pack(abi.StatusOf(err), 0) }

// output copies a successful result into the buffer and packs its length. A result
// that does not fit is refused with StatusTooLarge and nothing is written. The scratch
// space keeps the largest capacity seen (bounded by what fits), so steady-state calls
// do not allocate.
func output(res []byte, err error) uint64 {
	if cap(res) > cap(out) && cap(res) <= abi.BufferCap {
		out = res[:0]
	}
	if err != nil {
		st := abi.StatusOf(err)
		if st == abi.StatusNeedSignature {
			// The other status with an output: the signature question for the host
			// (verifier/ABI.md, "Two-phase verification"), written straight into the
			// buffer (the gate builds it from its own copies); it always fits.
			q := g.AppendSignatureQuestion(buf[:0])
			if len(q) == 0 || len(q) > len(buf) || &q[0] != &buf[0] {
				return abi.Pack(abi.StatusInternal, 0)
			}
			return abi.Pack(st, uint32(len(q)))
		}
		return abi.Pack(st, 0)
	}
	if len(res) > abi.BufferCap {
		return abi.Pack(abi.StatusTooLarge, 0)
	}
	return abi.Pack(abi.StatusOK, uint32(copy(buf[:], res)))
}
