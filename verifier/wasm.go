package verifier

import _ "embed"

// Module is verifier.wasm, the gate compiled by TinyGo (built by `make wasm`, checked
// against a fresh build by `make wasm-check`). wasmhost.NewEmbedded runs it; JS hosts
// load the file itself.
//
//go:embed verifier.wasm
var Module []byte
