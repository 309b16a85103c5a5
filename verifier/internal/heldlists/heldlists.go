// Package heldlists keeps the revocation lists a host must replay into a fresh gate (a
// new module instance, or the native engine's gate after a configuration or key
// change) for it to hold what the replaced one held.
//
// One list is not always enough: the gate adds a list of the held list's iat to it
// (verifier/ABI.md, "load_revocations"), since replicas can sign lists in the same
// second on either side of a revocation. Replaying only the last of them would forget
// what the earlier ones named until the next second's list. So a host keeps every list
// of the held second that no other held list covers, in load order.
package heldlists

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
)

// MaxLists bounds the lists kept for one second. Lists of one replica grow within a
// second (each covers the last), so more than a few means many replicas signing at
// once; past the bound the oldest is no longer replayed (a fresh gate misses only what
// that list alone named, until the next second's list).
const MaxLists = 16

// List is a revocation list (the compact JWS) and the time it was loaded at.
type List struct {
	Body []byte
	Now  int64
}

// Held is the lists to replay, oldest first. The zero value holds none. A copy is a
// snapshot: nothing done to one copy changes what another holds.
type Held struct {
	lists []held
}

type held struct {
	List
	iat    int64
	sids   []string // sorted
	before int64
}

// Lists returns the lists to replay, oldest first.
func (h *Held) Lists() []List {
	out := make([]List, len(h.lists))
	for i, l := range h.lists {
		out[i] = l.List
	}
	return out
}

// Add records body, which a gate has just accepted at now. A list of another second
// than the held ones replaces them (a gate refuses an older one); one of the same
// second joins them, and drops those it covers. body is copied.
func (h *Held) Add(body []byte, now int64) {
	l := held{List: List{Body: bytes.Clone(body), Now: now}}
	ok := l.parse()
	if !ok || len(h.lists) == 0 || h.lists[0].iat != l.iat {
		h.lists = []held{l}
		return
	}
	for _, old := range h.lists {
		if old.covers(l) {
			return // already replayed by old (a list loaded again, most often)
		}
	}
	// A new slice: copies of h taken earlier (a host's state snapshots) stay as they were.
	next := make([]held, 0, len(h.lists)+1)
	for _, old := range h.lists {
		if !l.covers(old) {
			next = append(next, old)
		}
	}
	if len(next) == MaxLists {
		next = next[1:]
	}
	h.lists = append(next, l)
}

// covers reports whether replaying l leaves a gate holding all that o adds: o's
// sessions and a cutoff no later than l's.
func (l held) covers(o held) bool {
	if o.before > l.before {
		return false
	}
	for _, s := range o.sids {
		if _, found := slices.BinarySearch(l.sids, s); !found {
			return false
		}
	}
	return true
}

// parse reads iat, sids and before from the list's payload. The gate has verified the
// list, so only its shape matters here; a list it cannot read stands alone.
func (l *held) parse() bool {
	parts := bytes.Split(l.Body, []byte("."))
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		return false
	}
	var p struct {
		IssuedAt *int64   `json:"iat"`
		SIDs     []string `json:"sids"`
		Before   int64    `json:"before"`
	}
	if json.Unmarshal(payload, &p) != nil || p.IssuedAt == nil {
		return false
	}
	slices.Sort(p.SIDs)
	l.iat, l.sids, l.before = *p.IssuedAt, p.SIDs, p.Before
	return true
}
