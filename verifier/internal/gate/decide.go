package gate

import (
	"errors"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/cookie"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// Actions, as in verifier.Action.
const (
	actionAllow    = "allow"
	actionRedirect = "redirect"
	actionRefresh  = "refresh"
	actionDeny     = "deny"
)

// tokenState is what the gate made of the request's access token.
type tokenState uint8

const (
	tokenNone       tokenState = iota // no access cookie (and no usable bearer token)
	tokenValid                        // verified, not revoked
	tokenExpired                      // well signed, ours, expired
	tokenNotYet                       // well signed, ours, nbf/iat ahead of now
	tokenUnknownKey                   // kid (with alg) not in the key set
	tokenInvalid                      // anything else; cookies are cleared
)

// decision is the gate's answer before it is written out.
type decision struct {
	action      string
	reason      abi.Reason
	status      int
	location    []byte // nil: none
	locationStr string // used when location is nil
	claims      *jose.Claims
	clear       bool
}

// Decide answers one request (the JSON of verifier.Request) at time now and appends
// the JSON of verifier.Decision to out. It returns abi.ErrNotConfigured before a
// successful Configure and an error wrapping abi.ErrInvalidRequest for input that is
// not a well-formed request; any well-formed request gets a decision.
//
// The rules, in order (reasons in reasons.go):
//
//  0. A path no upstream should be asked to read (policy.Match: control characters,
//     invalid UTF-8, dot segments however spelled) is refused: deny with status 400
//     ("invalid_path"), whatever the token.
//  1. The token is the access cookie, or with allow_bearer and no access cookie, an
//     "Authorization: Bearer" token. A duplicated access cookie is invalid.
//  2. Public path (policy.Match): the login path with a valid token redirects to the
//     safe return_to or the after-login path ("already_signed_in"); otherwise allow,
//     with identity when the token is valid; a present but invalid token (bad,
//     revoked, duplicated) gets no identity and its cookies cleared (on allow the
//     host adds clear_cookies to the forwarded response), except inside the control
//     plane's auth area (policy.AuthArea), whose responses set the cookies.
//  3. Protected path: an OPTIONS request without any credential (no access or refresh
//     cookie, no Authorization header), as browsers send CORS preflights, is allowed
//     without identity ("preflight"); no token: refresh when the refresh cookie is
//     present, else login ("no_token"); expired (and authentic) token: refresh ("token_expired");
//     invalid token: login, clearing both cookies; unknown key or clock skew: login
//     without clearing; valid token without a required role: deny 403
//     ("missing_role"); valid token whose sign-in used no second factor on a path
//     whose rule needs one: deny 403 ("mfa_required"); valid token: allow with
//     identity ("authenticated").
//
// Login and refresh redirects carry return_to (the request's path and query) only
// when it is a safe same-site relative path (policy.SafeReturnTo).
func (g *Gate) Decide(req []byte, now int64, out []byte) ([]byte, error) {
	g.beginCheck()
	res, err := g.decideJSON(req, now, out)
	g.endCheck()
	return res, err
}

func (g *Gate) decideJSON(req []byte, now int64, out []byte) ([]byte, error) {
	g.last.ok = false
	if g.pol == nil {
		return out, abi.ErrNotConfigured
	}
	r, err := g.parseRequest(req)
	if err != nil {
		return out, err
	}
	d, err := g.decide(&r, now)
	if err != nil {
		return out, err
	}
	return g.write(out, &d), nil
}

// decide applies the rules of Decide to a parsed request and remembers the identity
// of the decision (for AppendLastIdentity).
func (g *Gate) decide(r *request, now int64) (decision, error) {
	g.checkedKey = 0
	cfg := g.pol.Config()
	access, refresh, err := cookie.Get2(r.cookies, cfg.AccessCookie.Name, cfg.RefreshCookie.Name)
	if err != nil {
		return decision{}, err
	}
	m := g.pol.Match(r.path)
	if m.Invalid {
		// No upstream should be asked to read this path (policy.Match): refused
		// whoever asks, before any token is looked at.
		return decision{action: actionDeny, reason: abi.ReasonInvalidPath, status: 400}, nil
	}
	state, claims, reason, fromCookie := tokenNone, (*jose.Claims)(nil), abi.Reason(""), false
	switch {
	case access.Duplicated():
		state, reason, fromCookie = tokenInvalid, abi.ReasonDuplicateCookie, true
	case access.Found() && access.Value != "":
		fromCookie = true
		state, claims, reason, err = g.tokenState(access.Value, now)
	case cfg.AllowBearer:
		if t := bearer(r.authorization); t != "" {
			state, claims, reason, err = g.tokenState(t, now)
		}
	}
	if err != nil {
		return decision{}, err // the host checks the signature first (twophase.go)
	}

	var d decision
	if !m.Protected {
		d = decision{action: actionAllow, reason: abi.ReasonPublic}
		switch state {
		case tokenValid:
			if m.Login {
				d = decision{action: actionRedirect, reason: abi.ReasonAlreadySignedIn, status: 302,
					locationStr: g.pol.AfterLoginTarget(r.query)}
			} else {
				d.reason, d.claims = abi.ReasonPublicAuthenticated, claims
			}
		case tokenExpired:
			d.reason = abi.ReasonTokenExpired
		case tokenNotYet:
			d.reason = abi.ReasonTokenNotYetValid
		case tokenUnknownKey:
			d.reason = abi.ReasonUnknownKey
		case tokenInvalid:
			// No clearing inside the control plane's auth area: its own responses
			// set the cookies there (see policy.AuthArea).
			d.reason, d.clear = reason, fromCookie && !g.pol.AuthArea(r.path)
		}
	} else {
		switch state {
		case tokenNone:
			if r.method == "OPTIONS" && !access.Found() && refresh.Count == 0 && r.authorization == "" {
				// A CORS preflight: browsers send it without credentials before a
				// cross-origin call; the upstream answers it. Nothing is granted: no
				// identity, and no credential came with it.
				d = decision{action: actionAllow, reason: abi.ReasonPreflight}
			} else if refresh.Count > 0 {
				d = g.redirect(actionRefresh, abi.ReasonRefresh, r)
			} else {
				d = g.redirect(actionRedirect, abi.ReasonNoToken, r)
			}
		case tokenExpired:
			d = g.redirect(actionRefresh, abi.ReasonTokenExpired, r)
		case tokenNotYet:
			d = g.redirect(actionRedirect, abi.ReasonTokenNotYetValid, r)
		case tokenUnknownKey:
			d = g.redirect(actionRedirect, abi.ReasonUnknownKey, r)
		case tokenInvalid:
			d = g.redirect(actionRedirect, reason, r)
			d.clear = fromCookie
		case tokenValid:
			switch {
			case !m.Satisfied(claims.Roles):
				d = decision{action: actionDeny, reason: abi.ReasonMissingRole, status: 403}
			case m.MFA && !claims.SecondFactor:
				d = decision{action: actionDeny, reason: abi.ReasonMFARequired, status: 403}
			default:
				d = decision{action: actionAllow, reason: abi.ReasonAuthenticated, claims: claims}
			}
		}
	}
	if d.claims != nil {
		c := d.claims
		g.last = lastIdentity{ok: true, key: g.checkedKey, sub: c.Subject, sid: c.SessionID, roles: c.Roles, exp: c.ExpiresAt, mfa: c.SecondFactor}
	}
	return d, nil
}

// redirect builds a redirect to the login path (action redirect) or the refresh path
// (action refresh) with the request's return_to, as a quoted JSON string in g.scratch.
func (g *Gate) redirect(action string, reason abi.Reason, r *request) decision {
	g.scratch = append(g.scratch[:0], '"')
	if action == actionRefresh {
		g.scratch = g.pol.AppendRefreshURL(g.scratch, r.path, r.query)
	} else {
		g.scratch = g.pol.AppendLoginURL(g.scratch, r.path, r.query)
	}
	g.scratch = append(g.scratch, '"')
	return decision{action: action, reason: reason, status: 302, location: g.scratch}
}

// tokenState verifies a token and classifies the outcome, with the reason code of a
// tokenInvalid result. The error is not a verdict on the token: the host's signature
// check comes first (abi.ErrNeedSignature, twophase.go), and the call ends there.
func (g *Gate) tokenState(token string, now int64) (tokenState, *jose.Claims, abi.Reason, error) {
	c, err := g.check(token, now)
	switch {
	case err == nil:
		return tokenValid, c, "", nil
	case err == errNeedSignature:
		return tokenNone, nil, "", err
	case errors.Is(err, abi.ErrExpired):
		// jose checks the signature, issuer and audience before exp: expired means
		// authentic and ours, so a refresh will fix it.
		return tokenExpired, nil, "", nil
	case errors.Is(err, abi.ErrNotValidYet), errors.Is(err, abi.ErrIssuedInFuture):
		return tokenNotYet, nil, "", nil
	case errors.Is(err, abi.ErrUnknownKey):
		return tokenUnknownKey, nil, "", nil
	case errors.Is(err, abi.ErrRevoked):
		return tokenInvalid, nil, abi.ReasonRevoked, nil
	}
	return tokenInvalid, nil, abi.ReasonInvalidToken, nil
}

func (g *Gate) write(out []byte, d *decision) []byte {
	w := strictjson.Writer{B: out}
	w.BeginObject()
	w.Name("action")
	w.String(d.action)
	w.Name("reason")
	w.String(string(d.reason))
	if d.status != 0 {
		w.Name("status")
		w.Int(int64(d.status))
	}
	switch {
	case d.location != nil:
		// Login and refresh URLs hold only a canonical path and percent-encoded
		// unreserved characters: nothing JSON must escape, so they are quoted as is.
		w.Name("location")
		w.Raw(d.location)
	case d.locationStr != "":
		w.Name("location")
		w.String(d.locationStr)
	}
	if d.claims != nil {
		w.Name("identity")
		w.BeginObject()
		w.Name("sub")
		w.String(d.claims.Subject)
		w.Name("sid")
		w.String(d.claims.SessionID)
		if len(d.claims.Roles) > 0 {
			w.Name("roles")
			w.Strings(d.claims.Roles)
		}
		w.Name("exp")
		w.Int(d.claims.ExpiresAt)
		if d.claims.SecondFactor {
			w.Name("mfa")
			w.Bool(true)
		}
		w.EndObject()
	}
	if d.clear {
		a, r := g.pol.ClearCookies()
		w.Name("clear_cookies")
		w.BeginArray()
		w.String(a)
		w.String(r)
		w.EndArray()
	}
	w.EndObject()
	return w.B
}
