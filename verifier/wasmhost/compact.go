package wasmhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero/api"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
)

// decideCompactCall decides one request with decide_compact (layouts in
// verifier/abi/compact.go): the request is appended straight into the module's
// buffer, the record read in place, and the identity fetched only when the decision
// has one.
func (in *instance) decideCompactCall(ctx context.Context, req verifier.Request, now int64) (verifier.Decision, error) {
	var d verifier.Decision
	req = validRequest(req)
	size := abi.CompactRequestSize(req.Method, req.Path, req.Query, req.Authorization, req.Cookies)
	if size > compactMax {
		// Beyond the compact form's limit: the JSON form answers (refuses) as it did.
		return in.decideJSONCall(ctx, req, now)
	}
	var out []byte
	for asked := false; ; asked = true {
		// Read the view at every call: a call that grows the module's memory (the
		// first phase of a two-phase check, or its verdict) moves wazero's buffer.
		view, ok := in.mem.Read(in.bufPtr, in.bufCap)
		if !ok {
			return d, errTrap{errors.New("buffer outside memory")}
		}
		abi.AppendCompactRequest(view[:0:in.bufCap], req.Method, req.Path, req.Query, req.Authorization, req.Cookies)
		in.stack[0] = api.EncodeU32(uint32(size))
		in.stack[1] = api.EncodeI64(now)
		if err := in.decideCompact.CallWithStack(ctx, in.stack[:]); err != nil {
			return d, callError(ctx, err)
		}
		if st, _ := abi.Unpack(in.stack[0]); st == abi.StatusNeedSignature && !asked && in.hostMask != 0 {
			// A cold token of an algorithm the host checks (the two-phase path): answer
			// the module's question, then decide again.
			q, err := in.output()
			if err == nil {
				err = in.answer(ctx, q)
			}
			if err != nil {
				return d, err
			}
			continue
		}
		var err error
		if out, err = in.result(); err != nil {
			return d, err
		}
		break
	}
	rec, ok := abi.ParseDecisionRecord(out)
	if !ok {
		return d, fmt.Errorf("%w: decision record does not match the ABI", abi.ErrInternal)
	}
	d.Action = verifier.Action(abi.Actions[rec.Action])
	d.Reason = abi.Reasons[rec.Reason]
	d.Status = int(rec.Status)
	if len(rec.Location) > 0 {
		d.Location = string(rec.Location)
	}
	if rec.Flags&abi.FlagClearCookies != 0 {
		if in.clear[0] != string(rec.ClearAccess) || in.clear[1] != string(rec.ClearRefresh) {
			in.clear = [2]string{string(rec.ClearAccess), string(rec.ClearRefresh)}
		}
		// A slice of its own (the strings are shared): a caller may change its Decision.
		d.ClearCookies = []string{in.clear[0], in.clear[1]}
	}
	if rec.Flags&abi.FlagIdentity != 0 {
		id, err := in.identityOf(ctx, rec.IdentityKey)
		if err != nil {
			return d, err
		}
		// The strings are shared with the instance's copy (immutable); the roles slice
		// is copied, since a caller may change its Decision.
		id.Roles = slices.Clone(id.Roles)
		d.Identity = &id
	}
	return d, nil
}

// identityOf returns the identity of the decision just made: the one kept for its
// identity key when the key is that of the latest identity read (a repeat visitor:
// verifier/ABI.md, "identity key"), else read with the identity export and kept.
func (in *instance) identityOf(ctx context.Context, key uint32) (verifier.Identity, error) {
	if key != 0 && key == in.idKey {
		return in.id, nil
	}
	if err := in.identity.CallWithStack(ctx, in.stack[:]); err != nil {
		return verifier.Identity{}, callError(ctx, err)
	}
	out, err := in.result()
	if err != nil {
		return verifier.Identity{}, err
	}
	sub, sid, roles, exp, mfa, ok := abi.ParseIdentity(out)
	if !ok {
		return verifier.Identity{}, fmt.Errorf("%w: identity does not match the ABI", abi.ErrInternal)
	}
	id := verifier.Identity{Subject: sub, SessionID: sid, Roles: roles, ExpiresAt: exp, SecondFactor: mfa}
	in.idKey, in.id = key, id
	return id, nil
}

// compactMax is the gate's limit on a request (either form): larger ones go through
// the JSON form, so that oversized requests are refused exactly as before.
const compactMax = 64 << 10

// decideJSONCall decides through the JSON export (decide).
func (in *instance) decideJSONCall(ctx context.Context, req verifier.Request, now int64) (verifier.Decision, error) {
	input, err := json.Marshal(req)
	if err != nil {
		return verifier.Decision{}, fmt.Errorf("wasmhost: encoding request: %w", err)
	}
	out, err := in.call(ctx, in.decide, input, now, true)
	if err != nil {
		return verifier.Decision{}, err
	}
	d, err := decodeDecision(out)
	if err != nil {
		return verifier.Decision{}, fmt.Errorf("%w: decoding decision: %w", abi.ErrInternal, err)
	}
	return d, nil
}

// callError classifies a failed call as call does: interrupted by its context, or a
// trap.
func callError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return errInterrupted{ctx: cerr, err: err}
	}
	return errTrap{err}
}

// result reads the packed result on the stack: the output (aliasing guest memory
// until the next call) or the status's error.
func (in *instance) result() ([]byte, error) {
	st := status(in.stack[0])
	if st == abi.StatusNeedSignature {
		return nil, errUnanswered
	}
	if err := st.Err(); err != nil {
		return nil, err
	}
	return in.output()
}

// output reads the output of the packed result on the stack, whatever its status.
func (in *instance) output() ([]byte, error) {
	_, n := abi.Unpack(in.stack[0])
	if n > in.bufCap {
		return nil, errTrap{fmt.Errorf("output length %d exceeds the buffer", n)}
	}
	out, ok := in.mem.Read(in.bufPtr, n)
	if !ok {
		return nil, errTrap{errors.New("output outside memory")}
	}
	return out, nil
}

// status is the status of a packed result.
func status(r uint64) abi.Status {
	st, _ := abi.Unpack(r)
	return st
}

// validRequest replaces every byte of invalid UTF-8 with U+FFFD (abi.ToValidUTF8), as
// encoding/json does for the JSON form (and the native engine), so both forms decide
// the same request.
func validRequest(r verifier.Request) verifier.Request {
	r.Method, r.Path, r.Query = abi.ToValidUTF8(r.Method), abi.ToValidUTF8(r.Path), abi.ToValidUTF8(r.Query)
	r.Authorization = abi.ToValidUTF8(r.Authorization)
	copied := false
	for i, c := range r.Cookies {
		if v := abi.ToValidUTF8(c); len(v) != len(c) || v != c {
			if !copied {
				r.Cookies, copied = append([]string(nil), r.Cookies...), true
			}
			r.Cookies[i] = v
		}
	}
	return r
}
