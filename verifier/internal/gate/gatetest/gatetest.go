// Package gatetest holds the gate's decision table as data: a configuration, a key
// set, a signed revocation list and named requests with the decision each must get.
// Package gate's own tests run it on the Go core, and verifier/conformance runs it
// through both engines (native and verifier.wasm), so one table states the behaviour.
//
// Tokens are signed with the fixed keys of verifier/internal/vectors, so every run and
// both engines see the same bytes. Test code only (uses encoding/json).
package gatetest

import (
	"encoding/json"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// Now is the time of every case (vectors.Now).
const Now = vectors.Now

// Cookie names of Config.
const (
	AccessName  = "__Host-at"
	RefreshName = "__Secure-rt"
	// Cutoff is the list's before: tokens issued earlier are refused as expired.
	Cutoff = Now - 200
	// RevokedSID is the session id on RevocationList.
	RevokedSID = "cmV2b2tlZC1zZXNzaW9uLWlkLTAx"
)

// Config is the configuration of the table.
func Config() verifier.Config {
	return verifier.Config{
		EdgeConfig: verifier.EdgeConfig{
			Issuer: vectors.Issuer, Audience: vectors.Audience,
			Algorithms:    []string{"EdDSA", "ES256", "RS256"},
			LeewaySeconds: vectors.Leeway,
			AccessCookie:  verifier.Cookie{Name: AccessName, Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			RefreshCookie: verifier.Cookie{Name: RefreshName, Path: "/auth", Secure: true, HTTPOnly: true, SameSite: "Strict"},
			LoginPath:     "/login", RefreshPath: "/auth/refresh",
		},
		LocalConfig: verifier.LocalConfig{
			AllowBearer:    true,
			AfterLoginPath: "/home",
			PublicPaths:    []string{"/", "/login", "/auth/", "/static/", "/api/health"},
			Protected: []verifier.ProtectedRoute{
				{Prefix: "/admin/", Roles: []string{"admin"}},
				{Prefix: "/finance/", Roles: []string{"owner", "billing"}},
				{Prefix: "/ops/", Roles: []string{"ops"}},
				{Prefix: "/api/"},
				{Prefix: "/vault/", MFA: true},
				{Prefix: "/admin/keys/", Roles: []string{"admin"}, MFA: true},
			},
			DefaultProtected: true,
			CacheEntries:     64,
		},
	}
}

// ClearAccess and ClearRefresh are the Set-Cookie values that clear Config's cookies.
const (
	ClearAccess  = "__Host-at=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
	ClearRefresh = "__Secure-rt=; Path=/auth; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
)

// JWKS is the key set of the table: the published fixed keys (EdDSA, ES256, RS256 and
// a second EdDSA key); vectors.UnpublishedRS256Key is not in it.
func JWKS() []byte { return vectors.JWKS() }

// MustJSON marshals v or panics.
func MustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// RevocationList signs a revocation list with key (typ edgeauth-revocations+jwt).
func RevocationList(key vectors.TestKey, typ string, payload map[string]any) []byte {
	h := map[string]any{"alg": key.Alg, "kid": key.KID, "typ": typ}
	return []byte(key.Sign(MustJSON(h), MustJSON(payload)))
}

// Revocations is the table's valid revocation list (iat Now-10, exp Now+290), listing
// RevokedSID and another session.
func Revocations() []byte {
	return RevocationList(vectors.EdDSAKey(), "edgeauth-revocations+jwt", map[string]any{
		"iss": vectors.Issuer, "iat": Now - 10, "exp": Now + 290,
		"sids": []string{"b3RoZXItcmV2b2tlZC1zZXNzaW9u", RevokedSID}, "before": Cutoff,
	})
}

// Claims returns the standard claims (vectors.Claims at Now) with overrides; a nil
// value deletes the claim.
func Claims(over map[string]any) map[string]any {
	c := vectors.Claims(Now)
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// Tokens of the table.
var (
	Valid   = vectors.EdDSAKey().Token(Claims(nil)) // sub user-42, roles admin, billing
	ValidES = vectors.ES256Key().Token(Claims(nil))
	ValidRS = vectors.RS256Key().Token(Claims(nil))
	Member  = vectors.EdDSAKey().Token(Claims(map[string]any{"sub": "user-7",
		"sid": "bWVtYmVyLXNlc3Npb24taWQtMDAx", "roles": []string{"member"}}))
	NoRoles = vectors.EdDSAKey().Token(Claims(map[string]any{"roles": nil}))
	// SecondFactor's sign-in used a second factor (amr lists "mfa"); PasswordOnly's
	// did not (Valid has no amr at all, which counts the same).
	SecondFactor = vectors.EdDSAKey().Token(Claims(map[string]any{"amr": []string{"pwd", "otp", "mfa"}}))
	PasswordOnly = vectors.EdDSAKey().Token(Claims(map[string]any{"amr": []string{"pwd"}}))
	MemberMFA    = vectors.EdDSAKey().Token(Claims(map[string]any{"sub": "user-7",
		"sid": "bWVtYmVyLXNlc3Npb24taWQtMDAx", "roles": []string{"member"}, "amr": []string{"pwd", "mfa"}}))
	// BadAMR's amr is a string, not an array: an invalid token, however it reads.
	BadAMR   = vectors.EdDSAKey().Token(Claims(map[string]any{"amr": "mfa"}))
	Expired  = vectors.EdDSAKey().Token(Claims(map[string]any{"iat": Now - 700, "nbf": Now - 700, "exp": Now - 100}))
	InLeeway = vectors.EdDSAKey().Token(Claims(map[string]any{"iat": Now - 150, "nbf": Now - 150, "exp": Now - 20}))
	// Superseded is valid by its times but issued before the revocation list's cutoff.
	Superseded    = vectors.EdDSAKey().Token(Claims(map[string]any{"iat": Cutoff - 50, "nbf": Cutoff - 50, "exp": Now + 350}))
	NotYetValid   = vectors.EdDSAKey().Token(Claims(map[string]any{"iat": Now - 10, "nbf": Now + 100}))
	WrongIssuer   = vectors.EdDSAKey().Token(Claims(map[string]any{"iss": "https://evil.example"}))
	WrongAudience = vectors.EdDSAKey().Token(Claims(map[string]any{"aud": "https://other.example"}))
	// ExpiredOtherIssuer is expired but not ours: invalid, never a refresh.
	ExpiredOtherIssuer = vectors.EdDSAKey().Token(Claims(map[string]any{"iss": "https://evil.example", "exp": Now - 100}))
	WrongType          = vectors.EdDSAKey().Sign(MustJSON(map[string]any{"alg": "EdDSA", "kid": vectors.KIDEdDSA, "typ": "JWT"}), MustJSON(Claims(nil)))
	// OtherKey is signed by the second EdDSA key but names the first one's kid.
	OtherKey = vectors.OtherEdDSAKey().Sign(MustJSON(vectors.EdDSAKey().Header()), MustJSON(Claims(nil)))
	AlgNone  = b64(MustJSON(map[string]any{"alg": "none", "typ": "at+jwt"})) + "." + b64(MustJSON(Claims(nil))) + "."
	// UnknownKey names a kid the key set does not have (a key published after the
	// host's last JWKS fetch).
	UnknownKey = vectors.EdDSAKey().Sign(MustJSON(map[string]any{"alg": "EdDSA", "kid": "ed-2027-9", "typ": "at+jwt"}), MustJSON(Claims(nil)))
	// Unpublished is signed by an RSA key that is in no JWKS, under the published
	// RS256 kid: its signature does not verify.
	Unpublished = vectors.UnpublishedRS256Key().Token(Claims(nil))
	Revoked     = vectors.EdDSAKey().Token(Claims(map[string]any{"sid": RevokedSID}))
	BadSig      = tamper(Valid)
	ExpiredBad  = tamper(Expired) // an expired token whose signature does not hold: invalid, not refresh
	Malformed   = "not.a-token"
	MemberSID   = "bWVtYmVyLXNlc3Npb24taWQtMDAx"
	ValidSID    = "c2Vzc2lvbi0xMjM0NTY3ODkwYWJjZGVm"
	validExp    = Now + 540
	standardIDs = &verifier.Identity{Subject: "user-42", SessionID: ValidSID, Roles: []string{"admin", "billing"}, ExpiresAt: validExp}
	mfaIDs      = &verifier.Identity{Subject: "user-42", SessionID: ValidSID, Roles: []string{"admin", "billing"}, ExpiresAt: validExp, SecondFactor: true}
	memberID    = &verifier.Identity{Subject: "user-7", SessionID: MemberSID, Roles: []string{"member"}, ExpiresAt: validExp}
)

// tamper flips one signature bit while keeping canonical base64url.
func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func b64(b []byte) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out []byte
	for i := 0; i < len(b); i += 3 {
		var v uint32
		n := len(b) - i
		if n > 3 {
			n = 3
		}
		for j := 0; j < 3; j++ {
			v <<= 8
			if j < n {
				v |= uint32(b[i+j])
			}
		}
		for j := 0; j <= n; j++ {
			out = append(out, enc[(v>>(18-6*j))&63])
		}
	}
	return string(out)
}

// Case is one request and the decision it must get at Now, with Config, JWKS and
// Revocations loaded.
type Case struct {
	Name string
	Req  verifier.Request
	Want verifier.Decision
}

func at(tok string) []string { return []string{AccessName + "=" + tok} }

func login(returnTo string) string {
	if returnTo == "" {
		return "/login"
	}
	return "/login?return_to=" + returnTo
}

var clearBoth = []string{ClearAccess, ClearRefresh}

// Cases returns the decision table.
func Cases() []Case {
	get := func(path, query string, cookies []string) verifier.Request {
		return verifier.Request{Method: "GET", Path: path, Query: query, Cookies: cookies}
	}
	allow := func(reason verifier.Reason, id *verifier.Identity) verifier.Decision {
		return verifier.Decision{Action: verifier.ActionAllow, Reason: reason, Identity: id}
	}
	redirect := func(reason verifier.Reason, loc string, clear []string) verifier.Decision {
		return verifier.Decision{Action: verifier.ActionRedirect, Reason: reason, Status: 302, Location: loc, ClearCookies: clear}
	}
	refresh := func(reason verifier.Reason, loc string) verifier.Decision {
		return verifier.Decision{Action: verifier.ActionRefresh, Reason: reason, Status: 302, Location: loc}
	}
	deny := verifier.Decision{Action: verifier.ActionDeny, Reason: "missing_role", Status: 403}
	refused := verifier.Decision{Action: verifier.ActionDeny, Reason: "invalid_path", Status: 400}
	noSecondFactor := verifier.Decision{Action: verifier.ActionDeny, Reason: "mfa_required", Status: 403}
	dash := "%2Fdashboard"
	return []Case{
		// Public paths.
		{"public home without token", get("/", "", nil), allow("public", nil)},
		{"public prefix without token", get("/static/app.js", "", nil), allow("public", nil)},
		{"public path with valid token has identity", get("/static/app.js", "", at(Valid)), allow("public_authenticated", standardIDs)},
		{"public path with bad signature clears cookies", get("/static/app.js", "", at(BadSig)), verifier.Decision{Action: "allow", Reason: "invalid_token", ClearCookies: clearBoth}},
		{"public path with expired token", get("/static/app.js", "", at(Expired)), allow("token_expired", nil)},
		{"public path with a token issued before the list's cutoff", get("/static/app.js", "", at(Superseded)), allow("token_expired", nil)},
		{"public path with unknown key", get("/static/app.js", "", at(UnknownKey)), allow("unknown_key", nil)},
		{"public path with revoked session clears cookies", get("/", "", at(Revoked)), verifier.Decision{Action: "allow", Reason: "revoked", ClearCookies: clearBoth}},
		{"public path with duplicated cookie clears cookies", get("/", "", []string{AccessName + "=" + Valid, AccessName + "=" + Valid}), verifier.Decision{Action: "allow", Reason: "duplicate_cookie", ClearCookies: clearBoth}},
		{"public exact path under protected prefix", get("/api/health", "", nil), allow("public", nil)},
		{"refresh endpoint is public", get("/auth/refresh", "return_to=%2F", []string{RefreshName + "=r"}), allow("public", nil)},
		{"no clearing in the auth area", get("/auth/login", "", at(BadSig)), allow("invalid_token", nil)},
		{"no clearing on the refresh endpoint", get("/auth/refresh", "", []string{AccessName + "=" + Revoked + "; " + RefreshName + "=r"}), allow("revoked", nil)},

		// Protected paths without a usable token.
		{"no token redirects to login", get("/dashboard", "", nil), redirect("no_token", login(dash), nil)},
		{"no token keeps the query in return_to", get("/dashboard", "tab=2&q=a%20b", nil), redirect("no_token", login(dash+"%3Ftab%3D2%26q%3Da%2520b"), nil)},
		{"unsafe query drops return_to", get("/dashboard", "q=a b", nil), redirect("no_token", login(""), nil)},
		{"refresh cookie only goes to refresh", get("/dashboard", "", []string{RefreshName + "=opaque"}), refresh("refresh", "/auth/refresh?return_to="+dash)},
		{"expired token goes to refresh", get("/dashboard", "", at(Expired)), refresh("token_expired", "/auth/refresh?return_to="+dash)},
		{"a token issued before the list's cutoff goes to refresh", get("/dashboard", "", at(Superseded)), refresh("token_expired", "/auth/refresh?return_to="+dash)},
		{"expired token with refresh cookie goes to refresh", get("/dashboard", "", []string{AccessName + "=" + Expired + "; " + RefreshName + "=r"}), refresh("token_expired", "/auth/refresh?return_to="+dash)},
		{"expired token with bad signature is invalid", get("/dashboard", "", at(ExpiredBad)), redirect("invalid_token", login(dash), clearBoth)},
		{"expired token of another issuer is invalid", get("/dashboard", "", at(ExpiredOtherIssuer)), redirect("invalid_token", login(dash), clearBoth)},
		{"empty access cookie counts as none", get("/dashboard", "", []string{AccessName + "="}), redirect("no_token", login(dash), nil)},
		{"cookie name is case sensitive", get("/dashboard", "", []string{"__host-at=" + Valid}), redirect("no_token", login(dash), nil)},

		// Protected paths with a valid token.
		{"valid EdDSA token", get("/dashboard", "", at(Valid)), allow("authenticated", standardIDs)},
		{"valid ES256 token", get("/dashboard", "", at(ValidES)), allow("authenticated", standardIDs)},
		{"valid RS256 token", get("/dashboard", "", at(ValidRS)), allow("authenticated", standardIDs)},
		{"expired within leeway", get("/dashboard", "", at(InLeeway)), allow("authenticated", &verifier.Identity{Subject: "user-42", SessionID: ValidSID, Roles: []string{"admin", "billing"}, ExpiresAt: Now - 20})},
		{"token among other cookies and headers", get("/dashboard", "", []string{"theme=dark; junk", "a=1;" + AccessName + "=\"" + Valid + "\" ; b=2"}), allow("authenticated", standardIDs)},
		{"role present", get("/admin/users", "", at(Valid)), allow("authenticated", standardIDs)},
		{"one of several roles suffices", get("/finance/q3", "", at(Valid)), allow("authenticated", standardIDs)},
		{"role missing", get("/admin/users", "", at(Member)), deny},
		{"roles claim absent", get("/ops/", "", at(NoRoles)), deny},
		{"protected prefix without roles", get("/api/orders", "", at(Member)), allow("authenticated", memberID)},
		{"second factor present", get("/vault/secrets", "", at(SecondFactor)), allow("authenticated", mfaIDs)},
		{"the identity says the sign-in used a second factor", get("/static/app.js", "", at(SecondFactor)), allow("public_authenticated", mfaIDs)},
		{"password-only sign-in on a second-factor route", get("/vault/secrets", "", at(PasswordOnly)), noSecondFactor},
		{"no amr counts as no second factor", get("/vault/", "", at(Valid)), noSecondFactor},
		{"the rule's directory needs the second factor too", get("/vault", "", at(Valid)), noSecondFactor},
		{"second factor and role", get("/admin/keys/rotate", "", at(SecondFactor)), allow("authenticated", mfaIDs)},
		{"second factor without the role", get("/admin/keys/rotate", "", at(MemberMFA)), deny},
		{"role without the second factor", get("/admin/keys/rotate", "", at(PasswordOnly)), noSecondFactor},
		{"routes without the rule ignore amr", get("/admin/users", "", at(PasswordOnly)), allow("authenticated", standardIDs)},
		{"amr that is not an array is invalid", get("/dashboard", "", at(BadAMR)), redirect("invalid_token", login(dash), clearBoth)},
		{"letter case keeps the second-factor check", get("/VAULT/secrets", "", at(PasswordOnly)), noSecondFactor},
		{"encoded letters keep the second-factor check", get("/v%61ult/secrets", "", at(Valid)), noSecondFactor},
		{"bearer token", verifier.Request{Method: "GET", Path: "/api/orders", Authorization: "Bearer " + Valid}, allow("authenticated", standardIDs)},
		{"bearer scheme is case-insensitive", verifier.Request{Method: "GET", Path: "/api/orders", Authorization: "bearer " + Valid}, allow("authenticated", standardIDs)},
		{"cookie wins over bearer", verifier.Request{Method: "GET", Path: "/api/orders", Cookies: at(Member), Authorization: "Bearer " + Valid}, allow("authenticated", memberID)},
		{"other authorization scheme ignored", verifier.Request{Method: "GET", Path: "/api/orders", Authorization: "Basic dXNlcjpwYXNz"}, redirect("no_token", login("%2Fapi%2Forders"), nil)},
		{"invalid bearer token clears nothing", verifier.Request{Method: "GET", Path: "/api/orders", Authorization: "Bearer " + BadSig}, redirect("invalid_token", login("%2Fapi%2Forders"), nil)},

		// Invalid tokens: login, cookies cleared with their exact attributes.
		{"bad signature", get("/dashboard", "", at(BadSig)), redirect("invalid_token", login(dash), clearBoth)},
		{"signed by another key under a known kid", get("/dashboard", "", at(OtherKey)), redirect("invalid_token", login(dash), clearBoth)},
		{"signed by an unpublished key under a known kid", get("/dashboard", "", at(Unpublished)), redirect("invalid_token", login(dash), clearBoth)},
		{"wrong issuer", get("/dashboard", "", at(WrongIssuer)), redirect("invalid_token", login(dash), clearBoth)},
		{"wrong audience", get("/dashboard", "", at(WrongAudience)), redirect("invalid_token", login(dash), clearBoth)},
		{"wrong typ", get("/dashboard", "", at(WrongType)), redirect("invalid_token", login(dash), clearBoth)},
		{"alg none", get("/dashboard", "", at(AlgNone)), redirect("invalid_token", login(dash), clearBoth)},
		{"malformed", get("/dashboard", "", at(Malformed)), redirect("invalid_token", login(dash), clearBoth)},
		{"garbage cookie value", get("/dashboard", "", []string{AccessName + "=a b\x01c"}), redirect("invalid_token", login(dash), clearBoth)},
		{"revoked session", get("/dashboard", "", at(Revoked)), redirect("revoked", login(dash), clearBoth)},
		{"duplicated cookie in one header", get("/dashboard", "", []string{AccessName + "=" + Valid + "; " + AccessName + "=" + Member}), redirect("duplicate_cookie", login(dash), clearBoth)},
		{"duplicated cookie across headers", get("/dashboard", "", []string{AccessName + "=" + Valid, AccessName + "=" + Valid}), redirect("duplicate_cookie", login(dash), clearBoth)},
		{"unknown key: login without clearing", get("/dashboard", "", at(UnknownKey)), redirect("unknown_key", login(dash), nil)},
		{"not yet valid: login without clearing", get("/dashboard", "", at(NotYetValid)), redirect("token_not_yet_valid", login(dash), nil)},

		// The login page.
		{"login page without token", get("/login", "", nil), allow("public", nil)},
		{"login page with refresh cookie only", get("/login", "", []string{RefreshName + "=r"}), allow("public", nil)},
		{"login page with bad token clears cookies", get("/login", "", at(BadSig)), verifier.Decision{Action: "allow", Reason: "invalid_token", ClearCookies: clearBoth}},
		{"signed in user leaves login page", get("/login", "", at(Valid)), redirect("already_signed_in", "/home", nil)},
		{"signed in user goes to return_to", get("/login", "return_to=%2Fadmin%2Fusers%3Fpage%3D2", at(Valid)), redirect("already_signed_in", "/admin/users?page=2", nil)},
		{"protocol-relative return_to dropped", get("/login", "return_to=%2F%2Fevil.com", at(Valid)), redirect("already_signed_in", "/home", nil)},
		{"backslash return_to dropped", get("/login", "return_to=%2F%5Cevil.com", at(Valid)), redirect("already_signed_in", "/home", nil)},
		{"absolute return_to dropped", get("/login", "return_to=https%3A%2F%2Fevil.com", at(Valid)), redirect("already_signed_in", "/home", nil)},
		{"encoded-slash return_to dropped", get("/login", "return_to=%2F%252F%252Fevil.com", at(Valid)), redirect("already_signed_in", "/home", nil)},
		{"CRLF return_to dropped", get("/login", "return_to=%2Fa%0D%0ASet-Cookie%3A%20x%3D1", at(Valid)), redirect("already_signed_in", "/home", nil)},

		// Open redirects and path tricks: never public, return_to dropped.
		{"protocol-relative path", get("//evil.com", "", nil), redirect("no_token", "/login", nil)},
		{"backslash path", get("/\\evil.com", "", nil), redirect("no_token", "/login", nil)},
		{"encoded slashes path", get("/%2F%2Fevil.com", "", nil), redirect("no_token", "/login", nil)},
		{"absolute URL as path", get("https://evil.com/", "", nil), redirect("no_token", "/login", nil)},
		{"encoded CRLF in query", get("/dashboard", "x=%0D%0ALocation:%20https://evil.com", nil), redirect("no_token", "/login", nil)},
		{"encoded letters keep the role check", get("/%61dmin/users", "", at(Member)), deny},
		{"double slash in a public prefix", get("/static//app.js", "", nil), redirect("no_token", "/login", nil)},
		{"non-canonical path with valid token", get("/static//dashboard", "", at(Valid)), allow("authenticated", standardIDs)},

		// Spellings a normalising upstream serves as a protected path keep its roles.
		{"letter case keeps the role check", get("/ADMIN/users", "", at(Member)), deny},
		{"letter case with the role", get("/Admin/users", "", at(Valid)), allow("authenticated", standardIDs)},
		{"trailing dot keeps the role check", get("/admin./users", "", at(Member)), deny},
		{"encoded space keeps the role check", get("/admin%20/users", "", at(Member)), deny},
		{"path parameter keeps the role check", get("/admin;x/users", "", at(Member)), deny},
		{"stream suffix keeps the role check", get("/admin::$DATA/users", "", at(Member)), deny},
		{"double encoding keeps the role check", get("/%2561dmin/users", "", at(Member)), deny},
		{"dotless i keeps the role check", get("/adm%C4%B1n/users", "", at(Member)), deny},
		{"fullwidth letter keeps the role check", get("/%EF%BD%81dmin/users", "", at(Member)), deny},
		{"soft hyphen keeps the role check", get("/ad%C2%ADmin/users", "", at(Member)), deny},
		{"public rules match literally", get("/STATIC/app.js", "", nil), redirect("no_token", login("%2FSTATIC%2Fapp.js"), nil)},

		// CORS preflights: OPTIONS without any credential passes, without identity.
		{"preflight on a protected path", verifier.Request{Method: "OPTIONS", Path: "/admin/users"}, allow("preflight", nil)},
		{"preflight with other cookies", verifier.Request{Method: "OPTIONS", Path: "/api/orders", Cookies: []string{"theme=dark"}}, allow("preflight", nil)},
		{"OPTIONS with a valid token is an ordinary request", verifier.Request{Method: "OPTIONS", Path: "/admin/users", Cookies: at(Member)}, deny},
		{"OPTIONS with a bad token is an ordinary request", verifier.Request{Method: "OPTIONS", Path: "/dashboard", Cookies: at(BadSig)}, redirect("invalid_token", login(dash), clearBoth)},
		{"OPTIONS with a refresh cookie is an ordinary request", verifier.Request{Method: "OPTIONS", Path: "/dashboard", Cookies: []string{RefreshName + "=r"}}, refresh("refresh", "/auth/refresh?return_to="+dash)},
		{"OPTIONS with a bearer token is an ordinary request", verifier.Request{Method: "OPTIONS", Path: "/api/orders", Authorization: "Bearer " + BadSig}, redirect("invalid_token", login("%2Fapi%2Forders"), nil)},
		{"OPTIONS with an empty access cookie is an ordinary request", verifier.Request{Method: "OPTIONS", Path: "/dashboard", Cookies: []string{AccessName + "="}}, redirect("no_token", login(dash), nil)},
		{"preflight on a public path", verifier.Request{Method: "OPTIONS", Path: "/static/app.js"}, allow("public", nil)},
		{"lower-case options is not a preflight", verifier.Request{Method: "options", Path: "/dashboard"}, redirect("no_token", login(dash), nil)},
		{"preflight on a refused path", verifier.Request{Method: "OPTIONS", Path: "/static/../admin"}, refused},

		// Paths no upstream should be asked to read: refused, whatever the token.
		{"dot segments out of a public prefix", get("/static/../admin/users", "", nil), refused},
		{"dot segments with a token", get("/static/../admin/users", "", at(Valid)), refused},
		{"encoded dot segments", get("/static/%2e%2e/admin/users", "", at(Member)), refused},
		{"dot segment after a path parameter", get("/static/..;x/admin/users", "", at(Member)), refused},
		{"double-encoded dot segments", get("/static/%252E%252E/admin/users", "", at(Member)), refused},
		{"control character", get("/admin%09/users", "", at(Valid)), refused},
		{"NUL", get("/admin%00/users", "", nil), refused},
		{"overlong UTF-8", get("/%C0%AE%C0%AE/admin", "", at(Member)), refused},
		{"refused before the token is read", get("/static/%2E%2E/x", "", at(BadSig)), refused},
	}
}
