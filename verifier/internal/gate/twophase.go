package gate

import (
	"unsafe"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/words"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// The two-phase path (verifier/ABI.md, "Two-phase verification"; layouts in
// verifier/abi/twophase.go). A host declares with SetHostSignatures the algorithms whose
// signature arithmetic it performs itself. A token check that reaches such a signature
// (every check before it passed: jose.Validator.Prepare) asks the host, unless it holds
// the host's verdict on that very token:
//
//  1. the check ends with abi.ErrNeedSignature; the gate keeps a copy of the token, its
//     prepared state and the key, from which AppendSignatureQuestion writes the question
//     (algorithm, key index, key material, message, signature);
//  2. the host checks that signature and answers with SignatureVerdict;
//  3. the host makes the same call again: the request is decided from the start, and
//     when the token to check is byte-for-byte the one asked about, its prepared state
//     and the verdict stand in for Prepare and the arithmetic; the rest (claims, times,
//     revocation, cache, decision) runs as always.
//
// A verdict serves the one call that follows it: every token-checking call (Decide,
// DecideCompact, VerifyToken, VerifySignature) takes it and discards the exchange, and
// Configure, LoadKeys, LoadRevocations and SetHostSignatures discard it too (a key set
// change can never meet an old verdict). Nothing but the arithmetic leaves the module,
// so the outcome is Verify's by construction.

// exchange is the pending question and, once answered, its verdict.
type exchange struct {
	subject  []byte        // the token (or verify_signature's input) asked about, a copy; empty: none
	prepared jose.Prepared // for a token: its prepared state (reads subject)
	key      *jose.Key     // the key of the question
	raw      bool          // the subject is a verify_signature input
	answered bool
	valid    bool

	// The verdict taken by the current call (beginCheck), usable once.
	held      bool
	heldValid bool
}

var (
	errHostMask      = wrap(abi.ErrInvalidRequest, "host_signatures: an algorithm this module does not hand to its host")
	errNoQuestion    = wrap(abi.ErrInvalidRequest, "signature_verdict: no signature question is pending")
	errVerdictValue  = wrap(abi.ErrInvalidRequest, "signature_verdict: the verdict is neither 0 nor 1")
	errNeedSignature = wrap(abi.ErrNeedSignature, "the host checks this signature (two-phase path)")
	errHostSignature = wrap(abi.ErrSignatureInvalid, "signature does not verify (checked by the host)")
	errRebase        = wrap(abi.ErrInternal, "two-phase path: the token copy differs from the token")
)

// SetHostSignatures declares the algorithms whose signatures the host checks (bit
// 1<<abi.AlgRS256; 0: the module checks every signature, the default). A bit outside
// abi.HostSignaturesSupported refuses the mask with abi.ErrInvalidRequest and changes
// nothing. Any pending question or verdict is discarded.
func (g *Gate) SetHostSignatures(mask uint32) error {
	if mask&^abi.HostSignaturesSupported != 0 {
		return errHostMask
	}
	g.hostAlgs = mask
	g.discardExchange()
	return nil
}

// AppendSignatureQuestion appends the signature question awaiting a verdict
// (abi.AppendRSAQuestion's layout) to dst; nothing when none is. The question is built
// from the gate's copies, so dst may be the buffer the call's input was read from.
func (g *Gate) AppendSignatureQuestion(dst []byte) []byte {
	s := &g.sig
	if len(s.subject) == 0 || s.answered || s.held {
		return dst
	}
	e, n, _ := s.key.RSAPublic()
	idx := abi.NoKeyIndex
	if i := s.key.Index(); i >= 0 {
		idx = uint32(i)
	}
	if s.raw {
		_, msg, sig, _ := abi.DecodeSignatureCheck(s.subject)
		return abi.AppendRSAQuestion(dst, idx, e, n, msg, sig)
	}
	return abi.AppendRSAQuestion(dst, idx, e, n, s.prepared.SigningInput(), s.prepared.Signature())
}

// SignatureQuestion returns AppendSignatureQuestion(nil), nil when no question awaits.
func (g *Gate) SignatureQuestion() []byte { return g.AppendSignatureQuestion(nil) }

// SignatureVerdict answers the pending question: valid 1 when the signature verifies,
// 0 when it does not. Without a pending, unanswered question, or with another value,
// it returns an error wrapping abi.ErrInvalidRequest and changes nothing.
func (g *Gate) SignatureVerdict(valid uint32) error {
	switch {
	case len(g.sig.subject) == 0 || g.sig.answered:
		return errNoQuestion
	case valid > 1:
		return errVerdictValue
	}
	g.sig.answered, g.sig.valid = true, valid == 1
	return nil
}

// beginCheck starts a token-checking call: it holds the verdict, if the host gave one,
// for this call only; an unanswered question is discarded.
func (g *Gate) beginCheck() {
	s := &g.sig
	s.held = false
	if len(s.subject) == 0 {
		return
	}
	if s.answered {
		s.held, s.heldValid, s.answered = true, s.valid, false
		return // the subject stays until the verdict is used or the call ends
	}
	g.discardExchange()
}

// endCheck ends a token-checking call: a verdict it did not use is dropped.
func (g *Gate) endCheck() {
	if g.sig.held {
		g.discardExchange()
	}
}

// discardExchange forgets any question and verdict.
func (g *Gate) discardExchange() {
	s := &g.sig
	s.subject, s.prepared, s.key, s.answered, s.held = s.subject[:0], jose.Prepared{}, nil, false, false
}

// hostChecks reports whether the host checks signatures under k.
func (g *Gate) hostChecks(k *jose.Key) bool {
	if g.hostAlgs&(1<<abi.AlgRS256) == 0 {
		return false
	}
	_, _, ok := k.RSAPublic()
	return ok
}

// takeVerdict returns the held verdict when it is about subject, and uses it up.
func (g *Gate) takeVerdict(subject string) (valid, ok bool) {
	s := &g.sig
	if !s.held || !words.Equal(unsafe.String(unsafe.SliceData(s.subject), len(s.subject)), subject) {
		return false, false
	}
	s.held = false
	return s.heldValid, true
}

// ask records a question about subject (copied) under key k and returns
// errNeedSignature.
func (g *Gate) ask(subject string, k *jose.Key, raw bool) error {
	s := &g.sig
	s.subject = append(s.subject[:0], subject...)
	s.key, s.raw, s.answered, s.held = k, raw, false, false
	return errNeedSignature
}

// verify is jose.Validator.Verify with the two-phase path: the signature arithmetic
// of the algorithms the host checks is the host's verdict (see above).
func (g *Gate) verify(token string, now int64) (jose.Claims, error) {
	if g.hostAlgs == 0 {
		return g.val.Verify(bytesOf(token), g.keys, now)
	}
	if valid, ok := g.takeVerdict(token); ok {
		p := g.sig.prepared
		g.discardExchange()
		if !valid {
			return jose.Claims{}, errHostSignature
		}
		return g.val.Finish(&p, now)
	}
	p, err := g.val.Prepare(bytesOf(token), g.keys)
	if err != nil {
		return jose.Claims{}, err
	}
	k := p.Key()
	if !g.hostChecks(k) {
		if err := k.VerifySignature(p.SigningInput(), p.Signature()); err != nil {
			return jose.Claims{}, err
		}
		return g.val.Finish(&p, now)
	}
	err = g.ask(token, k, false)
	// The token may alias the module's buffer, which the host overwrites: the kept
	// state reads the gate's copy.
	if !p.Rebase(g.sig.subject) {
		g.discardExchange()
		return jose.Claims{}, errRebase
	}
	g.sig.prepared = p
	return jose.Claims{}, err
}

// verifyRaw is the raw signature check of VerifySignature for a key whose signatures
// the host checks; input is the whole verify_signature input.
func (g *Gate) verifyRaw(input []byte, k *jose.Key) error {
	subject := unsafe.String(unsafe.SliceData(input), len(input))
	if valid, ok := g.takeVerdict(subject); ok {
		g.discardExchange()
		if !valid {
			return errHostSignature
		}
		return nil
	}
	return g.ask(subject, k, true)
}

// bytesOf returns the bytes of s without a copy (the token checks only read them; a
// copy costs an allocation per cold check). Nothing may write to or keep the slice.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
