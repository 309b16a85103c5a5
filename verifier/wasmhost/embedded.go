package wasmhost

import (
	"context"

	"github.com/edgeauth/edgeauth/verifier"
)

// NewEmbedded returns a Host running the committed verifier.wasm (verifier.Module).
func NewEmbedded(ctx context.Context, opts Options) (*Host, error) {
	return New(ctx, verifier.Module, opts)
}
