// Package abi names the contract between the verifier WebAssembly module (the guest)
// and the programs that load it (the hosts): export names, the shared buffer, result
// packing, status codes and the sentinel errors they stand for.
//
// It is imported by the guest (compiled by TinyGo), by the native engine and by every
// Go host, so a status code means the same error everywhere. The JS host mirrors the
// table in verifier/ABI.md, which documents this file; a test keeps the two in step.
//
// The package must stay TinyGo-safe: no reflection, no goroutines, no fmt.
package abi

import "errors"

// Version is the ABI version the guest exports from abi_version. A host refuses a
// module whose version differs: field meanings may change between versions.
const Version = 1

// BufferCap is the size of the guest-owned buffer. A host writes an input into it only
// when the input fits; larger inputs are refused by the host with ErrInputTooLarge
// before anything is written.
const BufferCap = 256 << 10

// Export names. Every function takes the length of the input the host wrote at
// buf_ptr (and, where it matters, the current time in unix seconds, since the module
// has no clock) and returns a packed result (see Pack).
const (
	ExportMemory          = "memory"
	ExportInitialize      = "_initialize"
	ExportABIVersion      = "abi_version"      // () -> i32
	ExportBufPtr          = "buf_ptr"          // () -> i32
	ExportBufCap          = "buf_cap"          // () -> i32
	ExportConfigure       = "configure"        // (len i32) -> i64
	ExportLoadKeys        = "load_keys"        // (len i32) -> i64
	ExportLoadRevocations = "load_revocations" // (len i32, now i64) -> i64
	ExportDecide          = "decide"           // (len i32, now i64) -> i64
	ExportVerifyToken     = "verify_token"     // (len i32, now i64) -> i64
	ExportVerifySignature = "verify_signature" // (len i32) -> i64, raw signature check for conformance vectors
)

// RequiredExports lists what a host checks when it loads a module, with the number of
// parameters and results each must have.
var RequiredExports = []struct {
	Name            string
	Params, Results int
}{
	{ExportInitialize, 0, 0},
	{ExportABIVersion, 0, 1},
	{ExportBufPtr, 0, 1},
	{ExportBufCap, 0, 1},
	{ExportConfigure, 1, 1},
	{ExportLoadKeys, 1, 1},
	{ExportLoadRevocations, 2, 1},
	{ExportDecide, 2, 1},
	{ExportVerifyToken, 2, 1},
	{ExportVerifySignature, 1, 1},
	{ExportDecideCompact, 2, 1},
	{ExportIdentity, 0, 1},
	{ExportHeapAllocs, 0, 1},
}

// Pack puts a status and an output length into the i64 an export returns: status in
// the high 32 bits, length in the low 32. The output, if any, starts at buf_ptr.
func Pack(status Status, length uint32) uint64 { return uint64(status)<<32 | uint64(length) }

// Unpack is the inverse of Pack.
func Unpack(r uint64) (Status, uint32) { return Status(r >> 32), uint32(r) }

// Status is the outcome of an export call. 0 is success; every other value names one
// sentinel error below. Values are stable: new codes are appended, never renumbered.
type Status uint32

const (
	StatusOK Status = iota
	StatusMalformed
	StatusTooLarge
	StatusUnsupportedHeader
	StatusAlgorithmNotAllowed
	StatusUnknownKey
	StatusSignatureInvalid
	StatusExpired
	StatusNotValidYet
	StatusIssuedInFuture
	StatusInvalidIssuer
	StatusInvalidAudience
	StatusInvalidType
	StatusInvalidClaims
	StatusRevoked
	StatusInvalidConfig
	StatusInvalidKeySet
	StatusInvalidRevocationList
	StatusInvalidRequest
	StatusInputTooLarge
	StatusNotConfigured
	StatusInternal
	StatusNeedSignature
	statusCount
)

// Sentinel errors. They work with errors.Is whether a check ran natively or came back
// from the module as a status code.
var (
	ErrMalformed             = errors.New("edgeauth: token malformed")
	ErrTooLarge              = errors.New("edgeauth: token too large or too deeply nested")
	ErrUnsupportedHeader     = errors.New("edgeauth: token header not supported (crit, or a key-carrying member)")
	ErrAlgorithmNotAllowed   = errors.New("edgeauth: algorithm not allowed")
	ErrUnknownKey            = errors.New("edgeauth: no key with that kid and algorithm")
	ErrSignatureInvalid      = errors.New("edgeauth: signature invalid")
	ErrExpired               = errors.New("edgeauth: token expired")
	ErrNotValidYet           = errors.New("edgeauth: token not valid yet")
	ErrIssuedInFuture        = errors.New("edgeauth: token issued in the future")
	ErrInvalidIssuer         = errors.New("edgeauth: issuer not accepted")
	ErrInvalidAudience       = errors.New("edgeauth: audience not accepted")
	ErrInvalidType           = errors.New("edgeauth: token type not accepted")
	ErrInvalidClaims         = errors.New("edgeauth: claims missing or of the wrong type")
	ErrRevoked               = errors.New("edgeauth: session revoked")
	ErrInvalidConfig         = errors.New("edgeauth: invalid configuration")
	ErrInvalidKeySet         = errors.New("edgeauth: invalid key set")
	ErrInvalidRevocationList = errors.New("edgeauth: invalid revocation list")
	ErrInvalidRequest        = errors.New("edgeauth: invalid request")
	ErrInputTooLarge         = errors.New("edgeauth: input larger than the module's buffer")
	ErrNotConfigured         = errors.New("edgeauth: verifier not configured")
	ErrInternal              = errors.New("edgeauth: internal verifier error")
	// ErrNeedSignature is the module asking its host to check a signature (the
	// two-phase path, twophase.go): hosts answer it themselves, so a caller sees it
	// only from a host that declared a capability it then did not honour.
	ErrNeedSignature = errors.New("edgeauth: the host must check a signature first")
)

var statusErrors = [statusCount]error{
	StatusOK:                    nil,
	StatusMalformed:             ErrMalformed,
	StatusTooLarge:              ErrTooLarge,
	StatusUnsupportedHeader:     ErrUnsupportedHeader,
	StatusAlgorithmNotAllowed:   ErrAlgorithmNotAllowed,
	StatusUnknownKey:            ErrUnknownKey,
	StatusSignatureInvalid:      ErrSignatureInvalid,
	StatusExpired:               ErrExpired,
	StatusNotValidYet:           ErrNotValidYet,
	StatusIssuedInFuture:        ErrIssuedInFuture,
	StatusInvalidIssuer:         ErrInvalidIssuer,
	StatusInvalidAudience:       ErrInvalidAudience,
	StatusInvalidType:           ErrInvalidType,
	StatusInvalidClaims:         ErrInvalidClaims,
	StatusRevoked:               ErrRevoked,
	StatusInvalidConfig:         ErrInvalidConfig,
	StatusInvalidKeySet:         ErrInvalidKeySet,
	StatusInvalidRevocationList: ErrInvalidRevocationList,
	StatusInvalidRequest:        ErrInvalidRequest,
	StatusInputTooLarge:         ErrInputTooLarge,
	StatusNotConfigured:         ErrNotConfigured,
	StatusInternal:              ErrInternal,
	StatusNeedSignature:         ErrNeedSignature,
}

// statusNames are the names of verifier/ABI.md's status table.
var statusNames = [statusCount]string{
	StatusOK:                    "OK",
	StatusMalformed:             "Malformed",
	StatusTooLarge:              "TooLarge",
	StatusUnsupportedHeader:     "UnsupportedHeader",
	StatusAlgorithmNotAllowed:   "AlgorithmNotAllowed",
	StatusUnknownKey:            "UnknownKey",
	StatusSignatureInvalid:      "SignatureInvalid",
	StatusExpired:               "Expired",
	StatusNotValidYet:           "NotValidYet",
	StatusIssuedInFuture:        "IssuedInFuture",
	StatusInvalidIssuer:         "InvalidIssuer",
	StatusInvalidAudience:       "InvalidAudience",
	StatusInvalidType:           "InvalidType",
	StatusInvalidClaims:         "InvalidClaims",
	StatusRevoked:               "Revoked",
	StatusInvalidConfig:         "InvalidConfig",
	StatusInvalidKeySet:         "InvalidKeySet",
	StatusInvalidRevocationList: "InvalidRevocationList",
	StatusInvalidRequest:        "InvalidRequest",
	StatusInputTooLarge:         "InputTooLarge",
	StatusNotConfigured:         "NotConfigured",
	StatusInternal:              "Internal",
	StatusNeedSignature:         "NeedSignature",
}

// String returns the status's name in verifier/ABI.md ("SignatureInvalid"), or
// "Status(n)" for a code this version does not know.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	n, d := uint32(s), []byte{}
	for {
		d = append([]byte{byte('0' + n%10)}, d...)
		if n /= 10; n == 0 {
			break
		}
	}
	return "Status(" + string(d) + ")"
}

// Err returns the sentinel error for a status (nil for StatusOK, ErrInternal for a
// code this version does not know).
func (s Status) Err() error {
	if int(s) < len(statusErrors) {
		return statusErrors[s]
	}
	return ErrInternal
}

// StatusOf returns the status code for an error that wraps one of the sentinels
// (StatusInternal for any other error, StatusOK for nil).
func StatusOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	// Fast path, without errors.Is (slow in TinyGo): a sentinel, or an *Error around one.
	direct := err
	if e, ok := err.(*Error); ok {
		direct = e.Sentinel
	}
	for s := Status(1); s < statusCount; s++ {
		if direct == statusErrors[s] {
			return s
		}
	}
	for s := Status(1); s < statusCount; s++ {
		if errors.Is(err, statusErrors[s]) {
			return s
		}
	}
	return StatusInternal
}

// Error is a sentinel with a reason that says which check failed. It is built without
// fmt, so every TinyGo-safe package can use it, and errors.Is and StatusOf see the
// sentinel. Reasons never contain token or key material.
type Error struct {
	Sentinel error  // one of the Err* values above
	Reason   string // what failed
}

func (e *Error) Error() string { return e.Sentinel.Error() + ": " + e.Reason }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Sentinel }

// Wrap returns an *Error; packages preallocate their common errors with it so that a
// refused input costs no allocation.
func Wrap(sentinel error, reason string) *Error { return &Error{Sentinel: sentinel, Reason: reason} }
