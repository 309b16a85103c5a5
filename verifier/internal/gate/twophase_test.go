package gate_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

var (
	rsValid  = vectors.RS256Key().Token(gatetest.Claims(nil))
	rsOther  = vectors.RS256Key().Token(gatetest.Claims(map[string]any{"sub": "user-7"}))
	rsBadSig = vectors.UnpublishedRS256Key().Token(gatetest.Claims(nil)) // same kid, another key
	rsMask   = uint32(1) << abi.AlgRS256
)

// twoPhaseGate is newGate with the cache disabled (every check is cold) and RS256
// signatures left to the host.
func twoPhaseGate(t testing.TB) *gate.Gate {
	t.Helper()
	g := newGate(t, func(c *verifier.Config) { c.CacheEntries = 0 })
	if err := g.SetHostSignatures(rsMask); err != nil {
		t.Fatal(err)
	}
	return g
}

// hostVerdict checks the pending question as a Go host does: 1 when it verifies.
func hostVerdict(t testing.TB, g *gate.Gate) uint32 {
	t.Helper()
	q, ok := abi.ParseSignatureQuestion(g.SignatureQuestion())
	if !ok || q.Alg != abi.AlgRS256 {
		t.Fatalf("question does not parse: %x", g.SignatureQuestion())
	}
	e, n, ok := abi.ParseRSAKey(q.Key)
	if !ok {
		t.Fatal("question's key does not parse")
	}
	d := sha256.Sum256(q.Message)
	if rsa.VerifyPKCS1v15(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(e)}, crypto.SHA256, d[:], q.Sig) == nil {
		return 1
	}
	return 0
}

// verifyTwoPhase runs VerifyToken as a host on the two-phase path does: ask, check,
// answer, call again.
func verifyTwoPhase(t testing.TB, g *gate.Gate, token string) ([]byte, error) {
	t.Helper()
	out, err := g.VerifyToken([]byte(token), gatetest.Now, nil)
	if !errors.Is(err, abi.ErrNeedSignature) {
		return out, err
	}
	if err := g.SignatureVerdict(hostVerdict(t, g)); err != nil {
		t.Fatal(err)
	}
	out, err = g.VerifyToken([]byte(token), gatetest.Now, nil)
	if errors.Is(err, abi.ErrNeedSignature) {
		t.Fatal("asked twice about one token")
	}
	return out, err
}

func TestTwoPhaseQuestionIsWhatTheModuleParsed(t *testing.T) {
	g := twoPhaseGate(t)
	if _, err := g.VerifyToken([]byte(rsValid), gatetest.Now, nil); !errors.Is(err, abi.ErrNeedSignature) {
		t.Fatalf("cold RS256 token: %v, want ErrNeedSignature", err)
	}
	q, ok := abi.ParseSignatureQuestion(g.SignatureQuestion())
	if !ok {
		t.Fatal("question does not parse")
	}
	ks, err := jose.ParseJWKS(gatetest.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ks.Lookup(vectors.KIDRS256, jose.RS256)
	e, n, _ := k.RSAPublic()
	dot := strings.LastIndexByte(rsValid, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(rsValid[dot+1:])
	if q.Alg != abi.AlgRS256 || q.KeyIndex != uint32(k.Index()) || !bytes.Equal(q.Key, abi.AppendRSAKey(nil, e, n)) ||
		string(q.Message) != rsValid[:dot] || !bytes.Equal(q.Sig, sig) {
		t.Errorf("question %+v does not describe the token's signature under key %d", q, k.Index())
	}
}

func TestTwoPhaseVerdictsAreTheModulesOwn(t *testing.T) {
	ref := newGate(t, func(c *verifier.Config) { c.CacheEntries = 0 })
	g := twoPhaseGate(t)
	for name, tok := range map[string]string{
		"valid": rsValid, "other key": rsBadSig, "tampered": tamperSig(rsValid),
		"expired": vectors.RS256Key().Token(gatetest.Claims(map[string]any{"exp": gatetest.Now - 3600})),
		"eddsa":   gatetest.Valid, "malformed": "a.b",
	} {
		want, wantErr := ref.VerifyToken([]byte(tok), gatetest.Now, nil)
		got, err := verifyTwoPhase(t, g, tok)
		if abi.StatusOf(err) != abi.StatusOf(wantErr) || !bytes.Equal(got, want) {
			t.Errorf("%s: two-phase %s %v, module %s %v", name, got, err, want, wantErr)
		}
	}
}

func TestTwoPhaseEdDSANeverAsks(t *testing.T) {
	g := twoPhaseGate(t)
	if _, err := g.VerifyToken([]byte(gatetest.Valid), gatetest.Now, nil); err != nil {
		t.Fatal(err)
	}
	if g.SignatureQuestion() != nil {
		t.Error("a question is pending after an EdDSA token")
	}
}

func TestTwoPhaseVerdictServesOneCallForOneToken(t *testing.T) {
	g := twoPhaseGate(t)
	if _, err := verifyTwoPhase(t, g, rsValid); err != nil {
		t.Fatal(err)
	}
	// Used up: the next cold check asks again.
	if _, err := g.VerifyToken([]byte(rsValid), gatetest.Now, nil); !errors.Is(err, abi.ErrNeedSignature) {
		t.Fatalf("second check: %v, want a new question", err)
	}
	// A verdict for one token is not used for another: the other is asked about...
	if err := g.SignatureVerdict(1); err != nil {
		t.Fatal(err)
	}
	if _, err := g.VerifyToken([]byte(rsBadSig), gatetest.Now, nil); !errors.Is(err, abi.ErrNeedSignature) {
		t.Fatalf("another token after a verdict: %v, want its own question", err)
	}
	// ...and a lying "valid" about a bad signature serves only the call right after it.
	if err := g.SignatureVerdict(1); err != nil {
		t.Fatal(err)
	}
	if _, err := g.VerifyToken([]byte(rsValid), gatetest.Now, nil); !errors.Is(err, abi.ErrNeedSignature) {
		t.Fatalf("a verdict about another token was used: %v", err)
	}
	if _, err := g.VerifyToken([]byte(rsBadSig), gatetest.Now, nil); !errors.Is(err, abi.ErrNeedSignature) {
		t.Fatalf("a verdict survived an intervening call: %v", err)
	}
}

func TestTwoPhaseOtherCallsDiscardTheExchange(t *testing.T) {
	cfg := gatetest.MustJSON(func() verifier.Config { c := gatetest.Config(); c.CacheEntries = 0; return c }())
	for name, call := range map[string]func(g *gate.Gate) error{
		"configure":        func(g *gate.Gate) error { return g.Configure(cfg) },
		"load_keys":        func(g *gate.Gate) error { return g.LoadKeys(gatetest.JWKS()) },
		"load_revocations": func(g *gate.Gate) error { return g.LoadRevocations(gatetest.Revocations(), gatetest.Now) },
		"host_signatures":  func(g *gate.Gate) error { return g.SetHostSignatures(rsMask) },
		"refused configure": func(g *gate.Gate) error {
			if g.Configure([]byte("{")) == nil {
				return errors.New("accepted")
			}
			return nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			g := twoPhaseGate(t)
			if _, err := g.VerifyToken([]byte(rsValid), gatetest.Now, nil); !errors.Is(err, abi.ErrNeedSignature) {
				t.Fatal(err)
			}
			if err := g.SignatureVerdict(1); err != nil {
				t.Fatal(err)
			}
			if err := call(g); err != nil {
				t.Fatal(err)
			}
			if g.SignatureQuestion() != nil {
				t.Error("question still pending")
			}
			if _, err := g.VerifyToken([]byte(rsValid), gatetest.Now, nil); !errors.Is(err, abi.ErrNeedSignature) {
				t.Errorf("verdict survived %s: %v", name, err)
			}
		})
	}
}

func TestTwoPhaseMalformedCallsChangeNothing(t *testing.T) {
	g := twoPhaseGate(t)
	if err := g.SignatureVerdict(1); !errors.Is(err, abi.ErrInvalidRequest) {
		t.Errorf("verdict without a question: %v", err)
	}
	if err := g.SetHostSignatures(1 << abi.AlgEdDSA); !errors.Is(err, abi.ErrInvalidRequest) {
		t.Errorf("EdDSA mask: %v", err)
	}
	if err := g.SetHostSignatures(1 << 31); !errors.Is(err, abi.ErrInvalidRequest) {
		t.Errorf("unknown bit: %v", err)
	}
	// The refused masks left RS256 with the host.
	if _, err := g.VerifyToken([]byte(rsValid), gatetest.Now, nil); !errors.Is(err, abi.ErrNeedSignature) {
		t.Fatalf("after refused masks: %v", err)
	}
	if err := g.SignatureVerdict(2); !errors.Is(err, abi.ErrInvalidRequest) {
		t.Errorf("verdict 2: %v", err)
	}
	if err := g.SignatureVerdict(hostVerdict(t, g)); err != nil {
		t.Fatalf("the question did not survive a refused verdict: %v", err)
	}
	if err := g.SignatureVerdict(1); !errors.Is(err, abi.ErrInvalidRequest) {
		t.Errorf("second verdict on one question: %v", err)
	}
	if _, err := g.VerifyToken([]byte(rsValid), gatetest.Now, nil); err != nil {
		t.Errorf("the first verdict did not survive the refused second: %v", err)
	}
	// Mask 0: the module's own crypto again.
	if err := g.SetHostSignatures(0); err != nil {
		t.Fatal(err)
	}
	if _, err := g.VerifyToken([]byte(rsValid), gatetest.Now, nil); err != nil {
		t.Errorf("mask 0: %v", err)
	}
}

func TestTwoPhaseDecideBothForms(t *testing.T) {
	ref := newGate(t, nil)
	g := newGate(t, nil) // with a cache: the verdict's token is cached, the next request stays inside
	if err := g.SetHostSignatures(rsMask); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{rsValid, rsOther, rsBadSig} {
		req := verifier.Request{Method: "GET", Path: "/admin/x", Cookies: []string{gatetest.AccessName + "=" + tok}}
		in := gatetest.MustJSON(req)
		want, err := ref.Decide(in, gatetest.Now, nil)
		if err != nil {
			t.Fatal(err)
		}
		asks := 0
		for round := range 2 {
			got, err := g.Decide(in, gatetest.Now, nil)
			if errors.Is(err, abi.ErrNeedSignature) {
				asks++
				if err := g.SignatureVerdict(hostVerdict(t, g)); err != nil {
					t.Fatal(err)
				}
				got, err = g.Decide(in, gatetest.Now, nil)
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("round %d: %s %v, want %s", round, got, err, want)
			}
		}
		if tok != rsBadSig && asks != 1 { // a valid token is asked about once, then cached
			t.Errorf("asked %d times about a valid token", asks)
		}
		compact := abi.AppendCompactRequest(nil, req.Method, req.Path, "", "", req.Cookies)
		wantC, _ := ref.DecideCompact(compact, gatetest.Now, nil)
		gotC, err := g.DecideCompact(compact, gatetest.Now, nil)
		if errors.Is(err, abi.ErrNeedSignature) {
			if err := g.SignatureVerdict(hostVerdict(t, g)); err != nil {
				t.Fatal(err)
			}
			gotC, err = g.DecideCompact(compact, gatetest.Now, nil)
		}
		// Identity keys are cache serials, which differ between the two gates.
		if err != nil || len(gotC) != len(wantC) || !bytes.Equal(gotC[:8], wantC[:8]) || !bytes.Equal(gotC[12:], wantC[12:]) {
			t.Errorf("compact: %x %v, want %x", gotC, err, wantC)
		}
	}
}

func TestTwoPhaseRawSignature(t *testing.T) {
	g := twoPhaseGate(t)
	k := vectors.RS256Key()
	jwk := gatetest.MustJSON(k.PublicJWK())
	msg := []byte("any message")
	good := abi.EncodeSignatureCheck(jwk, msg, k.SignatureOver(msg))
	bad := abi.EncodeSignatureCheck(jwk, []byte("another message"), k.SignatureOver(msg))
	for name, in := range map[string][]byte{"good": good, "bad": bad} {
		want := gate.VerifySignature(in)
		err := g.VerifySignature(in)
		if !errors.Is(err, abi.ErrNeedSignature) {
			t.Fatalf("%s: %v, want a question", name, err)
		}
		if q, _ := abi.ParseSignatureQuestion(g.SignatureQuestion()); q.KeyIndex != abi.NoKeyIndex {
			t.Errorf("%s: key index %d for a key outside the set", name, q.KeyIndex)
		}
		if err := g.SignatureVerdict(hostVerdict(t, g)); err != nil {
			t.Fatal(err)
		}
		if err := g.VerifySignature(in); abi.StatusOf(err) != abi.StatusOf(want) {
			t.Errorf("%s: %v, module %v", name, err, want)
		}
	}
	// A signature of the wrong length never reaches the host.
	short := abi.EncodeSignatureCheck(jwk, msg, k.SignatureOver(msg)[1:])
	if err := g.VerifySignature(short); !errors.Is(err, abi.ErrSignatureInvalid) {
		t.Errorf("short signature: %v", err)
	}
}

// tamperSig changes one character in the middle of a token's signature.
func tamperSig(tok string) string {
	b := []byte(tok)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// FuzzTwoPhaseExchange plays random sequences of calls against a gate on the two-phase
// path, with a host that always answers "valid", lying about a badly signed token.
// Whatever the sequence, a lie is believed only by the one call right after it and
// only for the token asked about; the gate never panics.
func FuzzTwoPhaseExchange(f *testing.F) {
	f.Add([]byte{0, 5, 0, 1, 5, 1, 6, 2, 5, 2, 3, 1})
	f.Add([]byte{1, 5, 1, 7, 5, 1, 4, 5, 1})
	g := twoPhaseGate(f)
	tokens := []string{rsValid, rsBadSig, gatetest.Valid, "x.y.z"}
	f.Fuzz(func(t *testing.T, ops []byte) {
		// 64 operations reach every state of the exchange many times over; longer inputs
		// only make each execution dear (LoadKeys precomputes every key's tables), and
		// CI runs a fixed number of executions.
		ops = ops[:min(len(ops), 64)]
		g.SetHostSignatures(rsMask) // reset the exchange between inputs
		var asked string            // token of the pending question
		answered := ""              // token a "valid" was given for, by the previous call
		for _, op := range ops {
			lie := answered
			answered = ""
			switch op % 8 {
			case 0, 1, 2, 3:
				tok := tokens[op%4]
				_, err := g.VerifyToken([]byte(tok), gatetest.Now, nil)
				asked = ""
				switch {
				case errors.Is(err, abi.ErrNeedSignature):
					asked = tok
				case err == nil && tok == rsBadSig && lie != rsBadSig:
					t.Fatalf("badly signed token accepted without a verdict about it just before (ops %v)", ops)
				}
			case 4:
				if err := g.LoadKeys(gatetest.JWKS()); err != nil {
					t.Fatal(err)
				}
				asked = ""
			case 5:
				err := g.SignatureVerdict(1)
				if (err == nil) != (asked != "") {
					t.Fatalf("verdict with question %q: %v", asked, err)
				}
				if err == nil {
					answered, asked = asked, ""
				} else {
					answered = lie // a refused call changes nothing
				}
			case 6:
				if err := g.SignatureVerdict(uint32(op)); !errors.Is(err, abi.ErrInvalidRequest) {
					t.Fatalf("verdict %d: %v", op, err)
				}
				answered = lie // a refused call changes nothing
			case 7:
				if (g.SignatureQuestion() != nil) != (asked != "") {
					t.Fatalf("question pending: %v, want %v", g.SignatureQuestion() != nil, asked != "")
				}
				answered = lie
			}
		}
	})
}
