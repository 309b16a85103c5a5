//go:build !linux

package verifier

// threadCPU is unavailable off Linux; benchmarks then report wall time only.
func threadCPU() int64 { return 0 }
