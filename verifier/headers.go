package verifier

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WWW-Authenticate challenges of a 401 (RFC 9110, 15.5.2: a 401 carries one), the one
// table every answerer uses: sessionauth.Challenge, the control plane, and the JS edge
// (its own copy). The scheme is Bearer (RFC 6750), under which the access token is also
// accepted where allowed; unlike Basic, it makes no browser ask for credentials.
const (
	ChallengeNoToken      = `Bearer`                       // no token, or a 401 for something else
	ChallengeInvalidToken = `Bearer error="invalid_token"` // a token refused, its session ended
	// ChallengeExpiredToken: a token refused only because it expired.
	ChallengeExpiredToken = `Bearer error="invalid_token", error_description="the access token expired"`
)

// ErrDuplicateAuthorization: a request sends the Authorization header more than once.
// Authorization is a singleton field (RFC 9110, 11.6.2: one credentials value), so two
// make a malformed request, not a choice: taking the first (or the last) would judge a
// credential other than the one another reader of the same request (a proxy, the
// upstream) may take. Every Go reader answers it 400 invalid_request, changing nothing.
// It wraps ErrInvalidRequest.
var ErrDuplicateAuthorization = fmt.Errorf("verifier: Authorization header sent more than once: %w", ErrInvalidRequest)

// Authorization returns the value of h's Authorization header ("" when there is none),
// or ErrDuplicateAuthorization when it is sent more than once: the one rule of the
// control plane, sessionauth (and wsauth through it) and the Go edge.
func Authorization(h http.Header) (string, error) {
	switch v := h["Authorization"]; len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", ErrDuplicateAuthorization
}

// BearerToken returns the token of h's "Authorization: Bearer <token>" header ("" when
// there is none, or another scheme), read as the module reads it: the scheme
// case-insensitive (RFC 9110), spaces and tabs around the token trimmed and nothing
// else, so that every Go reader (the control plane, sessionauth) takes the token the
// edge judged. ErrDuplicateAuthorization when Authorization is sent more than once.
func BearerToken(h http.Header) (string, error) {
	v, err := Authorization(h)
	if err != nil {
		return "", err
	}
	if len(v) <= len("bearer ") || !strings.EqualFold(v[:len("bearer ")], "bearer ") {
		return "", nil
	}
	return strings.Trim(v[len("bearer "):], " \t"), nil
}

// Identity headers: what an edge sets on a request it forwards with a valid token
// (Decision.Identity). The upstream may trust them only because the edge first removes
// every client-sent header an upstream could read as one of them (IsReservedHeader).
const (
	HeaderSubject   = "X-Edgeauth-Subject"    // the token's sub
	HeaderSession   = "X-Edgeauth-Session"    // its sid
	HeaderRoles     = "X-Edgeauth-Roles"      // its roles, comma-separated ("" for none)
	HeaderExpiresAt = "X-Edgeauth-Expires-At" // its exp, RFC 3339 in UTC
	// HeaderSecondFactor is "true" when the token's sign-in used a second factor (its
	// amr lists "mfa"), else "false".
	HeaderSecondFactor = "X-Edgeauth-Second-Factor"
)

// IsReservedHeader reports whether a request header named name could reach an
// upstream as one of the identity headers, now or in a later version: whether the
// name, with every byte that is not an ASCII letter or digit removed and letters
// upper-cased, begins with "XEDGEAUTH".
//
// The rule covers every spelling a common server folds together: letter case (HTTP
// names are case-insensitive), '_' for '-' (CGI, WSGI, PHP and Rack expose
// "X_Edgeauth_Subject" and "X-Edgeauth-Subject" both as HTTP_X_EDGEAUTH_SUBJECT; some
// servers turn any non-alphanumeric byte into '_'), and doubled or missing separators.
// It reserves the whole X-Edgeauth namespace, so a header added later is covered
// already. The test table verifier/testdata/identity-headers.json states it as data
// for every edge (Go and JS) to check itself against.
func IsReservedHeader(name string) bool {
	const want = "XEDGEAUTH"
	n := 0
	for i := 0; i < len(name) && n < len(want); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		default:
			continue
		}
		if c != want[n] {
			return false
		}
		n++
	}
	return n == len(want)
}

// StripIdentityHeaders removes every header IsReservedHeader names from h, and such
// names from the Connection header (a proxy deletes the headers Connection lists, so a
// client could otherwise have the identity headers the edge sets removed on the way).
func StripIdentityHeaders(h http.Header) {
	for name := range h {
		if IsReservedHeader(name) {
			delete(h, name)
		}
	}
	conn, ok := h["Connection"]
	if !ok {
		return
	}
	var kept []string
	for _, v := range conn {
		for _, token := range strings.Split(v, ",") {
			if token = strings.TrimSpace(token); token != "" && !IsReservedHeader(token) {
				kept = append(kept, token)
			}
		}
	}
	if len(kept) == 0 {
		delete(h, "Connection")
	} else {
		h["Connection"] = []string{strings.Join(kept, ", ")}
	}
}

// SetIdentityHeaders prepares h for forwarding: it removes every reserved header
// (StripIdentityHeaders), then, when id is not nil, sets the five identity headers.
// Nothing a client sent survives or is appended to.
func SetIdentityHeaders(h http.Header, id *Identity) {
	StripIdentityHeaders(h)
	if id == nil {
		return
	}
	// The values share one allocation: an edge sets them on every request it forwards.
	v := make([]string, 5)
	v[0], v[1] = id.Subject, id.SessionID
	v[2] = strings.Join(id.Roles, ",")
	v[3] = time.Unix(id.ExpiresAt, 0).UTC().Format(time.RFC3339)
	h[HeaderSubject] = v[0:1:1]
	h[HeaderSession] = v[1:2:2]
	h[HeaderRoles] = v[2:3:3]
	h[HeaderExpiresAt] = v[3:4:4]
	v[4] = strconv.FormatBool(id.SecondFactor)
	h[HeaderSecondFactor] = v[4:5:5]
}
