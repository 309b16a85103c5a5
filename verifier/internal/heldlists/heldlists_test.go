package heldlists

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// list builds a compact JWS of a revocation list payload (the signature is not read:
// the gate checked it before Add).
func list(iat, before int64, sids ...string) []byte {
	p := map[string]any{"iss": "https://auth.example.test", "iat": iat, "exp": iat + 120, "sids": append([]string{}, sids...)}
	if before != 0 {
		p["before"] = before
	}
	b, _ := json.Marshal(p)
	return []byte("eyJhbGciOiJFZERTQSJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln")
}

func bodies(h *Held) []string {
	var out []string
	for _, l := range h.Lists() {
		out = append(out, string(l.Body))
	}
	return out
}

func TestAdd(t *testing.T) {
	a, b := list(100, 0, "s1"), list(100, 0, "s2")
	ab := list(100, 0, "s2", "s1")
	cut := list(100, 90, "s1")

	for _, tc := range []struct {
		name string
		add  [][]byte
		want [][]byte
	}{
		{"one list", [][]byte{a}, [][]byte{a}},
		{"the same list again", [][]byte{a, a}, [][]byte{a}},
		{"same second, neither covers the other", [][]byte{a, b}, [][]byte{a, b}},
		{"a later list of the second covers both", [][]byte{a, b, ab}, [][]byte{ab}},
		{"a covered list adds nothing", [][]byte{ab, a}, [][]byte{ab}},
		{"a higher cutoff is not covered", [][]byte{ab, cut}, [][]byte{ab, cut}},
		{"the next second replaces", [][]byte{a, b, list(101, 0)}, [][]byte{list(101, 0)}},
		{"an unreadable list stands alone", [][]byte{a, []byte("not.a-list.x")}, [][]byte{[]byte("not.a-list.x")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Held
			for i, l := range tc.add {
				h.Add(l, int64(i))
			}
			var want []string
			for _, l := range tc.want {
				want = append(want, string(l))
			}
			if got := bodies(&h); !slices.Equal(got, want) {
				t.Fatalf("held %d lists, want %d:\n%q\n%q", len(got), len(want), got, want)
			}
		})
	}
}

func TestAddKeepsNowAndBound(t *testing.T) {
	var h Held
	for i := range MaxLists + 3 {
		h.Add(list(100, 0, fmt.Sprintf("s%d", i)), int64(1000+i))
	}
	got := h.Lists()
	if len(got) != MaxLists || got[0].Now != 1003 || got[MaxLists-1].Now != 1000+MaxLists+2 {
		t.Fatalf("%d lists, first loaded at %d, last at %d", len(got), got[0].Now, got[len(got)-1].Now)
	}
}

// A host copies its state and replays the copy outside its lock: Add must not change it.
func TestCopyIsSnapshot(t *testing.T) {
	var h Held
	h.Add(list(100, 0, "s1"), 1)
	h.Add(list(100, 0, "s2"), 2)
	snap := h
	h.Add(list(100, 0, "s1", "s2", "s3"), 3)
	h.Add(list(100, 0, "s4"), 4)
	if got := bodies(&snap); len(got) != 2 || got[0] != string(list(100, 0, "s1")) || got[1] != string(list(100, 0, "s2")) {
		t.Fatalf("snapshot changed: %q", got)
	}
	src := list(100, 0, "s9")
	h.Add(src, 5)
	src[0] = 'X'
	if l := h.Lists(); l[len(l)-1].Body[0] == 'X' {
		t.Fatal("Add kept the caller's slice")
	}
}
