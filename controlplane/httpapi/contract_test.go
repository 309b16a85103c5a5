package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The contract check: every request the httpapi tests send through the harness (env.hc)
// and every answer they get are validated against ../openapi.yaml with kin-openapi,
// which reads OpenAPI 3.1 and validates schemas as JSON Schema 2020-12. A test whose
// exchange the document does not declare fails with the operation, the status and what
// does not match.
//
// A request the document calls invalid (a bad body, no credentials, a wrong content
// type: the tests send many on purpose) is not itself a failure; its answer must then
// be an error the operation documents. A request that names no operation (an unknown
// path, a path not in canonical form, a method the path does not have, a CORS
// preflight) is answered by the API's own Error response (components/responses/Error):
// 404 not_found, 405 method_not_allowed, or 403 cross_site_request for a refused
// preflight; an approved preflight is a 204 without a body.
//
// On top of what kin-openapi checks (status, content type, body schema, the documented
// headers' values and presence when required), an answer may carry Set-Cookie,
// Retry-After, ETag or Location only where the document declares that header, and a
// response the document gives no content has an empty body.

type contract struct {
	doc    *openapi3.T
	router routers.Router
	// errorResponse is components/responses/Error, for answers that name no operation.
	errorResponse *openapi3.Response
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	// The revocation list is a compact JWS, a string the library has no decoder for.
	openapi3filter.RegisterBodyDecoder("application/jwt", openapi3filter.PlainBodyDecoder)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("../openapi.yaml")
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the document is not valid OpenAPI: %w", err)
	}
	doc.Servers = nil // route by path alone: the tests' server is 127.0.0.1, not the example host
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	errResp := doc.Components.Responses["Error"]
	if errResp == nil || errResp.Value == nil {
		return nil, errors.New("no components/responses/Error")
	}
	return &contract{doc: doc, router: router, errorResponse: errResp.Value}, nil
})

// contractTransport validates each exchange that passes through it and reports a
// mismatch on t (Errorf: tests send from their own goroutines too).
type contractTransport struct {
	t            testing.TB
	next         http.RoundTripper
	accessCookie string // the configured access cookie's name (the document names the default)
}

// contractHeaders are the response headers an answer carries only where documented.
var contractHeaders = []string{"Set-Cookie", "Retry-After", "ETag", "Location"}

func (c *contractTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var reqBody []byte
	if r.GetBody != nil {
		b, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		if reqBody, err = io.ReadAll(b); err != nil {
			return nil, err
		}
	}
	res, err := c.next.RoundTrip(r)
	if err != nil {
		return res, err
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	var body []byte
	streaming := ct == "text/event-stream" // read by the test as it comes: headers only
	if !streaming {
		body, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
	}
	if problem := c.check(r, reqBody, res, body, streaming); problem != "" {
		c.t.Errorf("openapi.yaml does not declare this exchange: %s %s -> %d: %s", r.Method, r.URL.RequestURI(), res.StatusCode, problem)
	}
	return res, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the transport.
func (c *contractTransport) CloseIdleConnections() {
	if ci, ok := c.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// check returns what does not match the document, or "".
func (c *contractTransport) check(r *http.Request, reqBody []byte, res *http.Response, body []byte, streaming bool) string {
	k, err := loadContract()
	if err != nil {
		return "loading the document: " + err.Error()
	}
	ctx := context.Background()
	probe := r.Clone(ctx)
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	head := r.Method == http.MethodHead
	if head {
		probe.Method = http.MethodGet // a HEAD is answered as the GET, without the body
	}
	if p := r.URL.Path; p != path.Clean(p) && p != path.Clean(p)+"/" || p == "" {
		return c.checkUnrouted(k, r, res, body, "path not in canonical form")
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		return c.checkUnrouted(k, r, res, body, "CORS preflight")
	}
	route, params, err := k.router.FindRoute(probe)
	if err != nil || head && res.StatusCode == http.StatusMethodNotAllowed { // a GET route may refuse HEAD
		if err == nil {
			err = errors.New("HEAD refused")
		}
		return c.checkUnrouted(k, r, res, body, err.Error())
	}
	op := operationName(route)
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		ExcludeResponseBody:   streaming || head,
		AuthenticationFunc:    c.authenticate,
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	if reqErr != nil && res.StatusCode < 400 {
		return fmt.Sprintf("%s: a request the document calls invalid was answered %d (%s)", op, res.StatusCode, oneLine(reqErr))
	}
	// ValidateResponse skips HEAD and 304: check those answers' status here.
	if head || res.StatusCode == http.StatusNotModified {
		if route.Operation.Responses.Status(res.StatusCode) == nil && route.Operation.Responses.Default() == nil {
			return fmt.Sprintf("%s: status %d not documented", op, res.StatusCode)
		}
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		return fmt.Sprintf("%s: %s", op, oneLine(err))
	}
	ref := route.Operation.Responses.Status(res.StatusCode)
	if ref == nil {
		ref = route.Operation.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return fmt.Sprintf("%s: status %d not documented", op, res.StatusCode)
	}
	if p := extraProblems(ref.Value, res, body, streaming || head); p != "" {
		return fmt.Sprintf("%s: %s", op, p)
	}
	return ""
}

// checkUnrouted checks the answer to a request that names no operation of the document.
func (c *contractTransport) checkUnrouted(k *contract, r *http.Request, res *http.Response, body []byte, why string) string {
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	want := map[int]string{http.StatusNotFound: "not_found", http.StatusMethodNotAllowed: "method_not_allowed"}
	if preflight {
		if res.StatusCode == http.StatusNoContent {
			if len(body) != 0 {
				return why + ": an approved preflight has a body"
			}
			return ""
		}
		want[http.StatusForbidden] = "cross_site_request"
	}
	code, ok := want[res.StatusCode]
	if !ok {
		return fmt.Sprintf("%s: no operation, yet answered %d (want the Error response: 404 not_found or 405 method_not_allowed)", why, res.StatusCode)
	}
	if r.Method == http.MethodHead {
		return ""
	}
	mt := k.errorResponse.Content.Get(res.Header.Get("Content-Type"))
	if mt == nil || mt.Schema == nil {
		return fmt.Sprintf("%s: Content-Type %q is not the Error response's", why, res.Header.Get("Content-Type"))
	}
	v, err := decodeJSON(body)
	if err != nil {
		return why + ": " + err.Error()
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return why + ": body does not match the Error schema: " + oneLine(err)
	}
	if got := v.(map[string]any)["error"].(map[string]any)["code"]; got != code {
		return fmt.Sprintf("%s: code %v, want %s for %d", why, got, code, res.StatusCode)
	}
	if p := extraProblems(k.errorResponse, res, body, false); p != "" {
		return why + ": " + p
	}
	return ""
}

// extraProblems checks what kin-openapi leaves out: headers sent but not declared, and
// a body where the document declares none.
func extraProblems(doc *openapi3.Response, res *http.Response, body []byte, skipBody bool) string {
	var out []string
	for _, h := range contractHeaders {
		if len(res.Header.Values(h)) == 0 {
			continue
		}
		declared := false
		for name := range doc.Headers {
			declared = declared || strings.EqualFold(name, h)
		}
		if !declared {
			out = append(out, fmt.Sprintf("header %s sent but not declared", h))
		}
	}
	if !skipBody && len(doc.Content) == 0 && len(body) != 0 {
		out = append(out, fmt.Sprintf("a body (%q, %d bytes) where the document declares none", res.Header.Get("Content-Type"), len(body)))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// authenticate accepts the credentials the document's security schemes name: the
// access cookie (by its configured name) or a Bearer token. Whether they are good is
// the server's business (401); this only says the request carries them.
func (c *contractTransport) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch s := in.SecurityScheme; s.Type {
	case "apiKey":
		if _, err := r.Cookie(c.accessCookie); err == nil {
			return nil
		}
		return errors.New("no access cookie " + c.accessCookie)
	case "http":
		if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			return nil
		}
		return errors.New("no Bearer token")
	default:
		return fmt.Errorf("security scheme type %q", s.Type)
	}
}

func operationName(route *routers.Route) string {
	name := route.Method + " " + route.Path
	if route.Operation.OperationID != "" {
		name += " (" + route.Operation.OperationID + ")"
	}
	return name
}

func decodeJSON(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("body is not JSON: %v", err)
	}
	return v, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// The check itself finds what it should, on answers made up for it (no server).
func TestContractCheckFindsMismatches(t *testing.T) {
	t.Parallel()
	jsonType := http.Header{"Content-Type": {"application/json"}}
	notFound := `{"error":{"code":"not_found","message":"no such endpoint"}}`
	clear := "__Host-edgeauth_at=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
	for _, tc := range []struct {
		name, method, path, reqBody string
		reqHeader                   http.Header
		status                      int
		header                      http.Header
		body                        string
		want                        string // a part of the problem reported; "" for none
	}{
		{name: "documented answer", method: "GET", path: "/healthz", status: 200, header: jsonType, body: `{"status":"ok"}`},
		{name: "undocumented status", method: "GET", path: "/healthz", status: 500, header: jsonType, body: `{}`, want: "status is not supported"},
		{name: "body not of the schema", method: "GET", path: "/auth/me", reqHeader: http.Header{"Authorization": {"Bearer x"}},
			status: 200, header: jsonType, body: `{"user":{}}`, want: "doesn't match schema"},
		{name: "undocumented content type", method: "GET", path: "/healthz", status: 200,
			header: http.Header{"Content-Type": {"text/html"}}, body: `<p>ok`, want: "Content-Type"},
		{name: "header value not of its schema", method: "GET", path: "/.well-known/jwks.json", status: 503,
			header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"soon"}}, body: `{"error":{"code":"unavailable","message":"x"}}`, want: "Retry-After"},
		{name: "header value not its const (3.1)", method: "POST", path: "/auth/refresh", status: 200,
			header: http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"max-age=60"}},
			body:   `{"user":{"id":"u","email":"e","roles":[],"created":"2026-01-01T00:00:00Z"},"session_id":"s","access_expires_at":1}`, want: "Cache-Control"},
		{name: "required header missing", method: "POST", path: "/auth/logout", status: 204, want: `"Set-Cookie" missing`},
		{name: "undeclared header", method: "POST", path: "/auth/logout", status: 204, header: http.Header{"Set-Cookie": {clear}, "Retry-After": {"1"}}, want: "Retry-After sent but not declared"},
		{name: "body where none is declared", method: "POST", path: "/auth/logout", status: 204, header: http.Header{"Set-Cookie": {clear}, "Content-Type": {"text/plain"}}, body: "bye", want: "declares none"},
		{name: "invalid request answered with success", method: "POST", path: "/auth/login", reqBody: `{"email":1}`,
			reqHeader: jsonType, status: 200, header: jsonType, body: `{}`, want: "calls invalid"},
		{name: "invalid request answered with a documented error", method: "POST", path: "/auth/login", reqBody: `{"email":1}`,
			reqHeader: jsonType, status: 400, header: jsonType, body: `{"error":{"code":"invalid_json","message":"x"}}`},
		{name: "unknown path, the Error response", method: "GET", path: "/nope", status: 404, header: jsonType, body: notFound},
		{name: "unknown path, plain text", method: "GET", path: "/nope", status: 404, header: http.Header{"Content-Type": {"text/plain"}}, body: "404", want: "Content-Type"},
		{name: "unknown path, another code", method: "GET", path: "/nope", status: 404, header: jsonType, body: `{"error":{"code":"internal","message":"x"}}`, want: "want not_found"},
		{name: "non-canonical path redirected", method: "GET", path: "/auth//me", status: 301, header: http.Header{"Location": {"/auth/me"}}, want: "no operation"},
		{name: "HEAD refused by a GET route", method: "HEAD", path: "/auth/refresh", status: 405, header: jsonType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest(tc.method, "http://127.0.0.1"+tc.path, strings.NewReader(tc.reqBody))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.reqHeader {
				r.Header[k] = v
			}
			res := &http.Response{StatusCode: tc.status, Header: tc.header}
			if res.Header == nil {
				res.Header = http.Header{}
			}
			got := (&contractTransport{accessCookie: "__Host-edgeauth_at"}).check(r, []byte(tc.reqBody), res, []byte(tc.body), false)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Fatalf("problem %q, want %q", got, tc.want)
			}
		})
	}
}
