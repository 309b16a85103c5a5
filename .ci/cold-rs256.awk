# Summarises cold RS256 verification from `make bench-verifier`'s output (go test -bench
# over ./verifier/...): the native engine, the module with its own crypto and the module
# on the two-phase path (the host checks the signature with crypto/rsa), cpu-ns/op of
# this one run. Input: the benchmark output; the figures are read from
#   verifier/conformance BenchmarkVerifyCold/RS256/{go,wasm,wasm-twophase}
/^pkg: / { pkg = $2 }
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	cpu = ""
	for (i = 3; i < NF; i++)
		if ($(i+1) == "cpu-ns/op") cpu = $i
	if (pkg ~ /\/conformance$/ && name ~ /^BenchmarkVerifyCold\/RS256\//) {
		sub(/^BenchmarkVerifyCold\/RS256\//, "", name)
		v[name] = cpu
	}
}
END {
	print ""
	print "Cold RS256 verification (VerifyToken, cache disabled), this run (CPU time)"
	printf "  %-40s %12s %16s\n", "", "", "/ native Go"
	row("native Go", v["go"])
	row("verifier.wasm, its own crypto", v["wasm"])
	row("verifier.wasm, two-phase (host crypto/rsa)", v["wasm-twophase"])
	"uptime" | getline up
	sub(/^ +/, "", up)
	print "  uptime: " up
}

function row(label, ns) {
	if (ns == "") { printf "  %-40s %12s\n", label, "-"; return }
	ratio = v["go"] > 0 ? sprintf("%.2f", ns / v["go"]) : "-"
	printf "  %-40s %9.1f µs %16s\n", label, ns / 1000, ratio
}
