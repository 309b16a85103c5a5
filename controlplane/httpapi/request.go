package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

// checkCSRF refuses cross-site state-changing requests. A browser request passes when
// Sec-Fetch-Site is same-origin, same-site or none (typed URL, bookmark), or when that
// header is absent (older browsers) and Origin names an allowed origin. An Origin
// header, whenever present, must be in the allow-list. A request with neither header
// is refused: non-browser clients send Origin: <public origin> (documented in the
// OpenAPI document), which costs them nothing and leaves no unchecked path. Either
// header sent twice is refused: browsers send each once, and a second one would be
// judged by nobody.
func (s *Server) checkCSRF(r *http.Request) error {
	if len(r.Header.Values("Origin")) > 1 || len(r.Header.Values("Sec-Fetch-Site")) > 1 {
		return ErrCrossSite.with(errors.New("repeated Origin or Sec-Fetch-Site"), "cross-site request refused: send Origin and Sec-Fetch-Site at most once each")
	}
	origin := r.Header.Get("Origin")
	if origin != "" && !s.origins[origin] {
		return ErrCrossSite.with(errors.New("origin not allowed"), "cross-site request refused: Origin "+quoteHeader(origin)+" is not an allowed origin")
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "same-origin", "same-site", "none":
		return nil
	case "":
		if origin == "" {
			return ErrCrossSite.with(errors.New("no Origin and no Sec-Fetch-Site"), "cross-site request refused: send an Origin header naming an allowed origin")
		}
		return nil
	default: // cross-site, or anything unknown
		return ErrCrossSite.with(errors.New("Sec-Fetch-Site: "+site), "")
	}
}

// quoteHeader quotes a header's value for an error message and the log: its first 100
// bytes, with every character outside printable ASCII (and the quote) shown as '?'. The
// headers quoted are origins, which are ASCII (browsers send the xn-- form), so nothing
// is lost, while a bidi override or an invisible character cannot disguise what the
// reader sees, and a cut multi-byte character (an invalid byte) is a '?' too.
func quoteHeader(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || r == '"' {
			return '?'
		}
		return r
	}, s) + `"`
}

// contentType returns the request's Content-Type ("" when absent); ok is false when
// it came more than once: one reader would take the first, another the last, and a
// body has one meaning or is refused.
func contentType(r *http.Request) (ct string, ok bool) {
	vs := r.Header.Values("Content-Type")
	switch len(vs) {
	case 0:
		return "", true
	case 1:
		return vs[0], true
	}
	return "", false
}

// isJSON reports whether a Content-Type header names application/json (charset
// utf-8 or none).
func isJSON(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// decodeJSON reads exactly one JSON object into v: application/json only (a form or
// text/plain body is what a cross-site form can send), at most MaxBodyBytes, valid UTF-8,
// member names matched exactly (case included), no duplicate or unknown members, nothing
// after the object. It decodes with JSON v2 semantics (github.com/go-json-experiment/json),
// as strict as the verifier's own parser: a body has one meaning or is refused.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct, ok := contentType(r); !ok || !isJSON(ct) {
		return ErrUnsupportedMediaType
	}
	dec := jsontext.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if dec.PeekKind() != '{' {
		if _, err := dec.ReadValue(); err != nil {
			return jsonError(err)
		}
		return ErrInvalidJSON.with(nil, "the request body must be a JSON object")
	}
	if err := json.UnmarshalDecode(dec, v, json.RejectUnknownMembers(true)); err != nil {
		return jsonError(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return ErrBodyTooLarge.with(err, "")
		}
		return ErrTrailingData.with(syntaxCause(err), "")
	}
	return nil
}

func jsonError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return ErrBodyTooLarge.with(err, "")
	}
	se, semantic := errors.AsType[*json.SemanticError](err)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) && !semantic:
		return ErrInvalidJSON.with(err, "the request body is empty or cut short")
	case errors.Is(err, jsontext.ErrDuplicateName):
		return ErrInvalidJSON.with(err, "the request body names a field twice")
	case errors.Is(err, json.ErrUnknownName):
		name, ok := fieldName(se.JSONPointer)
		if !ok {
			return ErrUnknownField.with(errUnknownMember, "the request body has a field this endpoint does not accept (its name is not shown: not a plain field name)")
		}
		return ErrUnknownField.with(fmt.Errorf("%w %q", errUnknownMember, name), `unknown field "`+name+`" (names are case-sensitive)`)
	case semantic && se.JSONPointer != "":
		if name, ok := fieldName(se.JSONPointer); ok {
			return ErrInvalidJSON.with(err, `field "`+name+`" has the wrong type`)
		}
		return ErrInvalidJSON.with(errWrongType, "a field has the wrong type")
	}
	return ErrInvalidJSON.with(syntaxCause(err), "")
}

var (
	errUnknownMember = errors.New("unknown member")
	errWrongType     = errors.New("a member of the wrong type")
)

// maxFieldName bounds the member names an error may repeat.
const maxFieldName = 32

// fieldName returns the member a JSON pointer names (without its leading "/") when it
// reads like a field name: at most maxFieldName bytes of ASCII letters, digits, '_', '-'
// and '.' (and '/' between the names of nested members). Only then is it repeated in an
// answer or a log: a member name is client data, and a password pasted as a name, text
// of any length or characters that reorder what a reader sees are not.
func fieldName(ptr jsontext.Pointer) (string, bool) {
	name := strings.TrimPrefix(string(ptr), "/")
	if name == "" || len(name) > maxFieldName {
		return "", false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '/') {
			return "", false
		}
	}
	return name, true
}

// errSyntax stands in the log for what jsontext said about the bytes it refused.
var errSyntax = errors.New("invalid JSON syntax")

// syntaxCause is the part of a JSON syntax error that may be logged: where the body
// broke (JSON pointer, byte offset), not what was there. jsontext quotes the refused
// input (an invalid escape and up to 12 bytes from it, an invalid character), and
// inside "password" that is part of someone's password: a client that builds its JSON
// by concatenation sends a password with a backslash as an invalid escape.
func syntaxCause(err error) error {
	se, ok := errors.AsType[*jsontext.SyntacticError](err)
	if !ok || errors.Is(se.Err, jsontext.ErrDuplicateName) {
		return err
	}
	return &jsontext.SyntacticError{ByteOffset: se.ByteOffset, JSONPointer: se.JSONPointer, Err: errSyntax}
}

// noBody refuses a request body on endpoints that take none, and form content types
// whatever the body: a cross-site form post must never reach a state change.
func noBody(w http.ResponseWriter, r *http.Request) error {
	if ct, ok := contentType(r); !ok || ct != "" && !isJSON(ct) {
		return ErrUnsupportedMediaType
	}
	if r.Body == nil || r.Body == http.NoBody {
		// What net/http gives a request with no body (Content-Length: 0, as a refresh
		// or logout sends): nothing to read, and io.ReadAll would allocate 512 bytes.
		return nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return ErrBodyTooLarge.with(err, "")
	case err != nil:
		return ErrInvalidJSON.with(err, "")
	}
	if t := strings.TrimSpace(string(b)); t != "" && t != "{}" { // an empty object is tolerated
		return ErrUnexpectedBody
	}
	return nil
}

// clientIP is the address throttling counts failures against: the connection's peer,
// or the last X-Forwarded-For hop when configured to trust a proxy.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.Throttle.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(hops[len(hops)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// bearer returns the token of an "Authorization: Bearer" header, and
// ErrDuplicateAuthorization when the header is sent more than once
// (verifier.Authorization). Endpoints that accept a Bearer token ask it before any
// credential, the cookie included: a malformed request is refused whatever else it
// carries, not answered according to which credential was read first.
func bearer(r *http.Request) (string, bool, error) {
	tok, err := verifier.BearerToken(r.Header)
	if err != nil {
		return "", false, ErrDuplicateAuthorization.with(err, "")
	}
	return tok, tok != "", nil
}
