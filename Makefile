# edgeauth. `make help` lists the targets.
SHELL := bash
GO    ?= go

include wasm.mk

.DEFAULT_GOAL := help
.PHONY: help run demo test test-go test-race test-js bench bench-verifier bench-controlplane bench-ws bench-edge fuzz vet

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

run: ## start the control plane for local development (PostgreSQL at 127.0.0.1:5432, else a private one: README)
	$(GO) run ./controlplane/cmd/edgeauth serve --dev

test: ## every test (go vet, Go, the JS package in Node, then the examples: test-edge); installs what is missing first (.ci/test-deps: chromium, a PostgreSQL)
	@url=$$(bash .ci/test-deps) && export EDGEAUTH_TEST_DATABASE_URL="$$url" && \
	$(MAKE) --no-print-directory vet test-go test-js test-edge

test-go: ## Go tests (needs a PostgreSQL: EDGEAUTH_TEST_DATABASE_URL, default 127.0.0.1:5432)
	$(GO) test -count=1 ./...

# The packages whose goroutines share state (atomic snapshots, watchers, the revocation
# stream and listener, the refresh groups, background loops): about 1-3 minutes. The
# whole tree under -race takes over an hour on 2 cores.
RACE_PACKAGES = ./sessionauth/ ./wsauth/ ./controlplane/revocation/ ./controlplane/store/ ./controlplane/app/
test-race: ## the race detector over the packages whose goroutines share state (CI runs it after make test)
	@url=$$(bash .ci/test-deps) && export EDGEAUTH_TEST_DATABASE_URL="$$url" && \
	$(GO) test -race -count=1 $(RACE_PACKAGES)

test-js: ## the JS package (js/) in Node: verifier.wasm with no imports, createEdge against a scripted control plane
	cd js && node --test test/

vet: ## go vet
	$(GO) vet ./...

bench: bench-verifier bench-controlplane bench-ws bench-edge bench-js ## every benchmark, each beside its baseline in the same run (README "Speed")

bench-verifier: ## verifier: native Go vs verifier.wasm in wazero, per algorithm (RS256 also on the two-phase path); cache hits, compact beside JSON form; P-256 vs crypto/ecdsa
	@mkdir -p build
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchtime 2s ./verifier/... | tee build/bench-verifier.txt
	@awk -f .ci/repeat-visitor.awk build/bench-verifier.txt
	@awk -f .ci/cold-rs256.awk build/bench-verifier.txt

CPBENCH ?=
bench-controlplane: ## control plane: the edgeauth binary refreshing over HTTP vs pgbench on one server (internal/cpbench; CPBENCH= passes flags); JWKS and revocation list from memory; the service's CPU per refresh through the handler
	$(GO) run ./internal/cpbench $(CPBENCH)
	$(GO) test -run '^$$' -bench 'BenchmarkPublished|BenchmarkRefreshHandler' -benchtime 2s ./controlplane/httpapi

WSBENCH ?=
bench-ws: ## WebSockets (internal/wsbench): revocation-to-close latency across 3 replicas (processes), memory per idle authorized socket, upgrades/s vs plain gorilla/websocket (WSBENCH= passes flags)
	ulimit -Hn 65536 2>/dev/null; ulimit -n 32768 2>/dev/null; $(GO) run ./internal/wsbench $(WSBENCH)

EDGEBENCH ?=
bench-edge: ## the Go edge (internal/edgebench): hostdemo, wasm and native engines, vs a bare httputil.ReverseProxy to the same upstream, 16 and 64 clients, a repeat visitor's cookie (EDGEBENCH= passes flags, e.g. -cpuprofile /tmp/edge)
	$(GO) run ./internal/edgebench $(EDGEBENCH)

FUZZTIME ?= 10s
fuzz: ## run every fuzz target for FUZZTIME each: a duration (10s, 5m) or an execution count (3000x, what CI runs)
	bash .ci/fuzz $(FUZZTIME)

DEMO_EDGE ?= 127.0.0.1:8000
DEMO_CONTROL_PLANE ?= 127.0.0.1:8080
demo: ## control plane (dev) and the Go edge with verifier.wasm: open http://127.0.0.1:8000 (ports taken: make demo DEMO_EDGE=127.0.0.1:8001 DEMO_CONTROL_PLANE=127.0.0.1:8081)
	@trap 'kill 0' EXIT; \
	$(GO) run ./controlplane/cmd/edgeauth serve --dev --listen $(DEMO_CONTROL_PLANE) --public-url http://$(DEMO_EDGE) & \
	sleep 3; $(GO) run ./hostdemo --control-plane http://$(DEMO_CONTROL_PLANE) --listen $(DEMO_EDGE)

# --- the JS package and its examples (js/, examples/; README "The edge in JavaScript") ---
.PHONY: js-pack examples-deps test-edge bench-js
JS_TARBALL = build/edgeauth-edge-$(shell node -p 'require("./js/package.json").version').tgz

js-pack: ## pack js/ with verifier.wasm (npm pack) into build/: the tarball the examples install
	@mkdir -p build && cp $(WASM) js/verifier.wasm
	cd js && npm pack --silent --pack-destination ../build >/dev/null
	@echo "$(JS_TARBALL)"

# npm ci only when the lockfile changed (~/.npm caches the downloads); then the package
# from the tarball, never from the lockfile (its integrity would pin a stale build).
examples-deps: js-pack ## the examples' npm packages (npm ci when the lockfile changed) and the package from its tarball
	@cd examples && sum=$$(sha256sum package-lock.json | cut -d' ' -f1); \
	if [ "$$(cat node_modules/.lock-sha256 2>/dev/null)" != "$$sum" ]; then \
		npm ci --prefer-offline --no-audit --no-fund && echo "$$sum" >node_modules/.lock-sha256; fi
	cd examples && npm install --no-save --prefer-offline --no-audit --no-fund ../$(JS_TARBALL)

test-edge: examples-deps ## the package from its tarball in Next.js (middleware.ts and proxy.ts), workerd, Deno, edge-runtime; types; chromium end to end; real control plane
	cd examples && node test/build-next.mjs && EXAMPLES_NEXT_PREBUILT=1 node --test --test-concurrency=1 test/*.test.mjs

BENCHJS ?=
bench-js: examples-deps ## edgeauth beside jose in Node, Deno and workerd: cold verification per algorithm (RS256 also on the two-phase path, WebCrypto), a repeat visitor's decision and whole request, instance ready (ratios; BENCHJS= sets ROUNDS=, OPS=)
	cd examples && env $(BENCHJS) node bench/run.mjs
