package main

import (
	"testing"
	"time"
)

// TestRecordTimesOnlyRevocations: only a 4001 close read after the logout was sent is
// a revocation's latency. A socket that ended otherwise (the server gone, 1013 while
// its keys were stale, any other code), or before the logout was sent, is counted in
// wrong and kept out of the percentiles: timed, it would count as a fast (even
// negative) revocation.
func TestRecordTimesOnlyRevocations(t *testing.T) {
	sent := time.Now()
	var r latencyResult
	cases := []struct {
		name string
		c    closed
		want bool
	}{
		{"4001 after the logout", closed{sent.Add(3 * time.Millisecond), 4001}, true},
		{"abnormal closure after the logout", closed{sent.Add(time.Millisecond), 1006}, false},
		{"try again later, before the logout", closed{sent.Add(-time.Second), 1013}, false},
		{"4001 before the logout was sent", closed{sent.Add(-time.Millisecond), 4001}, false},
	}
	for _, tc := range cases {
		if got := r.record(sent, tc.c); got != tc.want {
			t.Errorf("%s: record = %v, want %v", tc.name, got, tc.want)
		}
	}
	if len(r.toClose) != 1 || r.toClose[0] != 3*time.Millisecond {
		t.Errorf("latencies %v, want [3ms]", r.toClose)
	}
	if r.wrong != 3 {
		t.Errorf("wrong = %d, want 3", r.wrong)
	}
	if q := quantile(r.toClose, 0.5); q != 3*time.Millisecond {
		t.Errorf("p50 %v, want 3ms", q)
	}
}
