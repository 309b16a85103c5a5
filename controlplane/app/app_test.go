package app

import (
	"bytes"
	"encoding/base64"
	"slices"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

// The refresh tokens' tag key follows keys.kek, and the previous KEKs' tag keys are
// recognised: a KEK rotation (README, "Rotating the KEK") keeps reuse detection for
// the tokens tagged before it.
func TestAuthConfigKeepsThePreviousKEKsTagKeys(t *testing.T) {
	old := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	next := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	with := func(kek string, previous ...string) *config.Config {
		c := config.Default()
		c.Keys.KEK, c.Keys.PreviousKEKs = kek, previous
		return &c
	}
	before, err := AuthConfig(with(old), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	after, err := AuthConfig(with(next, old), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(before.RefreshTagKey, after.RefreshTagKey) {
		t.Fatal("the tag key did not follow keys.kek")
	}
	if !slices.ContainsFunc(after.PreviousRefreshTagKeys, func(k []byte) bool { return bytes.Equal(k, before.RefreshTagKey) }) {
		t.Fatal("the previous KEK's tag key is not among PreviousRefreshTagKeys")
	}
}
