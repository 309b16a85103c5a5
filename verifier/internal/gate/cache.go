package gate

import "github.com/edgeauth/edgeauth/verifier/jose"

// tokenCache remembers the claims of tokens whose signature and claims checked out,
// keyed by the exact token bytes, so a repeated token skips the signature check.
//
// Memory is fixed when the cache is created: a ring of entries (the oldest is evicted
// first) and an open-addressing index of twice as many slots (linear probing,
// backward-shift deletion, no tombstones), so a stream of distinct tokens never grows
// it. Every operation is O(1) on average. The cache stores claims only: a hit still
// re-checks the time claims and the revocation list (see Gate.check).
type tokenCache struct {
	entries []cacheEntry
	slots   []int32 // entry index + 1; 0 is empty
	mask    uint64
	next    int // ring position of the next insertion
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
	return CacheStats{Entries: c.n, Capacity: len(c.entries), Hits: c.hits, Misses: c.misses}
}

type cacheEntry struct {
	hash   uint64
	token  string
	claims jose.Claims
}

func newTokenCache(size int) tokenCache {
	if size <= 0 {
		return tokenCache{}
	}
	slots := 1
	for slots < 2*size {
		slots <<= 1
	}
	return tokenCache{
		entries: make([]cacheEntry, size),
		slots:   make([]int32, slots),
		mask:    uint64(slots - 1),
	}
}

// hashToken mixes the token eight bytes at a time (multiply and xor-shift, as in
// wyhash/murmur finalisers): tokens are hundreds of bytes and hashing runs on every
// decision. Keys are attacker-chosen, but a collision only costs a longer probe: the
// table is bounded and every probe compares the full token.
func hashToken(t string) uint64 {
	const m = 0x9E3779B97F4A7C15
	h := uint64(len(t)) * m
	for len(t) >= 8 {
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		h = (h ^ w) * m
		h ^= h >> 32
		t = t[8:]
	}
	for i := 0; i < len(t); i++ {
		h = (h ^ uint64(t[i])) * m
	}
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	return h ^ h>>32
}

func (c *tokenCache) get(token string) (*jose.Claims, bool) {
	e, ok := c.find(token)
	if ok {
		c.hits++
		return &e.claims, true
	}
	c.misses++
	return nil, false
}

func (c *tokenCache) find(token string) (*cacheEntry, bool) {
	if len(c.entries) == 0 {
		return nil, false
	}
	h := hashToken(token)
	for i := h & c.mask; ; i = (i + 1) & c.mask {
		s := c.slots[i]
		if s == 0 {
			return nil, false
		}
		e := &c.entries[s-1]
		if e.hash == h && e.token == token {
			return e, true
		}
	}
}

// put stores claims under token (evicting the oldest entry when full) and returns
// the stored copy; nil when the cache is disabled.
func (c *tokenCache) put(token string, claims jose.Claims) *jose.Claims {
	if len(c.entries) == 0 {
		return nil
	}
	if e, ok := c.find(token); ok {
		return &e.claims
	}
	idx := c.next
	c.next = (c.next + 1) % len(c.entries)
	e := &c.entries[idx]
	if e.token != "" {
		c.unindex(e.hash, int32(idx+1))
		c.n--
	}
	h := hashToken(token)
	*e = cacheEntry{hash: h, token: token, claims: claims}
	i := h & c.mask
	for c.slots[i] != 0 {
		i = (i + 1) & c.mask
	}
	c.slots[i] = int32(idx + 1)
	c.n++
	return &e.claims
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

// flush empties the cache, keeping its memory.
func (c *tokenCache) flush() {
	for i := range c.entries {
		c.entries[i] = cacheEntry{}
	}
	for i := range c.slots {
		c.slots[i] = 0
	}
	c.next, c.n = 0, 0
}
