// Package gate is the decision core of the edge verifier: it holds the configuration,
// the route policy, the key set, the revocation list and the verified-token cache, and
// answers one request at a time. TinyGo compiles it into verifier.wasm (package guest
// only decodes pointers and calls it); Go programs use it through verifier.NewNative.
//
// Inputs and outputs are the JSON wire types of package verifier (Config, Request,
// Decision, Claims), read with the strict parser of verifier/internal/strictjson and
// written without reflection. Errors wrap the sentinels of verifier/abi, so
// abi.StatusOf maps them to the module's status codes.
//
// A Gate is not safe for concurrent use: a wasm instance is single-threaded and the
// native engine serialises calls. The package is TinyGo-safe: no reflection, no fmt,
// no goroutines, no clock (now is passed in).
package gate

import (
	"strings"
	"unsafe"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/policy"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// Gate decides requests. The zero value is not usable: call New.
type Gate struct {
	pol   *policy.Policy
	val   jose.Validator
	keys  *jose.KeySet
	cache tokenCache

	revoked   map[string]struct{} // session ids of the loaded revocation list
	revIat    int64               // iat of the loaded list (0: none loaded)
	revBefore int64               // the list's cutoff: tokens issued earlier are refused (0: none)

	cookies []string // reused by parseRequest
	scratch []byte   // reused for locations

	serial     uint32       // identity key of the latest cache entry (never reset)
	checkedKey uint32       // identity key of the token check just made (0: not cached)
	last       lastIdentity // identity of the latest decision

	hostAlgs uint32   // algorithms the host checks (SetHostSignatures)
	sig      exchange // the two-phase path's question and verdict
}

// New returns an unconfigured Gate: Decide and VerifyToken return abi.ErrNotConfigured
// until Configure has succeeded; tokens verify only once LoadKeys has succeeded.
func New() *Gate { return &Gate{} }

// Configure validates and installs a configuration: the JSON of verifier.Config,
// parsed strictly (unknown members and wrong types refused). Every problem is
// reported in one error wrapping abi.ErrInvalidConfig (a *policy.ConfigError), and a
// refused configuration leaves the previous one in place. Success flushes the token
// cache (sized to cache_entries); the key set is kept, and so is the revocation list
// when the issuer is unchanged.
func (g *Gate) Configure(cfg []byte) error {
	g.discardExchange()
	pol, err := parseConfig(cfg)
	if err != nil {
		return err
	}
	c := pol.Config()
	algs := make([]jose.Algorithm, len(c.Algorithms))
	for i, a := range c.Algorithms {
		algs[i] = jose.Algorithm(a)
	}
	if g.pol != nil && g.pol.Config().Issuer != c.Issuer {
		g.revoked, g.revIat, g.revBefore = nil, 0, 0 // a list from another issuer means nothing now
	}
	g.pol = pol
	g.val = jose.Validator{Issuer: c.Issuer, Audience: c.Audience, Algorithms: algs,
		Leeway: c.LeewaySeconds, Type: jose.AccessTokenType}
	g.cache = newTokenCache(c.CacheEntries)
	return nil
}

// LoadKeys installs a JWKS (jose.ParseJWKS: unusable keys skipped; symmetric keys or
// no usable key refuse the set with abi.ErrInvalidKeySet and change nothing). Success
// flushes the token cache: a token verified under a removed key must be checked again.
func (g *Gate) LoadKeys(jwks []byte) error {
	g.discardExchange()
	ks, err := jose.ParseJWKS(jwks)
	if err != nil {
		return err
	}
	g.keys = ks
	g.cache.flush()
	return nil
}

// MaxRevocationLifetime bounds exp - iat of a revocation list (jose.MaxRevocationLifetime).
const MaxRevocationLifetime = jose.MaxRevocationLifetime

var (
	errRevNoKeys   = wrap(abi.ErrInvalidRevocationList, "no key set loaded")
	errRevRollback = wrap(abi.ErrInvalidRevocationList, "list is older (iat) than the loaded one")
)

// LoadRevocations installs a signed revocation list (compact JWS, typ
// "edgeauth-revocations+jwt", payload {"iss","iat","exp","sids"}; see verifier/ABI.md),
// checked at time now against the loaded keys, the configured algorithms and issuer by
// jose.VerifyRevocationList, and refused when it is older (iat) than the loaded list
// (no rollback to a list that misses recent revocations). A list of the loaded list's
// iat adds to it: the gate keeps the sessions either names and the higher cutoff. Any
// failure returns an error wrapping abi.ErrInvalidRevocationList and changes nothing.
//
// Revocation is by session id: a listed sid refuses every token of that session,
// however the token is encoded. A list may also carry a cutoff (before): tokens issued
// earlier are refused as expired, so their holders refresh; the control plane sets it
// when more sessions were revoked than a list has room to name. The list does not
// expire inside the gate: the host polls it and decides how long a stale list may be
// used before it fails closed.
func (g *Gate) LoadRevocations(list []byte, now int64) error {
	g.discardExchange()
	if g.pol == nil {
		return abi.ErrNotConfigured
	}
	if g.keys == nil {
		return errRevNoKeys
	}
	rl, err := jose.VerifyRevocationList(list, g.keys, g.val.Algorithms, g.val.Issuer, g.val.Leeway, now)
	if err != nil {
		return err
	}
	if rl.IssuedAt < g.revIat {
		return errRevRollback
	}
	before := rl.Before
	sameSecond := rl.IssuedAt == g.revIat
	n := len(rl.SessionIDs)
	if sameSecond {
		// Lists of one second may come from replicas that signed them on either side
		// of a revocation's commit, in any order: each is true of that second, so the
		// gate keeps what either names and the higher cutoff. The next second's list
		// replaces them (iat has one-second resolution; nothing finer orders them).
		n += len(g.revoked)
		before = max(before, g.revBefore)
	}
	set := make(map[string]struct{}, n)
	if sameSecond {
		for s := range g.revoked {
			set[s] = struct{}{}
		}
	}
	for _, s := range rl.SessionIDs {
		set[s] = struct{}{}
	}
	g.revoked, g.revIat, g.revBefore = set, rl.IssuedAt, before
	return nil
}

// VerifyToken checks one access token completely (structure, header, signature,
// claims, time, revocation) at time now and appends its claims as the JSON of
// verifier.Claims to out. Errors wrap abi sentinels (abi.ErrRevoked for a revoked
// session).
func (g *Gate) VerifyToken(token []byte, now int64, out []byte) ([]byte, error) {
	g.beginCheck()
	res, err := g.verifyToken(token, now, out)
	g.endCheck()
	return res, err
}

func (g *Gate) verifyToken(token []byte, now int64, out []byte) ([]byte, error) {
	if g.pol == nil {
		return out, abi.ErrNotConfigured
	}
	if len(token) == 0 {
		token = []byte{}
	}
	// The token is read in place (the cache keeps a copy): no allocation on a hit.
	c, err := g.check(unsafe.String(unsafe.SliceData(token), len(token)), now)
	if err != nil {
		return out, err
	}
	w := strictjson.Writer{B: out}
	w.BeginObject()
	w.Name("iss")
	w.String(c.Issuer)
	w.Name("sub")
	w.String(c.Subject)
	w.Name("aud")
	w.Strings(c.Audience)
	w.Name("sid")
	w.String(c.SessionID)
	if len(c.Roles) > 0 {
		w.Name("roles")
		w.Strings(c.Roles)
	}
	if c.TokenID != "" {
		w.Name("jti")
		w.String(c.TokenID)
	}
	if c.IssuedAt != 0 {
		w.Name("iat")
		w.Int(c.IssuedAt)
	}
	if c.NotBefore != 0 {
		w.Name("nbf")
		w.Int(c.NotBefore)
	}
	w.Name("exp")
	w.Int(c.ExpiresAt)
	if c.SecondFactor {
		w.Name("mfa")
		w.Bool(true)
	}
	w.EndObject()
	return w.B, nil
}

var (
	errCachedExpired        = wrap(abi.ErrExpired, "exp is past (after leeway)")
	errCachedSessionExpired = wrap(abi.ErrExpired, "sess_exp is past (after leeway): the session has ended")
	errCachedNotYet         = wrap(abi.ErrNotValidYet, "nbf is in the future (after leeway)")
	errCachedIatAhead       = wrap(abi.ErrIssuedInFuture, "iat is in the future (after leeway)")
	errRevokedSession       = wrap(abi.ErrRevoked, "the token's session is on the revocation list")
	errBeforeCutoff         = wrap(abi.ErrExpired, "issued before the revocation list's cutoff (before): refresh it")
)

// check verifies token at now: from the cache when the exact bytes were verified
// before (the time claims and the revocation list, its cutoff included, are checked
// again on every hit),
// else fully with jose.Validator.Verify (the signature checked by the host when it
// checks that algorithm: g.verify, twophase.go), caching the claims on success. The returned
// claims belong to the cache: read them before the next call.
func (g *Gate) check(token string, now int64) (*jose.Claims, error) {
	var c *jose.Claims
	if e, hit := g.cache.get(token); hit {
		c = &e.claims
		if err := g.checkTimes(c, now); err != nil {
			return nil, err
		}
		g.checkedKey = e.serial
	} else {
		var err error
		if c, err = g.verifyAndCache(token, now); err != nil {
			return nil, err
		}
	}
	if _, revoked := g.revoked[c.SessionID]; revoked {
		return nil, errRevokedSession
	}
	if c.IssuedAt < g.revBefore {
		return nil, errBeforeCutoff
	}
	return c, nil
}

// verifyAndCache is check's miss: the token verified in full, then cached. It stays a
// call of its own: inlined into check, its locals made TinyGo's precise collector clear
// a 616-byte frame on every cache hit as well.
//
//go:noinline
func (g *Gate) verifyAndCache(token string, now int64) (*jose.Claims, error) {
	claims, err := g.verify(token, now)
	if err != nil {
		return nil, err
	}
	// Clone: token may be a substring of a whole request (or alias the module's
	// buffer) that the cache must not keep.
	if g.serial++; g.serial == 0 {
		g.serial = 1 // 0 means "no key"
	}
	e := g.cache.put(strings.Clone(token), claims, g.serial)
	if e == nil {
		return &claims, nil // cache disabled
	}
	g.checkedKey = e.serial
	return &e.claims, nil
}

// checkTimes repeats jose.Validator's time checks (same comparisons) for a cached token.
func (g *Gate) checkTimes(c *jose.Claims, now int64) error {
	lw := g.val.Leeway
	if now >= addSat(c.ExpiresAt, lw) {
		return errCachedExpired
	}
	if c.SessionExpiresAt != 0 && now >= addSat(c.SessionExpiresAt, lw) {
		return errCachedSessionExpired
	}
	if c.NotBefore != 0 && addSat(now, lw) < c.NotBefore {
		return errCachedNotYet
	}
	if c.IssuedAt != 0 && c.IssuedAt > addSat(now, lw) {
		return errCachedIatAhead
	}
	return nil
}

func addSat(a, b int64) int64 {
	const maxInt64 = 1<<63 - 1
	if a > maxInt64-b {
		return maxInt64
	}
	return a + b
}

var errSigCheckInput = wrap(abi.ErrMalformed, "verify_signature input lengths do not fit")

// VerifySignature checks one raw signature for conformance vectors (Wycheproof): the
// input is abi.EncodeSignatureCheck(jwk, msg, sig); the JWK is parsed with
// jose.ParseJWK (errors wrap abi.ErrInvalidKeySet) and the signature checked with
// its algorithm (abi.ErrSignatureInvalid when it does not hold). Input whose lengths
// do not fit is abi.ErrMalformed.
func VerifySignature(input []byte) error {
	jwk, msg, sig, ok := abi.DecodeSignatureCheck(input)
	if !ok {
		return errSigCheckInput
	}
	k, err := jose.ParseJWK(jwk)
	if err != nil {
		return err
	}
	return k.VerifySignature(msg, sig)
}

// VerifySignature is the package's VerifySignature (the verify_signature export), with
// the arithmetic of the algorithms the host checks left to the host (twophase.go): a
// signature of the right length under a key of such an algorithm asks the host, unless
// the call holds its verdict on that very question.
func (g *Gate) VerifySignature(input []byte) error {
	g.beginCheck()
	defer g.endCheck()
	if g.hostAlgs == 0 {
		return VerifySignature(input)
	}
	jwk, msg, sig, ok := abi.DecodeSignatureCheck(input)
	if !ok {
		return errSigCheckInput
	}
	k, err := jose.ParseJWK(jwk)
	if err != nil {
		return err
	}
	if !g.hostChecks(k) {
		return k.VerifySignature(msg, sig)
	}
	if err := k.CheckSignatureLength(sig); err != nil {
		return err
	}
	return g.verifyRaw(input, k)
}
