package httpapi

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// A write that lost to concurrent changes (the store's ErrConflict, such as a refresh
// whose session kept rotating under it) succeeds when tried again: 503 with
// Retry-After, as for the database restarting, not a 500 the client gives up on.
func TestConflictAnswersRetryLater(t *testing.T) {
	e := asAPIError(fmt.Errorf("refresh: the session kept changing: %w", store.ErrConflict))
	if e.Status != http.StatusServiceUnavailable || e.Code != "unavailable" || e.RetryAfter <= 0 {
		t.Fatalf("got %d %s (Retry-After %v), want 503 unavailable with Retry-After", e.Status, e.Code, e.RetryAfter)
	}
}
