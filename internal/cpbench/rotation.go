package main

import (
	"context"
	"time"
)

// rotationPgbench runs the service's rotation statement under pgbench; false when this
// tree has none to run on its own.
func (e *env) rotationPgbench(ctx context.Context, clients int, d time.Duration) (sample, bool, error) {
	return sample{}, false, nil
}
