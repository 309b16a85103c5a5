package gate_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/gate"
)

// A field is declared once, in package verifier; these tests fail when one is added
// there without support in the gate's reader or writer. (The hosts' decoders are held
// to every Decision and Claims field by wasmhost's TestDecodersCarryEveryField.)

// fullConfig sets every field of verifier.Config to a valid, non-default value.
func fullConfig() verifier.Config {
	return verifier.Config{
		EdgeConfig: verifier.EdgeConfig{
			Issuer: "https://auth.example.test", Audience: "https://app.example.test",
			Algorithms: []string{"EdDSA", "ES256"}, LeewaySeconds: 45,
			AccessCookie:  verifier.Cookie{Name: "__Secure-at", Path: "/", Domain: "example.test", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			RefreshCookie: verifier.Cookie{Name: "__Secure-rt", Path: "/auth", Domain: "example.test", Secure: true, HTTPOnly: true, SameSite: "Strict"},
			LoginPath:     "/login", RefreshPath: "/auth/refresh", LogoutPath: "/auth/logout",
		},
		LocalConfig: verifier.LocalConfig{
			AllowBearer: true, AfterLoginPath: "/home",
			PublicPaths:      []string{"/login", "/auth/", "/assets/"},
			Protected:        []verifier.ProtectedRoute{{Prefix: "/admin/", Roles: []string{"admin", "ops"}, MFA: true}},
			DefaultProtected: true, CacheEntries: 77,
		},
	}
}

// zeroFields lists the fields of v (recursively) that hold their zero value.
func zeroFields(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Struct:
		var z []string
		for i := range v.NumField() {
			z = append(z, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return z
	case reflect.Slice:
		if v.Len() == 0 {
			return []string{path}
		}
		var z []string
		for i := range v.Len() {
			z = append(z, zeroFields(v.Index(i), path+"[]")...)
		}
		return z
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		return zeroFields(v.Elem(), path)
	}
	if v.IsZero() {
		return []string{path}
	}
	return nil
}

// sameByName compares a verifier type with the policy type the gate reads it into:
// every field of want (embedded structs flattened) must exist in got under the same Go
// name and hold the same value.
func sameByName(t *testing.T, want, got reflect.Value, path string) {
	t.Helper()
	switch want.Kind() {
	case reflect.Struct:
		for i := range want.NumField() {
			f := want.Type().Field(i)
			if f.Anonymous {
				sameByName(t, want.Field(i), got, path)
				continue
			}
			g := got.FieldByName(f.Name)
			if !g.IsValid() {
				t.Errorf("%s.%s: the gate's configuration (policy.Config) has no such field", path, f.Name)
				continue
			}
			sameByName(t, want.Field(i), g, path+"."+f.Name)
		}
	case reflect.Slice:
		if want.Len() != got.Len() {
			t.Errorf("%s: %d elements read, %d written", path, got.Len(), want.Len())
			return
		}
		for i := range want.Len() {
			sameByName(t, want.Index(i), got.Index(i), path+"[]")
		}
	default:
		if want.Interface() != got.Convert(want.Type()).Interface() {
			t.Errorf("%s: read %v, written %v", path, got, want)
		}
	}
}

// Every configuration field: written by encoding/json (what the Go hosts send), read by
// the gate's strict reader (what the module and the native engine run), and back
// through encoding/json.
func TestEveryConfigFieldRoundTrips(t *testing.T) {
	cfg := fullConfig()
	if z := zeroFields(reflect.ValueOf(cfg), "Config"); len(z) > 0 {
		t.Fatalf("fullConfig leaves %v unset: give every new field a non-default value", z)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	read, err := gate.ReadConfig(raw)
	if err != nil {
		t.Fatalf("the gate refuses a configuration with every field: %v", err)
	}
	sameByName(t, reflect.ValueOf(cfg), reflect.ValueOf(read), "Config")
	var back verifier.Config
	if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, cfg) {
		t.Fatalf("encoding/json round trip: %+v %v", back, err)
	}
}

// The gate's reflection-free writer puts out every Decision field: a decision with
// everything set, read back by encoding/json, has no zero field.
func TestWriterWritesEveryDecisionField(t *testing.T) {
	g := gate.New()
	raw, _ := json.Marshal(fullConfig())
	if err := g.Configure(raw); err != nil {
		t.Fatal(err)
	}
	out := g.WriteFullDecision()
	var d verifier.Decision
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if z := zeroFields(reflect.ValueOf(d), "Decision"); len(z) > 0 {
		t.Fatalf("the writer leaves %v out of %s", z, out)
	}
}
