package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Driver errors are classified by SQLSTATE and error type; translate keeps the driver
// error in the chain.
func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"no rows", pgx.ErrNoRows, ErrNotFound},
		{"unique violation", &pgconn.PgError{Code: "23505"}, ErrConflict},
		{"exclusion violation", &pgconn.PgError{Code: "23P01"}, ErrConflict},
		{"NUL in text", &pgconn.PgError{Code: "22021"}, ErrInvalidInput},
		{"untranslatable character", &pgconn.PgError{Code: "22P05"}, ErrInvalidInput},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, ErrUnavailable},
		{"starting up", &pgconn.PgError{Code: "57P03"}, ErrUnavailable},
		{"connection failure", &pgconn.PgError{Code: "08006"}, ErrUnavailable},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, ErrUnavailable},
		{"syntax error", &pgconn.PgError{Code: "42601"}, ErrInternal},
		{"cut mid-query", fmt.Errorf("query: %w", io.ErrUnexpectedEOF), ErrUnavailable},
		{"connection closed by the driver", fmt.Errorf("x: %w", pgconn.ErrConnClosed), ErrUnavailable},
		{"connection reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, ErrUnavailable},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), ErrUnavailable},
		{"deadline", context.DeadlineExceeded, ErrUnavailable},
		{"programming error", errors.New("nil map"), ErrInternal},
		{"already classified", fmt.Errorf("a: %w", ErrNotFound), ErrNotFound},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
		if wrapped := translate("op", tc.err); !errors.Is(wrapped, tc.want) || (tc.want != ErrNotFound && tc.want != ErrConflict && !errors.Is(wrapped, tc.err)) {
			t.Errorf("%s: translate = %v", tc.name, wrapped)
		}
	}
	if Classify(nil) != nil || translate("op", nil) != nil {
		t.Error("nil is not an error")
	}
}
