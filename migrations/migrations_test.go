package migrations_test

import (
	"context"
	"sync"
	"testing"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Several replicas starting at once must all succeed and leave the schema current.
func TestApplyConcurrentlyFromSeveralReplicas(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := pgxpool.New(ctx, url)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			errs[i] = migrations.Apply(ctx, pool)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	cur, latest, err := migrations.Status(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if cur != latest || latest == 0 {
		t.Fatalf("version %d of %d after apply", cur, latest)
	}
}

func TestStatusOnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	cur, latest, err := migrations.Status(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if cur != 0 || latest < 1 {
		t.Fatalf("empty database: version %d of %d", cur, latest)
	}
}
