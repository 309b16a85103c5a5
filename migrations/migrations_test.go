package migrations_test

import (
	"context"
	"errors"
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

// Upgrade names what it applied: every file on an empty database, nothing the second
// time; on a schema newer than the binary it refuses with ErrSchemaNewer and changes
// nothing.
func TestUpgradeReportsAndRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	applied, err := migrations.Upgrade(ctx, pool)
	_, latest, _ := migrations.Status(ctx, pool)
	if err != nil || len(applied) != int(latest) || applied[0] != "001_core.sql" {
		t.Fatalf("first upgrade applied %v (%v)", applied, err)
	}
	if applied, err := migrations.Upgrade(ctx, pool); err != nil || len(applied) != 0 {
		t.Fatalf("second upgrade applied %v (%v)", applied, err)
	}
	if err := migrations.Check(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE `+migrations.VersionTable+` SET version = $1`, latest+1); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Upgrade(ctx, pool); !errors.Is(err, migrations.ErrSchemaNewer) {
		t.Fatalf("upgrade of a newer schema: %v", err)
	}
	if err := migrations.Check(ctx, pool); !errors.Is(err, migrations.ErrSchemaNewer) {
		t.Fatalf("check of a newer schema: %v", err)
	}
	if cur, _, _ := migrations.Status(ctx, pool); cur != latest+1 {
		t.Fatalf("version %d after a refused upgrade", cur)
	}
}
