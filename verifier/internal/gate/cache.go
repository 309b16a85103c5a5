package gate

import (
	"github.com/edgeauth/edgeauth/verifier/internal/words"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// tokenCache remembers the claims of tokens whose signature and claims checked out,
// keyed by the exact token bytes, so a repeated token skips the signature check.
//
// It is a ring of entries (the oldest is evicted first) and an open-addressing index
// of at least twice as many slots (linear probing, backward-shift deletion, no
// tombstones). Memory grows with use, not up front: both start small and double as
// entries arrive, up to the configured bound (a serverless edge creates instances
// often, and most see few tokens); from then on a stream of distinct tokens only
// evicts, so memory stays flat. Every operation is O(1) on average (amortised over
// the doublings). The cache stores claims only: a hit still re-checks the time claims
// and the revocation list (see Gate.check).
type tokenCache struct {
	entries []cacheEntry // len: entries in use so far; grows to limit, then a ring
	slots   []int32      // entry index + 1; 0 is empty
	mask    uint64
	limit   int // configured bound on entries (0: disabled)
	next    int // ring position of the next insertion, once len(entries) == limit
	n       int // live entries

	hits, misses uint64
}

// CacheStats describes the verified-token cache, for tests and metrics.
type CacheStats struct {
	Entries, Capacity int    // live entries, configured bound
	Hits, Misses      uint64 // lookups since the last Configure
}

// CacheStats returns the cache's counters.
func (g *Gate) CacheStats() CacheStats {
	c := &g.cache
	return CacheStats{Entries: c.n, Capacity: c.limit, Hits: c.hits, Misses: c.misses}
}

type cacheEntry struct {
	hash   uint64
	serial uint32 // the identity key of the entry (see Gate.check)
	token  string
	claims jose.Claims
}

// initialEntries is how many entries a cache holds before it first grows.
const initialEntries = 16

// newTokenCache returns a cache bounded to size entries (size <= 0: disabled). It
// allocates nothing until the first put.
func newTokenCache(size int) tokenCache {
	if size <= 0 {
		return tokenCache{}
	}
	return tokenCache{limit: size}
}

// grow makes room for one more entry before the bound is reached: it doubles the
// entries' capacity (up to the bound) and keeps the index at least twice that size,
// reindexing when the index grows.
func (c *tokenCache) grow() {
	if len(c.entries) == cap(c.entries) {
		n := min(max(2*cap(c.entries), initialEntries), c.limit)
		e := make([]cacheEntry, len(c.entries), n)
		copy(e, c.entries)
		c.entries = e
	}
	want := 1
	for want < 2*cap(c.entries) {
		want <<= 1
	}
	if len(c.slots) >= want {
		return
	}
	c.slots, c.mask = make([]int32, want), uint64(want-1)
	for idx := range c.entries {
		c.index(c.entries[idx].hash, int32(idx+1))
	}
}

// index puts ref into the first free slot of h's probe run.
func (c *tokenCache) index(h uint64, ref int32) {
	i := h & c.mask
	for c.slots[i] != 0 {
		i = (i + 1) & c.mask
	}
	c.slots[i] = ref
}

// hashedBytes is how much of a token's end hashToken reads.
const hashedBytes = 32

// hashToken mixes the token's length and its last hashedBytes bytes (all of a shorter
// token), eight at a time (multiply and xor-shift, as in wyhash/murmur finalisers). A
// compact JWS ends with its signature, and only tokens whose signature verified enter
// the cache: their last 32 characters (24 bytes of signature) tell them apart as well
// as the whole would, and hashing runs on every decision. Lookup keys are
// attacker-chosen, but a collision only costs a longer probe: the chains hold cached
// tokens only, the table is bounded, and every probe compares the full token.
func hashToken(t string) uint64 {
	const m = 0x9E3779B97F4A7C15
	h := uint64(len(t)) * m
	if len(t) > hashedBytes {
		t = t[len(t)-hashedBytes:]
	}
	i := 0
	for ; i+8 <= len(t); i += 8 {
		h = (h ^ words.Load64(t, i)) * m
		h ^= h >> 32
	}
	for ; i < len(t); i++ {
		h = (h ^ uint64(t[i])) * m
	}
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	return h ^ h>>32
}

func (c *tokenCache) get(token string) (*cacheEntry, bool) {
	e, ok := c.find(token)
	if ok {
		c.hits++
		return e, true
	}
	c.misses++
	return nil, false
}

func (c *tokenCache) find(token string) (*cacheEntry, bool) {
	if c.n == 0 {
		return nil, false
	}
	h := hashToken(token)
	for i := h & c.mask; ; i = (i + 1) & c.mask {
		s := c.slots[i]
		if s == 0 {
			return nil, false
		}
		e := &c.entries[s-1]
		if e.hash == h && words.Equal(e.token, token) {
			return e, true
		}
	}
}

// put stores claims under token with an identity key (evicting the oldest entry
// when full) and returns the stored entry; nil when the cache is disabled.
func (c *tokenCache) put(token string, claims jose.Claims, serial uint32) *cacheEntry {
	if c.limit == 0 {
		return nil
	}
	if e, ok := c.find(token); ok {
		return e
	}
	var idx int
	if len(c.entries) < c.limit {
		c.grow()
		idx = len(c.entries)
		c.entries = c.entries[:idx+1]
	} else {
		idx = c.next
		c.next = (c.next + 1) % c.limit
		c.unindex(c.entries[idx].hash, int32(idx+1))
		c.n--
	}
	h := hashToken(token)
	e := &c.entries[idx]
	*e = cacheEntry{hash: h, serial: serial, token: token, claims: claims}
	c.index(h, int32(idx+1))
	c.n++
	return e
}

// unindex removes the slot pointing at entry ref, then shifts later entries of the
// probe run back so that lookups never stop early at the hole.
func (c *tokenCache) unindex(h uint64, ref int32) {
	i := h & c.mask
	for c.slots[i] != ref {
		i = (i + 1) & c.mask
	}
	c.slots[i] = 0
	for j := (i + 1) & c.mask; c.slots[j] != 0; j = (j + 1) & c.mask {
		home := c.entries[c.slots[j]-1].hash & c.mask
		// Move slot j into the hole i when its home position is not in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			c.slots[i], c.slots[j] = c.slots[j], 0
			i = j
		}
	}
}

// flush empties the cache and releases its memory (it grows again with use).
func (c *tokenCache) flush() {
	*c = tokenCache{limit: c.limit, hits: c.hits, misses: c.misses}
}
