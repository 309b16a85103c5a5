# The one place verifier.wasm is built. Included by the Makefile; CI runs the same
# targets. Flags and why: RATIONALE.md ("TinyGo target and GC").

WASM        := verifier/verifier.wasm
WASM_PKG    := ./verifier/guest
TINYGO_ROOT  = $(shell bash .ci/install-tinygo | tail -n 1)
# Initial linear memory (bytes): room for _initialize, configure and load_keys without
# a collection (~0.25 ms each), and for a young instance's cold verifications (512 KiB
# starts sooner but verifies slower: RATIONALE.md, "Instance ready").
WASM_INITIAL_MEMORY := 1048576
TINYGO_FLAGS := -target=wasm-unknown -gc=precise -opt=2 -no-debug -scheduler=none -panic=trap \
	-ldflags='-extldflags "--initial-memory=$(WASM_INITIAL_MEMORY)"'
# The ABI's exports (verifier/ABI.md). TinyGo's runtime and os packages carry
# `//export` stubs (fminimum, fmaximum, their f variants, syscall.seek) that wasm-ld
# exports too; wasm-metadce keeps only these roots and drops the stubs and whatever
# only they reach. A conformance test checks the module exports exactly this list.
WASM_EXPORTS := memory _initialize abi_version buf_ptr buf_cap configure load_keys \
	load_revocations decide verify_token verify_signature decide_compact identity heap_allocs \
	host_signatures signature_verdict
comma := ,
WASM_ROOTS := [$(subst } {,}$(comma){,$(foreach e,$(WASM_EXPORTS),{"name":"$(e)","root":true,"export":"$(e)"}))]

# $(call build-wasm,output): build the guest with the pinned TinyGo, keep only the
# ABI's exports (binaryen's wasm-metadce) and strip it.
define build-wasm
	@root='$(TINYGO_ROOT)'; \
	TINYGOROOT="$$root" PATH="$$root/build:$$PATH" GOFLAGS=-mod=mod \
		tinygo build $(TINYGO_FLAGS) -o $(1).tmp $(WASM_PKG) && \
	echo '$(WASM_ROOTS)' >$(1).roots.json && \
	wasm-metadce --enable-sign-ext --enable-nontrapping-float-to-int -f $(1).roots.json $(1).tmp -o $(1).tmp >/dev/null && \
	rm -f $(1).roots.json && wasm-strip $(1).tmp && mv $(1).tmp $(1)
endef

.PHONY: wasm wasm-check

wasm: ## build verifier/verifier.wasm with the pinned TinyGo (installs it once)
	$(call build-wasm,$(WASM))
	@ls -l $(WASM) | awk '{print "verifier.wasm: " $$5 " bytes"}'

wasm-check: ## rebuild verifier.wasm and fail if the committed file differs
	$(call build-wasm,$(WASM).fresh)
	@if cmp -s $(WASM) $(WASM).fresh; then rm -f $(WASM).fresh; echo "verifier.wasm matches a fresh build"; \
	else rm -f $(WASM).fresh; echo "verifier.wasm differs from a fresh build: run 'make wasm' and commit it" >&2; exit 1; fi
