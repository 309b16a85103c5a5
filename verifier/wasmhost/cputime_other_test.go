//go:build !linux

package wasmhost

// threadCPU is unavailable off Linux; benchmarks then report wall time only.
func threadCPU() int64 { return 0 }
