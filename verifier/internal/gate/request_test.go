package gate

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
)

// referenceRequest reads a request with the general strict parser: the behaviour
// parseRequest must reproduce exactly.
func referenceRequest(data []byte) (request, bool) {
	doc, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: maxRequestBytes, MaxDepth: 3})
	if err != nil || doc.Kind() != strictjson.Object {
		return request{}, false
	}
	var r request
	hasPath := false
	for _, m := range doc.Members() {
		v := m.Value
		if v.Kind() == strictjson.Null {
			if m.Name == "method" || m.Name == "path" || m.Name == "query" || m.Name == "authorization" || m.Name == "cookies" {
				continue
			}
			return request{}, false
		}
		var ok bool
		switch m.Name {
		case "method":
			r.method, ok = v.Str()
		case "path":
			r.path, ok = v.Str()
			hasPath = ok
		case "query":
			r.query, ok = v.Str()
		case "authorization":
			r.authorization, ok = v.Str()
		case "cookies":
			ok = v.Kind() == strictjson.Array && len(v.Array()) <= maxCookieHeaders
			for _, e := range v.Array() {
				s, isStr := e.Str()
				ok = ok && isStr
				r.cookies = append(r.cookies, s)
			}
		}
		if !ok {
			return request{}, false
		}
	}
	return r, hasPath
}

var requestSeeds = []string{
	`{"path":"/"}`,
	` { "method" : "GET" , "path" : "/a" , "query" : "x=1" , "cookies" : [ "a=1" , "b=2" ] , "authorization" : "Bearer t" } `,
	`{"path":"/","cookies":[]}`,
	`{"path":"/","cookies":null,"query":null}`,
	`{"path":"/caf\u00e9\ud83d\ude00\n\"\\\/\b\f\r\t"}`,
	"{\"path\":\"/caf\xc3\xa9\"}",
	"{\"path\":\"/\xff\"}",
	`{"path":"\ud800"}`,
	`{"path":"\udc00"}`,
	`{"path":"\ud800\u0041"}`,
	`{"path":"/","path":"/x"}`,
	`{"path":"/","p\u0061th":"/x"}`,
	`{"p\u0061th":"/x"}`,
	`{"path":"/"} x`,
	`{"path":"/",}`,
	`{"path":1}`,
	`{"path":true}`,
	`{"path":"/","cookies":["a",1]}`,
	`{"path":"/","cookies":[["a"]]}`,
	`{"path":"/","cookies":"a"}`,
	`{"path":"/","host":"x"}`,
	`{"path":"/","host":null}`,
	`{"method":"GET"}`,
	`{}`,
	`[]`,
	``,
	`{"path":"/\u0000"}`,
	"{\"path\":\"/\x01\"}",
	`{"path":"/\x"}`,
	`{"path":"/\u12"}`,
	`{"path":"/"`,
	`{"path" "/"}`,
	`{"path":"/","cookies":["a" "b"]}`,
	"\ufeff{\"path\":\"/\"}",
	`{"path":nul}`,
}

func TestParseRequestMatchesReference(t *testing.T) {
	for _, s := range requestSeeds {
		checkRequestParse(t, []byte(s))
	}
	checkRequestParse(t, []byte(`{"path":"/","cookies":[`+strings.Repeat(`"a",`, maxCookieHeaders)+`"b"]}`))
	checkRequestParse(t, []byte(`{"path":"`+strings.Repeat("a", maxRequestBytes)+`"}`))
}

// TestParseRequestErrors pins which error each kind of refusal gets, where the
// reference comparison only checks that a request is refused. Where an input breaks
// several rules, the first one met reading left to right decides.
func TestParseRequestErrors(t *testing.T) {
	manyCookies := `"cookies":[` + strings.Repeat(`"a",`, maxCookieHeaders) + `"b"]`
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"path":"/"}`, nil},
		{`{"path":"` + strings.Repeat("a", maxRequestBytes) + `"}`, errRequestTooBig},
		{``, errRequestJSON},
		{`[]`, errRequestJSON},
		{"\ufeff{\"path\":\"/\"}", errRequestJSON},
		{`{`, errRequestJSON},
		{`{"path"`, errRequestJSON},
		{`{"path" "/"}`, errRequestJSON},
		{`{"host" "x"}`, errRequestJSON},
		{`{"path":"/","path" "x"}`, errRequestJSON},
		{`{"path":"/",}`, errRequestJSON},
		{`{"path":"/"`, errRequestJSON},
		{`{"path":"/"}}`, errRequestJSON},
		{`{"method":"GET"} x`, errRequestJSON},
		{"{\"path\":\"/\x01\"}", errRequestJSON},
		{`{"path":"/\x"}`, errRequestJSON},
		{`{"path":"/","cookies":["a" "b"]}`, errRequestJSON},
		{`{"path":"/","cookies":["a"`, errRequestJSON},
		{`{"path":"/","cookies":[]`, errRequestJSON},
		{"{\"path\":\"/\xff\"}", errRequestUTF8},
		{`{"path":"\ud800"}`, errRequestUTF8},
		{`{"\ud800":1}`, errRequestUTF8},
		{`{"path":"/","cookies":["\ud800"]}`, errRequestUTF8},
		{`{"path":"/","host":null}`, errRequestField},
		{`{"host":1,"path":"/"}`, errRequestField},
		{`{"path":"/","p\u0061th":"/x"}`, errRequestField},
		{`{"cookies":[],"cookies":[]}`, errRequestField},
		{`{"path":1}`, errRequestField},
		{`{"path":nul}`, errRequestField},
		{`{"path":"/","method":["a"]}`, errRequestField},
		{`{"path":"/","cookies":"a"}`, errRequestField},
		{`{"path":"/","cookies":{}}`, errRequestField},
		{`{"path":"/","cookies":[`, errRequestField},
		{`{"path":"/","cookies":["a",]}`, errRequestField},
		{`{"path":"/","cookies":["a",1]}`, errRequestField},
		{`{` + manyCookies + `}`, errRequestCookies},
		{`{"path":"/",` + manyCookies + `}`, errRequestCookies},
		{`{}`, errRequestPath},
		{`{ }`, errRequestPath},
		{`{"path":null}`, errRequestPath},
		{`{"method":"GET","cookies":["a"]}`, errRequestPath},
	} {
		if _, err := New().parseRequest([]byte(tc.in)); err != tc.want {
			in := tc.in
			if len(in) > 80 {
				in = in[:80] + "..."
			}
			t.Errorf("%q: error %v, want %v", in, err, tc.want)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkRequestParse(t, data) })
}

func checkRequestParse(t *testing.T, data []byte) {
	t.Helper()
	g := New()
	got, err := g.parseRequest(data)
	want, ok := referenceRequest(data)
	if (err == nil) != ok {
		t.Fatalf("%q: parseRequest err %v, reference ok %v", data, err, ok)
	}
	if err != nil {
		if !errors.Is(err, abi.ErrInvalidRequest) {
			t.Fatalf("%q: error %v is not ErrInvalidRequest", data, err)
		}
		return
	}
	if len(got.cookies) == 0 {
		got.cookies = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got  %#v\n want %#v", data, got, want)
	}
}
