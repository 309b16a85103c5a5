package wasmhost

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"math/big"

	"github.com/tetratelabs/wazero/api"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// The host's half of the two-phase path (verifier/ABI.md, "Two-phase verification"):
// the module asks about one signature (abi.SignatureQuestion), the host checks it with
// the Go standard library and answers with signature_verdict. The host chooses no key
// and reads nothing else: it checks exactly the signature, message and key the module
// hands it, and the module decides.

// errUnanswered is a signature question the host does not answer: one it was not
// told to expect (no host_signatures), or a second one for the same call. Either is a
// bug, never a decision.
var errUnanswered = fmt.Errorf("%w: the module asked about a signature the host does not answer (%w)",
	abi.ErrInternal, abi.ErrNeedSignature)

// rsaKey is a parsed RS256 key of a question, kept under its key index with the
// material it was parsed from.
type rsaKey struct {
	material []byte
	pub      *rsa.PublicKey
}

// answer checks the signature of a question (the output of the call that asked it)
// and gives the module the verdict. A question that does not match the ABI, or a
// refused verdict, is abi.ErrInternal.
func (in *instance) answer(ctx context.Context, out []byte) error {
	q, ok := abi.ParseSignatureQuestion(out)
	if !ok || q.Alg != abi.AlgRS256 || in.hostMask&(1<<q.Alg) == 0 {
		return fmt.Errorf("%w: signature question does not match the ABI", abi.ErrInternal)
	}
	pub, err := in.rsaKey(q.KeyIndex, q.Key)
	if err != nil {
		return err
	}
	in.hostChecks.Add(1)
	digest := sha256.Sum256(q.Message)
	// The module checked the signature's length and the key (jose.ParseJWKS); the
	// verdict is crypto/rsa's, as the module's own arithmetic would give it.
	valid := uint32(0)
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], q.Sig) == nil {
		valid = 1
	}
	in.stack[0] = api.EncodeU32(valid)
	if err := in.verdict.CallWithStack(ctx, in.stack[:]); err != nil {
		return callError(ctx, err)
	}
	if st := status(in.stack[0]); st != abi.StatusOK {
		return fmt.Errorf("%w: signature_verdict answered %v", abi.ErrInternal, st)
	}
	return nil
}

// rsaKey returns the public key of a question: the one kept under its index when the
// material is the same, else parsed (and kept, for a key of the loaded set). An
// instance lives within one key set (a new one replaces it), and the material is
// compared anyway, so a kept key never stands for another.
func (in *instance) rsaKey(idx uint32, material []byte) (*rsa.PublicKey, error) {
	if idx < uint32(len(in.rsaKeys)) && in.rsaKeys[idx].pub != nil && bytes.Equal(in.rsaKeys[idx].material, material) {
		return in.rsaKeys[idx].pub, nil
	}
	e, n, ok := abi.ParseRSAKey(material)
	if !ok {
		return nil, fmt.Errorf("%w: signature question's RSA key does not match the ABI", abi.ErrInternal)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(e)}
	if idx < jose.MaxKeys {
		for uint32(len(in.rsaKeys)) <= idx {
			in.rsaKeys = append(in.rsaKeys, rsaKey{})
		}
		in.rsaKeys[idx] = rsaKey{material: bytes.Clone(material), pub: pub}
	}
	return pub, nil
}
