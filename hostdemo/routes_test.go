package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A routes file caches verified tokens as the JS edge does unless it says otherwise:
// a file copied from the README (no cache_entries) must not turn the cache off.
func TestRoutesFileKeepsTheCacheUnlessItSetsIt(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       int
	}{
		{"unset", `{"protected":[{"prefix":"/app/"}]}`, defaultCacheEntries},
		{"turned off", `{"protected":[{"prefix":"/app/"}],"cache_entries":0}`, 0},
		{"set", `{"cache_entries":50}`, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "routes.json")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			local, err := loadRoutes(path)
			if err != nil {
				t.Fatal(err)
			}
			if local.CacheEntries != tc.want {
				t.Fatalf("cache_entries %d, want %d", local.CacheEntries, tc.want)
			}
		})
	}
	if local, err := loadRoutes(""); err != nil || local.CacheEntries != defaultCacheEntries {
		t.Fatalf("the demo's rules: cache_entries %d (%v)", local.CacheEntries, err)
	}
}

// A routes file has one meaning or is refused, as the JS edge's module reads the same
// rules: a member spelled in another case, a member twice, an unknown member or a
// second value after the object would otherwise change a rule silently (the last
// "MFA" turning a route's second factor off).
func TestRoutesFileIsReadStrictly(t *testing.T) {
	for _, tc := range []struct{ name, file string }{
		{"member in another case", `{"protected":[{"prefix":"/vault/","MFA":false}]}`},
		{"member twice", `{"protected":[{"prefix":"/vault/","mfa":true,"mfa":false}]}`},
		{"same member in two cases", `{"protected":[{"prefix":"/vault/","mfa":true,"Mfa":false}]}`},
		{"unknown member", `{"protected":[{"prefix":"/vault/","second_factor":true}]}`},
		{"a second value", `{"protected":[{"prefix":"/vault/","mfa":true}]} {"protected":[]}`},
		{"not an object", `[{"prefix":"/vault/"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "routes.json")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			if local, err := loadRoutes(path); err == nil {
				t.Fatalf("accepted %s as %+v", tc.file, local)
			}
		})
	}
}
