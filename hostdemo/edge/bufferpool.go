package edge

import "sync"

// BufferPool is an httputil.BufferPool of 32 KiB buffers, the size
// httputil.ReverseProxy copies responses with. Without one, the proxy allocates and
// zeroes 32 KiB for every response (make bench-edge's profile: a tenth of the edge's CPU
// with the collector's share). hostdemo's proxies use one; internal/edgebench's pooled
// baseline uses the same type, so that it stays hostdemo's proxy without the gate.
// The zero value is ready to use.
type BufferPool struct{ p sync.Pool }

const copyBufferSize = 32 << 10

// Get lends a buffer of 32 KiB.
func (b *BufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[copyBufferSize]byte); ok {
		return buf[:]
	}
	return new([copyBufferSize]byte)[:]
}

// Put takes a buffer back; one of another size is left to the collector.
func (b *BufferPool) Put(buf []byte) {
	if len(buf) == copyBufferSize {
		b.p.Put((*[copyBufferSize]byte)(buf)) // a pointer: nothing allocated to pool it
	}
}
