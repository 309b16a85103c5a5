package migrations

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ApplyTo brings the database to version (to plant data of an older schema).
func ApplyTo(ctx context.Context, pool *pgxpool.Pool, version int32) error {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	m, err := migrator(ctx, c.Conn())
	if err != nil {
		return err
	}
	return m.MigrateTo(ctx, version)
}
