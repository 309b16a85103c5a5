package wasmhost

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
)

// fillAll sets every field of v (recursively: structs, pointers, two-element slices) to
// a distinct non-zero value, so a field added to a type is filled without this test
// knowing its name.
func fillAll(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + string(rune('a'+*n%26)) + string(rune('0'+*n%10)))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n) * 1001)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fillAll(v.Index(0), n)
		fillAll(v.Index(1), n)
	case reflect.Struct:
		for i := range v.NumField() {
			fillAll(v.Field(i), n)
		}
	default:
		panic("fillAll: no rule for " + v.Type().String())
	}
}

// Every field of Decision and Claims, including fields added later, crosses the host's
// reflection-free decoders exactly as encoding/json carries it. (The gate's writer is
// held to every Decision field by gate's TestWriterWritesEveryDecisionField.)
func TestDecodersCarryEveryField(t *testing.T) {
	n := 0
	var d verifier.Decision
	fillAll(reflect.ValueOf(&d).Elem(), &n)
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var viaJSON verifier.Decision
	if err := json.Unmarshal(raw, &viaJSON); err != nil || !reflect.DeepEqual(viaJSON, d) {
		t.Fatalf("encoding/json round trip: %+v %v", viaJSON, err)
	}
	got, err := decodeDecision(raw)
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("decodeDecision(%s)\n got  %+v (identity %+v) %v\n want %+v (identity %+v)", raw, got, got.Identity, err, d, d.Identity)
	}

	var c verifier.Claims
	fillAll(reflect.ValueOf(&c).Elem(), &n)
	if raw, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	gotC, err := decodeClaims(raw)
	if err != nil || !reflect.DeepEqual(gotC, c) {
		t.Fatalf("decodeClaims(%s)\n got  %+v %v\n want %+v", raw, gotC, err, c)
	}
}
