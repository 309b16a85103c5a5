package jose

import "github.com/edgeauth/edgeauth/verifier/abi"

// Error is a jose failure: an abi sentinel (so errors.Is and abi.StatusOf work on every
// host) plus a short reason that says which check failed. The common errors are
// preallocated so a refused token costs no allocation.
type Error = abi.Error

var wrap = abi.Wrap

// Token structure.
var (
	errTokenTooLarge  = wrap(abi.ErrTooLarge, "token longer than the size limit")
	errTokenCharset   = wrap(abi.ErrMalformed, "token contains a character outside [A-Za-z0-9_.-]")
	errTokenParts     = wrap(abi.ErrMalformed, "token is not three dot-separated segments (compact JWS)")
	errEmptySegment   = wrap(abi.ErrMalformed, "token has an empty segment")
	errHeaderBase64   = wrap(abi.ErrMalformed, "header is not canonical unpadded base64url")
	errPayloadBase64  = wrap(abi.ErrMalformed, "payload is not canonical unpadded base64url")
	errSigBase64      = wrap(abi.ErrMalformed, "signature is not canonical unpadded base64url")
	errHeaderJSON     = wrap(abi.ErrMalformed, "header is not a strict JSON object")
	errHeaderTooDeep  = wrap(abi.ErrTooLarge, "header JSON too large or too deeply nested")
	errPayloadJSON    = wrap(abi.ErrMalformed, "payload is not a strict JSON object")
	errPayloadTooDeep = wrap(abi.ErrTooLarge, "payload JSON too large or too deeply nested")
)

// Header.
var (
	errAlgMissing     = wrap(abi.ErrMalformed, "header alg missing or not a string")
	errAlgNotAllowed  = wrap(abi.ErrAlgorithmNotAllowed, "header alg not in the allow-list")
	errCrit           = wrap(abi.ErrUnsupportedHeader, "header crit present (no extension is understood)")
	errKeyInHeader    = wrap(abi.ErrUnsupportedHeader, "header carries a key or key reference (jwk, jku, x5u, x5c, x5t)")
	errOtherEncoding  = wrap(abi.ErrUnsupportedHeader, "header b64 or zip present (payload encoding changes are not supported)")
	errTypMissing     = wrap(abi.ErrInvalidType, "header typ missing or not a string")
	errTypWrong       = wrap(abi.ErrInvalidType, "header typ not the expected type")
	errKidNotString   = wrap(abi.ErrMalformed, "header kid not a string")
	errKidMissing     = wrap(abi.ErrUnknownKey, "header kid missing")
	errKidUnknown     = wrap(abi.ErrUnknownKey, "no key with that kid for that alg")
	errNoKeySet       = wrap(abi.ErrUnknownKey, "no key set loaded")
	errSignature      = wrap(abi.ErrSignatureInvalid, "signature does not verify")
	errSignatureSize  = wrap(abi.ErrSignatureInvalid, "signature has the wrong length for the algorithm")
	errAlgUnsupported = wrap(abi.ErrAlgorithmNotAllowed, "algorithm not implemented")
)

// Claims.
var (
	errClaimExp       = wrap(abi.ErrInvalidClaims, "exp missing or not an integer NumericDate")
	errClaimNbf       = wrap(abi.ErrInvalidClaims, "nbf not an integer NumericDate")
	errClaimIat       = wrap(abi.ErrInvalidClaims, "iat not an integer NumericDate")
	errClaimIss       = wrap(abi.ErrInvalidClaims, "iss missing or not a string")
	errClaimAud       = wrap(abi.ErrInvalidClaims, "aud missing, or not a string or a non-empty array of strings")
	errClaimSub       = wrap(abi.ErrInvalidClaims, "sub missing, empty or not a string")
	errClaimSid       = wrap(abi.ErrInvalidClaims, "sid missing, empty or not a string")
	errClaimRoles     = wrap(abi.ErrInvalidClaims, "roles not an array of strings")
	errClaimAmr       = wrap(abi.ErrInvalidClaims, "amr not an array of strings")
	errClaimJti       = wrap(abi.ErrInvalidClaims, "jti not a string")
	errClaimSessExp   = wrap(abi.ErrInvalidClaims, "sess_exp not an integer NumericDate")
	errIssuer         = wrap(abi.ErrInvalidIssuer, "iss is not the configured issuer")
	errAudience       = wrap(abi.ErrInvalidAudience, "aud does not contain the configured audience")
	errExpired        = wrap(abi.ErrExpired, "exp is past (after leeway)")
	errSessionExpired = wrap(abi.ErrExpired, "sess_exp is past (after leeway): the session has ended")
	errNotYet         = wrap(abi.ErrNotValidYet, "nbf is in the future (after leeway)")
	errIssuedInFuture = wrap(abi.ErrIssuedInFuture, "iat is in the future (after leeway)")
	errConfig         = wrap(abi.ErrInvalidConfig, "validator needs Issuer, Audience, Algorithms and a Leeway of 0..300")
)

// Keys.
var (
	errKeySetJSON      = wrap(abi.ErrInvalidKeySet, "JWKS is not a strict JSON object with a keys array of objects")
	errKeySetTooLarge  = wrap(abi.ErrInvalidKeySet, "JWKS too large or has too many keys")
	errKeySetSymmetric = wrap(abi.ErrInvalidKeySet, "JWKS contains a symmetric (oct) key")
	errKeySetDupKid    = wrap(abi.ErrInvalidKeySet, "JWKS contains two keys with the same kid")
	errKeySetEmpty     = wrap(abi.ErrInvalidKeySet, "JWKS has no usable key")
	errKeyJSON         = wrap(abi.ErrInvalidKeySet, "JWK is not a strict JSON object")
	errKeyPrivate      = wrap(abi.ErrInvalidKeySet, "JWK contains private key members")
	errKeyKty          = wrap(abi.ErrInvalidKeySet, "JWK kty missing or unsupported")
	errKeyAlg          = wrap(abi.ErrInvalidKeySet, "JWK alg missing or does not fit its kty and crv")
	errKeyUse          = wrap(abi.ErrInvalidKeySet, "JWK use is not sig, or key_ops lacks verify")
	errKeyKid          = wrap(abi.ErrInvalidKeySet, "JWK kid not a string")
	errKeyMaterial     = wrap(abi.ErrInvalidKeySet, "JWK public key material invalid")
	errKeyRSASize      = wrap(abi.ErrInvalidKeySet, "RSA modulus outside 2048..8192 bits")
	errKeyRSAWeak      = wrap(abi.ErrInvalidKeySet, "RSA modulus has the ROCA fingerprint (CVE-2017-15361)")
	errKeyRSAExponent  = wrap(abi.ErrInvalidKeySet, "RSA public exponent not odd in 3..2^31-1")
)
