package abi

// The two-phase path (verifier/ABI.md, "Two-phase verification: host signatures"): a
// host with faster native crypto declares, with host_signatures, the algorithms whose
// signature arithmetic it performs itself. Every other check stays in the module. When
// a token check reaches a signature of such an algorithm and no verdict is at hand, the
// export answers StatusNeedSignature with a signature question as its output:
//
//	0  u8  algorithm code (AlgRS256)
//	1  3 bytes zero
//	4  u32 key index: the key's position among the loaded key set's usable keys, stable
//	       until the next load_keys (NoKeyIndex for verify_signature's own JWK)
//	8  u32 len(key)
//	12 u32 len(message)
//	16 u32 len(signature)
//	20 key | message | signature
//
// The key is the public material the module parsed and accepted; for RS256 it is
// u32 LE exponent | modulus (big-endian, no leading zero). The host checks exactly that
// signature over exactly that message under exactly that key, answers with
// signature_verdict, and calls the same export with the same input again; the module
// then uses the verdict for that one check and finishes.

// Exports of the two-phase path.
const (
	ExportHostSignatures   = "host_signatures"   // (mask i32) -> i64
	ExportSignatureVerdict = "signature_verdict" // (valid i32) -> i64
)

// TwoPhaseExports lists the two-phase exports with their parameter and result counts.
// A host checks them only when it uses the path.
var TwoPhaseExports = []struct {
	Name            string
	Params, Results int
}{
	{ExportHostSignatures, 1, 1},
	{ExportSignatureVerdict, 1, 1},
}

// Algorithm codes of a signature question; bit 1<<code of host_signatures' mask
// declares that the host checks that algorithm.
const (
	AlgEdDSA uint8 = iota
	AlgES256
	AlgRS256
)

// HostSignaturesSupported is the mask of algorithms this module hands to a host: RS256
// only (in-module EdDSA and ES256 take 1.2-1.4x the time of native Go; verifier/ABI.md).
// host_signatures refuses any other bit with StatusInvalidRequest.
const HostSignaturesSupported uint32 = 1 << AlgRS256

// NoKeyIndex is the key index of a question about a key that is not in the loaded set
// (verify_signature's JWK): the host must not cache it by index.
const NoKeyIndex = ^uint32(0)

// SignatureQuestionSize is the size of the fixed part of a signature question.
const SignatureQuestionSize = 20

// SignatureQuestion is a decoded signature question. Its slices alias the output.
type SignatureQuestion struct {
	Alg               uint8
	KeyIndex          uint32
	Key, Message, Sig []byte
}

// AppendSignatureQuestion appends a signature question to dst.
func AppendSignatureQuestion(dst []byte, alg uint8, keyIndex uint32, key, msg, sig []byte) []byte {
	dst = append(dst, alg, 0, 0, 0)
	dst = appendU32(dst, keyIndex)
	dst = appendU32(dst, uint32(len(key)))
	dst = appendU32(dst, uint32(len(msg)))
	dst = appendU32(dst, uint32(len(sig)))
	dst = append(dst, key...)
	dst = append(dst, msg...)
	return append(dst, sig...)
}

// ParseSignatureQuestion decodes a signature question; ok is false when it is too
// short, its padding is not zero or its lengths do not add up to exactly its size.
func ParseSignatureQuestion(b []byte) (q SignatureQuestion, ok bool) {
	if len(b) < SignatureQuestionSize || b[1] != 0 || b[2] != 0 || b[3] != 0 {
		return q, false
	}
	q.Alg, q.KeyIndex = b[0], le32(b[4:])
	nk, nm, ns := uint64(le32(b[8:])), uint64(le32(b[12:])), uint64(le32(b[16:]))
	rest := b[SignatureQuestionSize:]
	if nk+nm+ns != uint64(len(rest)) {
		return q, false
	}
	q.Key, rest = rest[:nk], rest[nk:]
	q.Message, q.Sig = rest[:nm], rest[nm:]
	return q, true
}

// AppendRSAQuestion appends an RS256 signature question to dst, its key given as
// exponent and modulus (the same bytes as AppendSignatureQuestion with AppendRSAKey).
func AppendRSAQuestion(dst []byte, keyIndex, e uint32, n, msg, sig []byte) []byte {
	dst = append(dst, AlgRS256, 0, 0, 0)
	dst = appendU32(dst, keyIndex)
	dst = appendU32(dst, uint32(4+len(n)))
	dst = appendU32(dst, uint32(len(msg)))
	dst = appendU32(dst, uint32(len(sig)))
	dst = appendU32(dst, e)
	dst = append(dst, n...)
	dst = append(dst, msg...)
	return append(dst, sig...)
}

// AppendRSAKey appends an RS256 question's key: u32 LE exponent, then the modulus.
func AppendRSAKey(dst []byte, e uint32, n []byte) []byte {
	return append(appendU32(dst, e), n...)
}

// ParseRSAKey splits an RS256 question's key; ok is false when it is shorter than the
// exponent or the modulus is empty.
func ParseRSAKey(key []byte) (e uint32, n []byte, ok bool) {
	e, n, ok = readU32(key)
	return e, n, ok && len(n) > 0
}
