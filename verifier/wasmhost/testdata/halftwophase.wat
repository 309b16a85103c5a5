;; fake.wat with host_signatures but not signature_verdict: half of the two-phase
;; exports, refused by the host (wasmhost/host_test.go).
(module
  
  (memory (export "memory") 5)
  (func (export "_initialize"))
  (func (export "abi_version") (result i32) i32.const 1)
  (func (export "buf_ptr") (result i32) i32.const 65536)
  (func (export "buf_cap") (result i32) i32.const 262144)
  (func (export "configure") (param i32) (result i64) i64.const 0)
  (func (export "load_keys") (param i32) (result i64) i64.const 0)
  (func (export "load_revocations") (param i32 i64) (result i64) i64.const 0)
  (func (export "decide") (param i32 i64) (result i64) unreachable)
  (func (export "verify_token") (param i32 i64) (result i64) i64.const 0x700000000)
  (func (export "verify_signature") (param i32) (result i64) i64.const 0x600000000)
  (func (export "decide_compact") (param i32 i64) (result i64) unreachable)
  (func (export "identity") (result i64) i64.const 0)
  (func (export "heap_allocs") (result i64) i64.const 0)
  (func (export "host_signatures") (param i32) (result i64) i64.const 0))
