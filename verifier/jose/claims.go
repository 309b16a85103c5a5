package jose

import (
	"unsafe"

	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
	"github.com/edgeauth/edgeauth/verifier/internal/words"
)

// Claims are the checked claims of an access token (RFC 9068 plus our sid, roles and
// sess_exp, and amr's "mfa"). Times are unix seconds; zero IssuedAt, NotBefore or SessionExpiresAt means
// the claim was absent.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	SessionID string
	Roles     []string
	TokenID   string
	IssuedAt  int64
	NotBefore int64
	ExpiresAt int64
	// SessionExpiresAt is sess_exp: when the token's session ends at the latest (its
	// absolute expiry), so that a long-lived connection authorized by a short-lived
	// token can be bound to the session. Informational: Verify checks only exp.
	SessionExpiresAt int64
	// SecondFactor is true when amr (RFC 8176 authentication methods) lists "mfa": the
	// session's sign-in used a second factor. Routes may require it (policy.Route.MFA).
	SecondFactor bool
	// KeyID is not a claim: the kid of the key whose signature verified the token
	// (a holder of the token can tell when that key leaves the published set).
	KeyID string
}

// MaxLeeway is the largest clock skew a Validator tolerates.
const MaxLeeway = 300

// Validator checks access tokens. Configure it once; it is read-only afterwards and
// safe for concurrent use.
type Validator struct {
	Issuer   string // required, compared exactly with iss
	Audience string // required, must appear exactly in aud
	// Algorithms is the allow-list (required). Only EdDSA, ES256 and RS256 can ever pass.
	Algorithms []Algorithm
	// Leeway is the tolerated clock skew in seconds (0..MaxLeeway) on exp, nbf and iat.
	Leeway int64
	// Type is the expected typ header; empty means AccessTokenType ("at+jwt").
	Type string
}

// Verify checks an access token completely except for revocation, at time now (unix
// seconds; the module has no clock), and returns its claims. Order: token size
// (MaxTokenBytes) and structure, header, signature (VerifyCompact), then the claims,
// which are never looked at before the signature holds:
//
//   - types: exp required integer; nbf, iat integer when present; iss string; aud a
//     string or a non-empty array of strings; sub and sid non-empty strings; roles an
//     array of strings, amr an array of strings, jti a string and sess_exp an integer
//     when present. Anything
//     else, including null, is ErrInvalidClaims. NumericDates must be integers (1.0 and 1e9 are refused):
//     our issuer writes integers, and exact integers keep comparisons exact.
//   - iss exact (ErrInvalidIssuer), then aud containing Audience (ErrInvalidAudience),
//     before times, so that ErrExpired (which sends a browser to refresh) is only
//     reported for a token that is otherwise ours;
//   - exp: refused when now >= exp+Leeway (ErrExpired), and so is sess_exp when
//     present (a token never outlives its session, whatever its exp says: tokens
//     issued before the issuer capped exp at the session's end carry a later one);
//     nbf: when now+Leeway < nbf (ErrNotValidYet); iat: when iat > now+Leeway
//     (ErrIssuedInFuture).
//
// A Validator with an empty Issuer or Audience, no Algorithms or a Leeway outside
// 0..MaxLeeway returns abi.ErrInvalidConfig.
func (v *Validator) Verify(token []byte, ks *KeySet, now int64) (Claims, error) {
	p, err := v.Prepare(token, ks)
	if err != nil {
		return Claims{}, err
	}
	if err := p.key.VerifySignature(p.c.signingInput, p.c.sig); err != nil {
		return Claims{}, err
	}
	return v.Finish(&p, now)
}

// Prepared is an access token that passed every check of Verify that comes before the
// signature arithmetic: size, structure, header, key lookup and the signature's length
// (Key.CheckSignatureLength). What remains is the arithmetic, done by the caller (the
// two-phase path hands it to the host), and Finish.
type Prepared struct {
	c   compact
	key *Key
}

// Key returns the key the signature must verify under.
func (p *Prepared) Key() *Key { return p.key }

// SigningInput returns the bytes the signature covers (header.payload, as in the token).
func (p *Prepared) SigningInput() []byte { return p.c.signingInput }

// Signature returns the decoded signature.
func (p *Prepared) Signature() []byte { return p.c.sig }

// Rebase makes p read the signing input from token, a copy of the token p was prepared
// from (the only part of it p still reads), so that p outlives the caller's buffer.
// It reports false, and changes nothing, when token cannot be such a copy.
func (p *Prepared) Rebase(token []byte) bool {
	n := len(p.c.signingInput)
	if len(token) <= n || !words.Equal(unsafe.String(unsafe.SliceData(token), n), unsafe.String(unsafe.SliceData(p.c.signingInput), n)) {
		return false
	}
	p.c.signingInput = token[:n:n]
	return true
}

// Prepare runs Verify's checks up to the signature arithmetic (see Prepared). Its errors
// are Verify's for the same token.
func (v *Validator) Prepare(token []byte, ks *KeySet) (Prepared, error) {
	if v.Issuer == "" || v.Audience == "" || len(v.Algorithms) == 0 || v.Leeway < 0 || v.Leeway > MaxLeeway {
		return Prepared{}, errConfig
	}
	typ := v.Type
	if typ == "" {
		typ = AccessTokenType
	}
	c, key, err := prepareCompact(token, MaxTokenBytes, ks, v.Algorithms, typ)
	if err != nil {
		return Prepared{}, err
	}
	if err := key.CheckSignatureLength(c.sig); err != nil {
		return Prepared{}, err
	}
	return Prepared{c: c, key: key}, nil
}

// Finish runs Verify's checks after the signature on a prepared token whose signature
// the caller has verified under p.Key(): the payload and the claims at time now (see
// Verify). Prepare, the signature check, then Finish decide exactly as Verify.
func (v *Validator) Finish(p *Prepared, now int64) (Claims, error) {
	payload, err := parsePayload(p.c.payload)
	if err != nil {
		return Claims{}, err
	}
	c, hasNbf, hasIat, err := parseClaims(payload)
	if err != nil {
		return Claims{}, err
	}
	c.KeyID = p.key.KID
	if c.Issuer != v.Issuer {
		return Claims{}, errIssuer
	}
	if !contains(c.Audience, v.Audience) {
		return Claims{}, errAudience
	}
	if now >= addSat(c.ExpiresAt, v.Leeway) {
		return Claims{}, errExpired
	}
	if c.SessionExpiresAt != 0 && now >= addSat(c.SessionExpiresAt, v.Leeway) {
		return Claims{}, errSessionExpired
	}
	if hasNbf && addSat(now, v.Leeway) < c.NotBefore {
		return Claims{}, errNotYet
	}
	if hasIat && c.IssuedAt > addSat(now, v.Leeway) {
		return Claims{}, errIssuedInFuture
	}
	return c, nil
}

// parseClaims extracts and type-checks the claims (see Verify).
func parseClaims(p strictjson.Value) (c Claims, hasNbf, hasIat bool, err error) {
	var ok bool
	exp, present := p.Get("exp")
	if !present {
		return c, false, false, errClaimExp
	}
	if c.ExpiresAt, ok = exp.Int(); !ok {
		return c, false, false, errClaimExp
	}
	if nbf, present := p.Get("nbf"); present {
		if c.NotBefore, ok = nbf.Int(); !ok {
			return c, false, false, errClaimNbf
		}
		hasNbf = true
	}
	if iat, present := p.Get("iat"); present {
		if c.IssuedAt, ok = iat.Int(); !ok {
			return c, false, false, errClaimIat
		}
		hasIat = true
	}
	if c.Issuer, ok = str(p, "iss"); !ok {
		return c, false, false, errClaimIss
	}
	if c.Audience, ok = stringOrStrings(p, "aud"); !ok {
		return c, false, false, errClaimAud
	}
	if c.Subject, ok = str(p, "sub"); !ok || c.Subject == "" {
		return c, false, false, errClaimSub
	}
	if c.SessionID, ok = str(p, "sid"); !ok || c.SessionID == "" {
		return c, false, false, errClaimSid
	}
	if roles, present := p.Get("roles"); present {
		if c.Roles, ok = stringArray(roles); !ok {
			return c, false, false, errClaimRoles
		}
	}
	if amr, present := p.Get("amr"); present {
		if c.SecondFactor, ok = listsString(amr, "mfa"); !ok {
			return c, false, false, errClaimAmr
		}
	}
	if jti, present := p.Get("jti"); present {
		if c.TokenID, ok = jti.Str(); !ok {
			return c, false, false, errClaimJti
		}
	}
	if se, present := p.Get("sess_exp"); present {
		if c.SessionExpiresAt, ok = se.Int(); !ok {
			return c, false, false, errClaimSessExp
		}
	}
	return c, hasNbf, hasIat, nil
}

// stringOrStrings reads a member that is a string or a non-empty array of strings
// (the two forms RFC 7519 §4.1.3 allows for aud).
func stringOrStrings(p strictjson.Value, name string) ([]string, bool) {
	m, ok := p.Get(name)
	if !ok {
		return nil, false
	}
	if s, ok := m.Str(); ok {
		return []string{s}, true
	}
	ss, ok := stringArray(m)
	return ss, ok && len(ss) > 0
}

// stringArray reads an array of strings (an empty array gives an empty, non-nil slice).
func stringArray(v strictjson.Value) ([]string, bool) {
	if v.Kind() != strictjson.Array {
		return nil, false
	}
	elems := v.Array()
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		s, ok := e.Str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// listsString reads an array of strings and reports whether want is one of them,
// without building a slice (amr is read on every verification, and only "mfa" counts).
func listsString(v strictjson.Value, want string) (found, ok bool) {
	if v.Kind() != strictjson.Array {
		return false, false
	}
	for _, e := range v.Array() {
		s, ok := e.Str()
		if !ok {
			return false, false
		}
		found = found || s == want
	}
	return found, true
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

// addSat returns a+b for b >= 0, saturating at the largest int64 instead of wrapping
// (a host may pass any now; an issuer may write any exp).
func addSat(a, b int64) int64 {
	const maxInt64 = 1<<63 - 1
	if a > maxInt64-b {
		return maxInt64
	}
	return a + b
}
