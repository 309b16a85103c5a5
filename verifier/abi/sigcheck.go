package abi

// The verify_signature export checks one raw signature, for conformance vectors that
// are not JWS (Wycheproof signature files). Its input is
//
//	u32 LE len(jwk) | jwk (one JWK, JSON, with "alg") | u32 LE len(msg) | msg | sig
//
// and its result is StatusOK or the status of the error, with no output.

// EncodeSignatureCheck builds a verify_signature input.
func EncodeSignatureCheck(jwk, msg, sig []byte) []byte {
	out := make([]byte, 0, 8+len(jwk)+len(msg)+len(sig))
	out = appendU32(out, uint32(len(jwk)))
	out = append(out, jwk...)
	out = appendU32(out, uint32(len(msg)))
	out = append(out, msg...)
	return append(out, sig...)
}

// DecodeSignatureCheck splits a verify_signature input; ok is false when the lengths
// do not fit.
func DecodeSignatureCheck(in []byte) (jwk, msg, sig []byte, ok bool) {
	n, in, ok := readU32(in)
	if !ok || uint64(n) > uint64(len(in)) {
		return nil, nil, nil, false
	}
	jwk, in = in[:n], in[n:]
	n, in, ok = readU32(in)
	if !ok || uint64(n) > uint64(len(in)) {
		return nil, nil, nil, false
	}
	return jwk, in[:n], in[n:], true
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func readU32(b []byte) (uint32, []byte, bool) {
	if len(b) < 4 {
		return 0, b, false
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, b[4:], true
}
