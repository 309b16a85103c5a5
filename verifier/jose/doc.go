// Package jose verifies compact JWS and JWT access tokens strictly, without a JWT
// library, so that it compiles with TinyGo for wasm-unknown (no reflection, no
// goroutines, no clock, no randomness) and refuses everything a looser parser might
// read differently from the issuer.
//
// What is accepted is exactly: a compact JWS (three segments of [A-Za-z0-9_-], at
// most MaxTokenBytes for access tokens) in canonical unpadded base64url; a header that
// is a strict JSON object (UTF-8, no duplicate names, bounded depth) with an "alg" in
// the caller's allow-list and implemented here (EdDSA, ES256, RS256), no "crit", no
// key-carrying members (jwk, jku, x5u, x5c, x5t, x5t#S256), no b64/zip, the expected
// "typ", and a "kid" naming a key of that same algorithm in the KeySet; a signature
// that verifies; and, for access tokens, claims of the right JSON types with exact iss,
// aud containing the audience, and exp/nbf/iat within the leeway.
//
// Checks run cheapest first and never read the claims before the signature holds:
// size and characters, base64, header, key lookup, signature, payload JSON, claims.
//
// Every error is an *Error wrapping one sentinel of package abi, so errors.Is and
// abi.StatusOf give the same answer natively and through the wasm module. Error
// messages name the failed check and never contain token or key material.
//
// Keys come only from a JWKS the host loaded (ParseJWKS): one algorithm per key, kids
// unique, symmetric keys refused. See ParseJWKS for the rules and why.
package jose
