# Summarises a repeat visitor's decision from `make bench-verifier`'s output (go test
# -bench over ./verifier/...): the compact form (what Decide uses) beside the JSON form
# (the reference, and the path before the compact form), native and wasm, cpu-ns/op of
# this one run. Input: the benchmark output; the figures are read from
#   verifier         BenchmarkNativeDecideCacheHit/{compact,json}
#   verifier/wasmhost BenchmarkDecideCacheHit/{wasm,wasm-json}
/^pkg: / { pkg = $2 }
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	cpu = ""; allocs = ""
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "cpu-ns/op") cpu = $i
		if ($(i+1) == "allocs/op") allocs = $i
	}
	key = ""
	if (pkg ~ /\/verifier$/ && name == "BenchmarkNativeDecideCacheHit/compact") key = "native compact"
	if (pkg ~ /\/verifier$/ && name == "BenchmarkNativeDecideCacheHit/json") key = "native json"
	if (pkg ~ /\/wasmhost$/ && name == "BenchmarkDecideCacheHit/wasm") key = "wasm compact"
	if (pkg ~ /\/wasmhost$/ && name == "BenchmarkDecideCacheHit/wasm-json") key = "wasm json"
	if (key != "") { v[key] = cpu; a[key] = allocs }
}
END {
	print ""
	print "Repeat visitor: a cache-hit decision through Engine.Decide, this run (CPU time, allocations)"
	printf "  %-14s %18s %18s %14s\n", "", "compact form", "JSON form", "JSON / compact"
	split("native wasm", engines, " ")
	for (e = 1; e <= 2; e++) {
		c = v[engines[e] " compact"]; j = v[engines[e] " json"]
		label = engines[e] == "native" ? "native Go" : "wasm (wazero)"
		ratio = (c > 0 && j > 0) ? sprintf("%.1f", j / c) : "-"
		printf "  %-14s %18s %18s %14s\n", label, cell(c, a[engines[e] " compact"]), cell(j, a[engines[e] " json"]), ratio
	}
	"uptime" | getline up
	sub(/^ +/, "", up)
	print "  uptime: " up
}

function cell(ns, allocs) {
	if (ns == "") return "-"
	return sprintf("%.2f µs, %2d allocs", ns / 1000, allocs)
}
