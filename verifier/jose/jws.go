package jose

import (
	"errors"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
)

// Size and depth limits, checked before anything is decoded or parsed.
const (
	// MaxTokenBytes bounds an access token. Ours are a few hundred bytes; 8 KiB is far
	// above any legitimate token and far below anything that costs real work.
	MaxTokenBytes = 8 << 10
	// MaxJWSBytes bounds other compact JWS (the revocation list, which grows with the
	// number of recently revoked sessions): the module's whole buffer.
	MaxJWSBytes = abi.BufferCap
	// MaxJSONDepth bounds the nesting of header and payload JSON.
	MaxJSONDepth = 8
)

// Token types checked against the typ header.
const (
	AccessTokenType    = "at+jwt"                   // RFC 9068
	RevocationListType = "edgeauth-revocations+jwt" // see verifier/ABI.md
)

// compact is a structurally valid compact JWS with its three segments decoded.
type compact struct {
	signingInput []byte // ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
	header       []byte
	payload      []byte
	sig          []byte
}

// splitCompact does the cheap structural checks, in order: size, character set and
// exactly two dots (so JSON serializations, JWE's five segments, whitespace, padding,
// '+' and '/' are refused before any decoding), non-empty header and signature, and
// canonical base64url for every segment. The payload may be empty (RFC 7515 allows
// it; a JWT payload then fails as JSON).
func splitCompact(token []byte, max int) (compact, error) {
	if len(token) > max {
		return compact{}, errTokenTooLarge
	}
	dot1, dot2 := -1, -1
	for i, c := range token {
		switch {
		case b64Value[c] != 0xFF: // the base64url alphabet (a table: one load per byte)
		case c == '.':
			switch {
			case dot1 < 0:
				dot1 = i
			case dot2 < 0:
				dot2 = i
			default:
				return compact{}, errTokenParts
			}
		default:
			return compact{}, errTokenCharset
		}
	}
	if dot2 < 0 {
		return compact{}, errTokenParts
	}
	h, p, s := token[:dot1], token[dot1+1:dot2], token[dot2+1:]
	if len(h) == 0 || len(s) == 0 {
		return compact{}, errEmptySegment
	}
	hn, pn, sn := decodedLen(len(h)), decodedLen(len(p)), decodedLen(len(s))
	switch {
	case hn < 0:
		return compact{}, errHeaderBase64
	case pn < 0:
		return compact{}, errPayloadBase64
	case sn < 0:
		return compact{}, errSigBase64
	}
	buf := make([]byte, 0, hn+pn+sn) // one allocation for all three segments
	buf, ok := appendB64(buf, h)
	if !ok {
		return compact{}, errHeaderBase64
	}
	buf, ok = appendB64(buf, p)
	if !ok {
		return compact{}, errPayloadBase64
	}
	buf, ok = appendB64(buf, s)
	if !ok {
		return compact{}, errSigBase64
	}
	return compact{
		signingInput: token[:dot2],
		header:       buf[:hn:hn],
		payload:      buf[hn : hn+pn : hn+pn],
		sig:          buf[hn+pn:],
	}, nil
}

// prepareCompact runs every check before the signature, in the order
// cheap-to-expensive and never trusting what is not yet verified: structure, header
// JSON and header rules (checkHeader, which finds the key). It returns the decoded
// token and the key its signature must verify under.
func prepareCompact(token []byte, max int, ks *KeySet, algs []Algorithm, typ string) (compact, *Key, error) {
	c, err := splitCompact(token, max)
	if err != nil {
		return compact{}, nil, err
	}
	h, err := strictjson.Parse(c.header, strictjson.Limits{MaxBytes: len(c.header) + 1, MaxDepth: MaxJSONDepth})
	if err != nil {
		if isLimit(err) {
			return compact{}, nil, errHeaderTooDeep
		}
		return compact{}, nil, errHeaderJSON
	}
	if h.Kind() != strictjson.Object {
		return compact{}, nil, errHeaderJSON
	}
	key, err := checkHeader(h, ks, algs, typ)
	if err != nil {
		return compact{}, nil, err
	}
	return c, key, nil
}

// verifyCompact runs every check up to and including the signature: prepareCompact,
// then the signature. The payload is returned unparsed, with the key that verified it.
func verifyCompact(token []byte, max int, ks *KeySet, algs []Algorithm, typ string) ([]byte, *Key, error) {
	c, key, err := prepareCompact(token, max, ks, algs, typ)
	if err != nil {
		return nil, nil, err
	}
	if err := key.VerifySignature(c.signingInput, c.sig); err != nil {
		return nil, nil, err
	}
	return c.payload, key, nil
}

func isLimit(err error) bool {
	return errors.Is(err, strictjson.ErrTooDeep) || errors.Is(err, strictjson.ErrTooLarge)
}

// VerifyCompact checks a compact JWS of at most MaxJWSBytes: structure, header (see
// checkHeader: alg in algs, no crit, no key-carrying members, typ when typ is not
// empty, kid naming a key of that alg in ks) and signature. It returns the payload
// bytes, which it does not interpret. Most callers want VerifyJWS or Validator.Verify.
func VerifyCompact(token []byte, ks *KeySet, algs []Algorithm, typ string) (payload []byte, err error) {
	payload, _, err = verifyCompact(token, MaxJWSBytes, ks, algs, typ)
	return payload, err
}

// VerifyJWS is VerifyCompact followed by strict parsing of the payload, which must be
// a JSON object (duplicate names refused, depth at most MaxJSONDepth). It is the
// generic path used for the revocation list (typ RevocationListType); the caller checks
// the payload's members. A typ of "" skips the typ check: pass the type you expect.
func VerifyJWS(token []byte, ks *KeySet, algs []Algorithm, typ string) (payload strictjson.Value, err error) {
	raw, _, err := verifyCompact(token, MaxJWSBytes, ks, algs, typ)
	if err != nil {
		return strictjson.Value{}, err
	}
	return parsePayload(raw)
}

func parsePayload(raw []byte) (strictjson.Value, error) {
	v, err := strictjson.Parse(raw, strictjson.Limits{MaxBytes: len(raw) + 1, MaxDepth: MaxJSONDepth})
	if err != nil {
		if isLimit(err) {
			return strictjson.Value{}, errPayloadTooDeep
		}
		return strictjson.Value{}, errPayloadJSON
	}
	if v.Kind() != strictjson.Object {
		return strictjson.Value{}, errPayloadJSON
	}
	return v, nil
}
