package gate

import (
	"strconv"

	"github.com/edgeauth/edgeauth/verifier/internal/policy"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
)

// configLimits bound the configuration JSON.
var configLimits = strictjson.Limits{MaxBytes: 64 << 10, MaxDepth: 4}

// fieldReader reads the members of one JSON object, noting every problem (wrong
// type, unknown member) with its JSON path. null counts as absent.
type fieldReader struct {
	problems []string
}

func (r *fieldReader) bad(path, want string) {
	r.problems = append(r.problems, path+": want "+want)
}

func (r *fieldReader) str(v strictjson.Value, path string, dst *string) {
	if v.Kind() == strictjson.Null {
		return
	}
	if s, ok := v.Str(); ok {
		*dst = s
		return
	}
	r.bad(path, "a string")
}

func (r *fieldReader) boolean(v strictjson.Value, path string, dst *bool) {
	if v.Kind() == strictjson.Null {
		return
	}
	if b, ok := v.Bool(); ok {
		*dst = b
		return
	}
	r.bad(path, "true or false")
}

func (r *fieldReader) integer(v strictjson.Value, path string, dst *int64) {
	if v.Kind() == strictjson.Null {
		return
	}
	if n, ok := v.Int(); ok {
		*dst = n
		return
	}
	r.bad(path, "an integer")
}

func (r *fieldReader) strings(v strictjson.Value, path string, dst *[]string) {
	if v.Kind() == strictjson.Null {
		return
	}
	if v.Kind() != strictjson.Array {
		r.bad(path, "an array of strings")
		return
	}
	out := make([]string, 0, len(v.Array()))
	for i, e := range v.Array() {
		s, ok := e.Str()
		if !ok {
			r.bad(path+"["+strconv.Itoa(i)+"]", "a string")
			continue
		}
		out = append(out, s)
	}
	*dst = out
}

func (r *fieldReader) object(v strictjson.Value, path string) bool {
	if v.Kind() != strictjson.Object {
		r.bad(path, "an object")
		return false
	}
	return true
}

func (r *fieldReader) unknown(path, name string) {
	r.problems = append(r.problems, path+policy.Quote(name)+": unknown field")
}

// parseConfig reads the JSON of verifier.Config into a policy.Config, refusing
// unknown members and wrong types, then validates it (policy.New). All problems are
// returned together in one *policy.ConfigError.
func parseConfig(data []byte) (*policy.Policy, error) {
	doc, err := strictjson.Parse(data, configLimits)
	if err != nil {
		return nil, &policy.ConfigError{Problems: []string{"not strict JSON: " + err.Error()}}
	}
	var r fieldReader
	var c policy.Config
	if !r.object(doc, "configuration") {
		return nil, &policy.ConfigError{Problems: r.problems}
	}
	var cache int64
	for _, m := range doc.Members() {
		v := m.Value
		switch m.Name {
		case "issuer":
			r.str(v, m.Name, &c.Issuer)
		case "audience":
			r.str(v, m.Name, &c.Audience)
		case "algorithms":
			r.strings(v, m.Name, &c.Algorithms)
		case "leeway_seconds":
			r.integer(v, m.Name, &c.LeewaySeconds)
		case "allow_bearer":
			r.boolean(v, m.Name, &c.AllowBearer)
		case "access_cookie":
			readCookie(&r, v, m.Name, &c.AccessCookie)
		case "refresh_cookie":
			readCookie(&r, v, m.Name, &c.RefreshCookie)
		case "login_path":
			r.str(v, m.Name, &c.LoginPath)
		case "refresh_path":
			r.str(v, m.Name, &c.RefreshPath)
		case "logout_path":
			r.str(v, m.Name, &c.LogoutPath)
		case "after_login_path":
			r.str(v, m.Name, &c.AfterLoginPath)
		case "public_paths":
			r.strings(v, m.Name, &c.PublicPaths)
		case "protected":
			readRoutes(&r, v, m.Name, &c.Protected)
		case "default_protected":
			r.boolean(v, m.Name, &c.DefaultProtected)
		case "cache_entries":
			r.integer(v, m.Name, &cache)
		default:
			r.unknown("", m.Name)
		}
	}
	if cache < 0 || cache > policy.MaxCacheEntries {
		r.problems = append(r.problems, "cache_entries "+strconv.FormatInt(cache, 10)+
			" is outside 0.."+strconv.Itoa(policy.MaxCacheEntries))
		cache = 0
	}
	c.CacheEntries = int(cache)
	p, err := policy.New(c)
	if len(r.problems) > 0 {
		if ce, ok := err.(*policy.ConfigError); ok {
			r.problems = append(r.problems, ce.Problems...)
		}
		return nil, &policy.ConfigError{Problems: r.problems}
	}
	return p, err
}

func readCookie(r *fieldReader, v strictjson.Value, path string, c *policy.Cookie) {
	if v.Kind() == strictjson.Null || !r.object(v, path) {
		return
	}
	for _, m := range v.Members() {
		p := path + "." + m.Name
		switch m.Name {
		case "name":
			r.str(m.Value, p, &c.Name)
		case "path":
			r.str(m.Value, p, &c.Path)
		case "domain":
			r.str(m.Value, p, &c.Domain)
		case "secure":
			r.boolean(m.Value, p, &c.Secure)
		case "http_only":
			r.boolean(m.Value, p, &c.HTTPOnly)
		case "same_site":
			r.str(m.Value, p, &c.SameSite)
		default:
			r.unknown(path+".", m.Name)
		}
	}
}

func readRoutes(r *fieldReader, v strictjson.Value, path string, dst *[]policy.Route) {
	if v.Kind() == strictjson.Null {
		return
	}
	if v.Kind() != strictjson.Array {
		r.bad(path, "an array of {prefix, roles, mfa}")
		return
	}
	for i, e := range v.Array() {
		p := path + "[" + strconv.Itoa(i) + "]"
		if !r.object(e, p) {
			continue
		}
		var route policy.Route
		for _, m := range e.Members() {
			switch m.Name {
			case "prefix":
				r.str(m.Value, p+".prefix", &route.Prefix)
			case "roles":
				r.strings(m.Value, p+".roles", &route.Roles)
			case "mfa":
				r.boolean(m.Value, p+".mfa", &route.MFA)
			default:
				r.unknown(p+".", m.Name)
			}
		}
		*dst = append(*dst, route)
	}
}
