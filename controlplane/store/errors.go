package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The store's error vocabulary. Every error a Store method returns is nil, a domain
// error a caller handed in (InTx passes those through), or wraps exactly
// one of these (test with errors.Is); the driver's error stays in the chain for logs.
var (
	// ErrNotFound: the row asked for does not exist (or is not in the state asked for).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule or a concurrent change prevented the write.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalidInput: a value cannot be stored as given (text with a NUL byte or an
	// encoding PostgreSQL refuses). The caller should have refused it: a client
	// mistake, not a failure.
	ErrInvalidInput = errors.New("store: value cannot be stored")
	// ErrUnavailable: the database is unreachable, restarting, or cut the connection,
	// or the statement timed out; the same request may succeed when retried shortly.
	ErrUnavailable = errors.New("store: database unavailable")
	// ErrInternal: any other database failure (a bug, a broken schema).
	ErrInternal = errors.New("store: database error")
)

// SQLSTATE codes the store tells apart (PostgreSQL documentation, appendix A).
const (
	sqlstateUniqueViolation          = "23505"
	sqlstateExclusionViolation       = "23P01"
	sqlstateCharacterNotInRepertoire = "22021" // e.g. a NUL byte in text
	sqlstateUntranslatableCharacter  = "22P05"
	sqlstateSerializationFailure     = "40001"
	sqlstateDeadlockDetected         = "40P01"
	sqlstateAdminShutdown            = "57P01"
	sqlstateCrashShutdown            = "57P02"
	sqlstateCannotConnectNow         = "57P03" // starting up, shutting down, in recovery
	sqlstateQueryCanceled            = "57014" // a cancel request (the caller's context ended) or statement_timeout
	sqlstateClassConnection          = "08"    // connection exception
)

// Classify returns the vocabulary error err belongs to (ErrNotFound, ErrConflict,
// ErrInvalidInput, ErrUnavailable or ErrInternal), nil for nil. It reads the driver's
// structured errors (pgconn.PgError's SQLSTATE, pgconn.SafeToRetry and Timeout, network
// errors), never message text.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	for _, known := range []error{ErrNotFound, ErrConflict, ErrInvalidInput, ErrUnavailable, ErrInternal} {
		if errors.Is(err, known) {
			return known
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch code := pe.Code; {
		case code == sqlstateUniqueViolation, code == sqlstateExclusionViolation:
			return ErrConflict
		case code == sqlstateCharacterNotInRepertoire, code == sqlstateUntranslatableCharacter:
			return ErrInvalidInput
		case code == sqlstateSerializationFailure, code == sqlstateDeadlockDetected,
			code == sqlstateAdminShutdown, code == sqlstateCrashShutdown, code == sqlstateCannotConnectNow, code == sqlstateQueryCanceled,
			len(code) == 5 && code[:2] == sqlstateClassConnection:
			return ErrUnavailable
		}
		return ErrInternal
	}
	if unavailable(err) {
		return ErrUnavailable
	}
	return ErrInternal
}

// unavailable reports driver and network failures that go away by themselves: nothing
// reached the server (SafeToRetry), a timeout, a refused or reset connection, or a
// connection cut mid-statement (an unexpected EOF, a connection the driver closed).
func unavailable(err error) bool {
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}

// translate wraps a driver error as "what: <vocabulary error>: <driver error>" (nil for
// nil); what names the operation. A unique violation names its constraint.
func translate(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	kind := Classify(err)
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok && kind == ErrConflict {
		return fmt.Errorf("%s: %w (%s)", what, ErrConflict, pe.ConstraintName)
	}
	return fmt.Errorf("%s: %w: %w", what, kind, err)
}
