package config

import (
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool sizing. A refresh holds a connection for one statement, most of which is the
// wait for its commit to reach the disk, not CPU; while it waits the CPUs serve other
// requests, which need connections of their own. A pool of pgx's default size
// (max(4, NumCPU)) leaves the CPUs idle behind those waits and PostgreSQL unable to
// group concurrent commits into one flush. PoolSizePerCPU connections per CPU keeps
// both busy (measured with `make bench-controlplane`; RATIONALE.md, "Connection pool").
const (
	PoolSizePerCPU = 8
	MinPoolSize    = 8
	MaxPoolSize    = 1000
)

// DefaultPoolSize is the pool size when database_pool_size is 0 and the URL sets no
// pool_max_conns: PoolSizePerCPU per CPU this process may use (GOMAXPROCS), at least
// MinPoolSize.
func DefaultPoolSize() int { return max(MinPoolSize, PoolSizePerCPU*runtime.GOMAXPROCS(0)) }

// CancelDeadline is how long a statement whose context ended (the request gave up:
// httpapi.RequestTimeout, or its client left) may take to be cancelled in PostgreSQL
// before its connection is closed instead.
const CancelDeadline = 2 * time.Second

// PoolConfig is the pgxpool configuration for DatabaseURL with the pool sized:
// database_pool_size when set, else the URL's pool_max_conns when given, else
// DefaultPoolSize.
//
// A statement whose context ends is cancelled in PostgreSQL (a cancel request), not
// only abandoned: pgx's default closes the connection, and PostgreSQL, which notices
// that only when it next writes to it, still runs and commits a statement that was
// waiting (for a row lock, or on a server that hung and came back). The request was
// answered 503 unavailable, nothing done; a refresh that rotated afterwards would make
// the client's retry after the grace look like reuse and end its session.
func (c *Config) PoolConfig() (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(c.DatabaseURL)
	if err != nil {
		return nil, err
	}
	pc.ConnConfig.BuildContextWatcherHandler = func(conn *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: conn, DeadlineDelay: CancelDeadline}
	}
	switch {
	case c.DatabasePoolSize > 0:
		pc.MaxConns = int32(c.DatabasePoolSize)
	case !urlSetsPoolSize(pc):
		pc.MaxConns = int32(DefaultPoolSize())
	}
	return pc, nil
}

// urlSetsPoolSize reports whether the connection string (URL or key=value form) names
// pool_max_conns: pgxpool keeps no record of whether MaxConns was given or defaulted.
func urlSetsPoolSize(pc *pgxpool.Config) bool {
	return strings.Contains(pc.ConnString(), "pool_max_conns=")
}
