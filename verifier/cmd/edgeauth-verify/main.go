// Command edgeauth-verify checks access tokens the way the edge does: it reads tokens
// one per line on stdin and prints, per line, "accept" or "reject <reason>", where
// reason is a stable code (the status name of verifier/ABI.md in snake case, such as
// expired or signature_invalid). Operators use it to check a token against a JWKS;
// conformance runs compare its output across engines.
//
// Usage:
//
//	edgeauth-verify --jwks jwks.json --issuer https://auth.example.com \
//	    --audience https://app.example.com [--alg EdDSA,ES256] [--leeway 30] \
//	    [--now 1767225600] [--revocations list.jws] [--engine native|wasm] < tokens.txt
//
// Exit status: 0 when every line was checked (whatever the verdicts), 1 when reading
// stdin or writing stdout failed, 2 on a usage error (bad flag, unreadable or refused
// file).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// reason returns the stable reject code of an error: its status name in snake case
// ("SignatureInvalid" -> "signature_invalid").
func reason(err error) string {
	name := abi.StatusOf(err).String()
	b := make([]byte, 0, len(name)+4)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			if i > 0 {
				b = append(b, '_')
			}
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx := context.Background()
	e, now, err := setup(ctx, args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // asked for: the usage is printed, nothing failed
		}
		fmt.Fprintln(stderr, "edgeauth-verify:", err)
		return 2
	}
	defer e.Close(ctx)
	in := bufio.NewReaderSize(stdin, 64<<10)
	out := bufio.NewWriter(stdout)
	for {
		line, rerr := in.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			fmt.Fprintln(stderr, "edgeauth-verify: reading stdin:", rerr)
			return 1
		}
		if rerr == io.EOF && line == "" {
			break
		}
		token := strings.TrimRight(line, "\r\n")
		if _, verr := e.VerifyToken(ctx, token, now); verr != nil {
			fmt.Fprintln(out, "reject", reason(verr))
		} else {
			fmt.Fprintln(out, "accept")
		}
		if rerr == io.EOF {
			break
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(stderr, "edgeauth-verify: writing stdout:", err)
		return 1
	}
	return 0
}

// setup parses the flags and returns a configured engine and the time to check at.
func setup(ctx context.Context, args []string, stderr io.Writer) (verifier.Engine, int64, error) {
	fs := flag.NewFlagSet("edgeauth-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		jwksFile = fs.String("jwks", "", "JWKS file (required)")
		issuer   = fs.String("issuer", "", "accepted issuer, exact (required)")
		audience = fs.String("audience", "", "accepted audience, exact (required)")
		algs     = fs.String("alg", "EdDSA", "allowed algorithms, comma separated (EdDSA, ES256, RS256)")
		leeway   = fs.Int64("leeway", 0, "seconds of leeway on exp, nbf and iat (0..300)")
		nowFlag  = fs.Int64("now", 0, "time to check at, unix seconds (default: the current time)")
		revFile  = fs.String("revocations", "", "signed revocation list file (optional)")
		engine   = fs.String("engine", "native", "engine: native (Go) or wasm (verifier.wasm in wazero)")
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: edgeauth-verify --jwks FILE --issuer ISS --audience AUD [flags] < tokens")
		fmt.Fprintln(stderr, "Reads one token per line; prints \"accept\" or \"reject <reason>\" per line.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, 0, err
	}
	var missing []string
	for name, v := range map[string]string{"--jwks": *jwksFile, "--issuer": *issuer, "--audience": *audience} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		fs.Usage()
		return nil, 0, usageError{"missing required flag(s): " + strings.Join(slices.Sorted(slices.Values(missing)), ", ")}
	}
	if fs.NArg() > 0 {
		// Not quoted: the argument is likely a token, given where stdin was expected.
		return nil, 0, usageError{"unexpected argument, not shown (tokens are read from stdin, one per line)"}
	}
	now := *nowFlag
	if now == 0 {
		now = time.Now().Unix()
	}
	cfg := verifier.Config{EdgeConfig: verifier.EdgeConfig{
		Issuer: *issuer, Audience: *audience, LeewaySeconds: *leeway,
		// The gate needs cookies and paths to be configured; verify_token ignores them.
		AccessCookie:  verifier.Cookie{Name: "__Host-edgeauth", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"},
		RefreshCookie: verifier.Cookie{Name: "__Secure-edgeauth-refresh", Path: "/auth", Secure: true, HTTPOnly: true, SameSite: "Lax"},
		LoginPath:     "/login", RefreshPath: "/auth/refresh",
	}}
	for _, a := range strings.Split(*algs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Algorithms = append(cfg.Algorithms, a)
		}
	}
	jwks, err := os.ReadFile(*jwksFile)
	if err != nil {
		return nil, 0, fmt.Errorf("--jwks: %w", err)
	}
	var revs []byte
	if *revFile != "" {
		if revs, err = os.ReadFile(*revFile); err != nil {
			return nil, 0, fmt.Errorf("--revocations: %w", err)
		}
		revs = []byte(strings.TrimSpace(string(revs)))
	}
	var e verifier.Engine
	switch *engine {
	case "native":
		e = verifier.NewNative()
	case "wasm":
		h, err := wasmhost.NewEmbedded(ctx, wasmhost.Options{PoolSize: 1})
		if err != nil {
			return nil, 0, fmt.Errorf("loading verifier.wasm: %w", err)
		}
		e = h
	default:
		return nil, 0, usageError{fmt.Sprintf("--engine %q: want native or wasm", *engine)}
	}
	if err := configure(ctx, e, cfg, jwks, revs, now); err != nil {
		e.Close(ctx)
		return nil, 0, err
	}
	return e, now, nil
}

func configure(ctx context.Context, e verifier.Engine, cfg verifier.Config, jwks, revs []byte, now int64) error {
	if err := e.Configure(ctx, cfg); err != nil {
		return fmt.Errorf("--issuer/--audience/--alg/--leeway refused: %w", err)
	}
	if err := e.LoadKeys(ctx, jwks); err != nil {
		return fmt.Errorf("--jwks: %w", err)
	}
	if revs != nil {
		if err := e.LoadRevocations(ctx, revs, now); err != nil {
			return fmt.Errorf("--revocations: %w", err)
		}
	}
	return nil
}
