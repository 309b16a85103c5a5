// Package conformance holds the tests that run the verifier twice, natively
// (verifier.NewNative, package gate compiled by Go) and as verifier.wasm in wazero
// (package wasmhost), and require identical answers: Wycheproof signature vectors, the
// attack suite, tokens minted by golang-jwt, decisions, memory flatness, and the ABI
// document's tables. Results and benchmark figures are recorded in
// verifier/CONFORMANCE.md.
package conformance
