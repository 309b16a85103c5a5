package gate

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/jose"
)

func TestCacheMatchesReference(t *testing.T) {
	for _, size := range []int{1, 2, 3, 7, 64} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			c := newTokenCache(size)
			rng := rand.New(rand.NewPCG(1, uint64(size)))
			var order []string // insertion order of live keys (reference ring)
			live := map[string]string{}
			for step := range 20000 {
				key := "tok-" + strconv.Itoa(rng.IntN(3*size+3))
				if rng.IntN(2) == 0 {
					if _, ok := live[key]; !ok {
						if len(order) == size {
							delete(live, order[0])
							order = order[1:]
						}
						order = append(order, key)
						live[key] = "sub-" + key
					}
					if got := c.put(key, jose.Claims{Subject: "sub-" + key}, 1); got == nil || got.claims.Subject != "sub-"+key {
						t.Fatalf("step %d: put returned %+v", step, got)
					}
				}
				got, ok := c.get(key)
				want, wantOK := live[key]
				if ok != wantOK || (ok && got.claims.Subject != want) {
					t.Fatalf("step %d: get(%s) = %v %v, want %v %v", step, key, got, ok, want, wantOK)
				}
				if c.n != len(live) {
					t.Fatalf("step %d: %d entries, reference %d", step, c.n, len(live))
				}
			}
			// Every live key is still reachable (no probe chain broken by deletions).
			for k := range live {
				if _, ok := c.get(k); !ok {
					t.Fatalf("live key %s lost", k)
				}
			}
		})
	}
}

func TestCacheEvictsOldestAndStaysBounded(t *testing.T) {
	c := newTokenCache(4)
	for i := range 4 {
		c.put("t"+strconv.Itoa(i), jose.Claims{}, 1)
	}
	slots, entries := len(c.slots), cap(c.entries)
	for i := 4; i < 1000; i++ {
		c.put("t"+strconv.Itoa(i), jose.Claims{}, 1)
	}
	if c.n != 4 || len(c.slots) != slots || cap(c.entries) != entries || entries != 4 {
		t.Fatalf("cache grew past its bound: n=%d slots=%d entries=%d", c.n, len(c.slots), cap(c.entries))
	}
	for i := 996; i < 1000; i++ {
		if _, ok := c.get("t" + strconv.Itoa(i)); !ok {
			t.Fatalf("recent entry t%d evicted", i)
		}
	}
	if _, ok := c.get("t995"); ok {
		t.Fatal("oldest entry kept")
	}
}

// TestCacheGrowsWithUse checks that memory follows the number of entries, not the
// bound: a 65,536-entry cache holding a few tokens is small, and one filled to its
// bound holds exactly that many entries and an index of twice as many slots.
func TestCacheGrowsWithUse(t *testing.T) {
	const limit = 1 << 16
	c := newTokenCache(limit)
	if c.entries != nil || c.slots != nil {
		t.Fatal("a new cache allocated up front")
	}
	for i := range 3 {
		c.put("t"+strconv.Itoa(i), jose.Claims{}, 1)
	}
	if cap(c.entries) != initialEntries || len(c.slots) != 2*initialEntries {
		t.Fatalf("3 entries: capacity %d, %d slots; want %d and %d", cap(c.entries), len(c.slots), initialEntries, 2*initialEntries)
	}
	for i := 3; i < limit+1000; i++ {
		c.put("t"+strconv.Itoa(i), jose.Claims{}, 1)
	}
	if c.n != limit || cap(c.entries) != limit || len(c.slots) != 2*limit {
		t.Fatalf("full: n=%d capacity %d, %d slots", c.n, cap(c.entries), len(c.slots))
	}
	for i := limit + 1000 - limit; i < limit+1000; i++ {
		if _, ok := c.get("t" + strconv.Itoa(i)); !ok {
			t.Fatalf("t%d lost while growing", i)
		}
	}
	c.flush()
	if c.entries != nil || c.slots != nil || c.limit != limit {
		t.Fatal("flush kept the memory or lost the bound")
	}
}

func TestCacheFlushAndDisabled(t *testing.T) {
	c := newTokenCache(8)
	c.put("a", jose.Claims{Subject: "x"}, 1)
	c.flush()
	if _, ok := c.get("a"); ok || c.n != 0 {
		t.Fatal("flush kept an entry")
	}
	c.put("a", jose.Claims{Subject: "y"}, 1)
	if got, ok := c.get("a"); !ok || got.claims.Subject != "y" {
		t.Fatal("cache unusable after flush")
	}
	var off tokenCache // cache_entries 0
	if off.put("a", jose.Claims{}, 1) != nil {
		t.Fatal("disabled cache stored")
	}
	if _, ok := off.get("a"); ok {
		t.Fatal("disabled cache hit")
	}
	off.flush()
}

// TestHashTokenWords: hashToken reads words with words.Load64; its values are those of
// composing each word of the token's last hashedBytes bytes from its bytes, at every
// length around the word size and past hashedBytes.
func TestHashTokenWords(t *testing.T) {
	ref := func(t string) uint64 {
		const m = 0x9E3779B97F4A7C15
		h := uint64(len(t)) * m
		t = t[max(0, len(t)-hashedBytes):]
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
	b := make([]byte, hashedBytes+17)
	for i := range b {
		b[i] = byte(0x35*i + 0x80)
	}
	for n := 0; n <= len(b); n++ {
		for off := 0; off+n <= len(b) && off < 8; off++ {
			s := string(b[off : off+n])
			if got, want := hashToken(s), ref(s); got != want {
				t.Fatalf("len %d at %d: %#x, want %#x", n, off, got, want)
			}
		}
	}
}

// TestCacheSameTails: tokens that end alike hash alike (hashToken reads the last
// hashedBytes bytes), and the cache still tells them apart by comparing them whole;
// the reference test runs again with such keys.
func TestCacheSameTails(t *testing.T) {
	tail := "." + string(make([]byte, hashedBytes))
	c := newTokenCache(8)
	for i := range 8 {
		c.put("head-"+strconv.Itoa(i)+tail, jose.Claims{Subject: strconv.Itoa(i)}, uint32(i+1))
	}
	for i := range 8 {
		e, ok := c.get("head-" + strconv.Itoa(i) + tail)
		if !ok || e.claims.Subject != strconv.Itoa(i) {
			t.Fatalf("token %d: %+v %v", i, e, ok)
		}
	}
	for _, k := range []string{"head-8" + tail, "head-0" + tail[1:] + "x", "hezd-0" + tail} {
		if e, ok := c.get(k); ok {
			t.Fatalf("%q found as %+v", k, e)
		}
	}
	for i := 8; i < 100; i++ { // evictions inside one probe run
		c.put("head-"+strconv.Itoa(i)+tail, jose.Claims{Subject: strconv.Itoa(i)}, uint32(i+1))
		for j := i - 7; j <= i; j++ {
			if e, ok := c.get("head-" + strconv.Itoa(j) + tail); !ok || e.claims.Subject != strconv.Itoa(j) {
				t.Fatalf("after put %d: token %d: %+v %v", i, j, e, ok)
			}
		}
		if _, ok := c.get("head-" + strconv.Itoa(i-8) + tail); ok {
			t.Fatalf("after put %d: evicted token %d found", i, i-8)
		}
	}
}
