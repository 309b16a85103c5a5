package jose

import (
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
)

// MaxRevocationLifetime bounds exp - iat of a revocation list, in seconds (the format
// says 60..300). A longer-lived list could be replayed to a verifier that has none
// loaded for longer, hiding the sessions revoked since it was issued.
const MaxRevocationLifetime = 300

// RevocationList is the checked payload of a signed revocation list (verifier/ABI.md):
// the ids of sessions revoked within the last access-token lifetime plus leeway, and
// the cutoff that stands for the revocations the list has no room to name.
type RevocationList struct {
	IssuedAt   int64
	ExpiresAt  int64
	SessionIDs []string // non-empty strings, in document order
	// Before: an access token issued (iat) before this time is no longer accepted
	// (refused as expired: its holder refreshes, and the control plane, which knows
	// whether the session is still live, answers). 0: no cutoff. At most IssuedAt.
	Before int64
}

var (
	errRevNoKeys   = wrap(abi.ErrInvalidRevocationList, "no key set loaded")
	errRevIssuer   = wrap(abi.ErrInvalidRevocationList, "iss missing or not the configured issuer")
	errRevTimes    = wrap(abi.ErrInvalidRevocationList, "iat and exp must be integers, iat not in the future, exp after iat by at most 300 s")
	errRevExpired  = wrap(abi.ErrInvalidRevocationList, "list expired (exp <= now)")
	errRevSids     = wrap(abi.ErrInvalidRevocationList, "sids missing or not an array of non-empty strings")
	errRevBefore   = wrap(abi.ErrInvalidRevocationList, "before must be an integer from 0 to iat")
	errRevNoIssuer = wrap(abi.ErrInvalidRevocationList, "no issuer to check the list against")
	revSigPrefix   = "signature or header check failed: "
)

// VerifyRevocationList checks a signed revocation list (compact JWS of at most
// MaxJWSBytes, typ RevocationListType, payload {"iss","iat","exp","sids"} and optionally
// "before") at time now against ks and the allowed algorithms: the signature must hold,
// iss must equal issuer, iat and exp must be integers with iat < exp <= iat +
// MaxRevocationLifetime, iat not after now + leeway, exp after now, sids an array of
// non-empty strings, and before, when present, an integer from 0 to iat (a cutoff
// after the list was issued would refuse the tokens its own control plane issues
// next). Other payload members are ignored. Every failure wraps abi.ErrInvalidRevocationList.
//
// Whether the list is older than one already held (a rollback) is the caller's check:
// only it knows what it holds. The gate (LoadRevocations) and Go programs that keep
// revocations themselves both check lists here, so they refuse and accept alike.
func VerifyRevocationList(list []byte, ks *KeySet, algs []Algorithm, issuer string, leeway, now int64) (RevocationList, error) {
	if issuer == "" {
		return RevocationList{}, errRevNoIssuer
	}
	if ks == nil {
		return RevocationList{}, errRevNoKeys
	}
	payload, err := VerifyJWS(list, ks, algs, RevocationListType)
	if err != nil {
		return RevocationList{}, wrap(abi.ErrInvalidRevocationList, revSigPrefix+err.Error())
	}
	if iss, ok := str(payload, "iss"); !ok || iss != issuer {
		return RevocationList{}, errRevIssuer
	}
	iatV, _ := payload.Get("iat")
	expV, _ := payload.Get("exp")
	iat, ok1 := iatV.Int()
	exp, ok2 := expV.Int()
	// exp > iat+max rather than exp-iat > max: the difference wraps for a negative iat,
	// which would let a list with an exp far ahead pass as short-lived.
	if !ok1 || !ok2 || iat >= exp || exp > addSat(iat, MaxRevocationLifetime) || iat > addSat(now, leeway) {
		return RevocationList{}, errRevTimes
	}
	if exp <= now {
		return RevocationList{}, errRevExpired
	}
	sids, _ := payload.Get("sids")
	if sids.Kind() != strictjson.Array {
		return RevocationList{}, errRevSids
	}
	var before int64
	if v, present := payload.Get("before"); present {
		var ok bool
		if before, ok = v.Int(); !ok || before < 0 || before > iat {
			return RevocationList{}, errRevBefore
		}
	}
	out := RevocationList{IssuedAt: iat, ExpiresAt: exp, Before: before, SessionIDs: make([]string, 0, len(sids.Array()))}
	for _, v := range sids.Array() {
		s, ok := v.Str()
		if !ok || s == "" {
			return RevocationList{}, errRevSids
		}
		out.SessionIDs = append(out.SessionIDs, s)
	}
	return out, nil
}
