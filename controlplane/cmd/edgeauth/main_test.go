package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/spf13/pflag"
)

const testKEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func serveFlags() *pflag.FlagSet {
	c := &cli{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	fs := c.flags("serve", "serve")
	fs.String("listen", "", "")
	fs.String("public-url", "", "")
	fs.StringSlice("allowed-origins", nil, "")
	fs.Bool("signup", false, "")
	return fs
}

// Precedence: defaults < file < environment (both nesting spellings) < flags.
func TestLoadConfigSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "edgeauth.yaml")
	err := os.WriteFile(file, []byte(`
public_url: https://file.example.com
listen: 0.0.0.0:9000
cookies:
  same_site: strict
  domain: example.com
sessions:
  access_ttl: 5m
keys:
  kek: `+testKEK+`
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fs := serveFlags()
	if err := fs.Parse([]string{"--config", file, "--listen", "127.0.0.1:7000"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, []string{
		"EDGEAUTH_PUBLIC_URL=https://auth.example.com",
		"EDGEAUTH_SESSIONS__REFRESH_GRACE=5s",
		"EDGEAUTH_THROTTLE_ACCOUNT_FAILURES=9",
		"EDGEAUTH_ALLOWED_ORIGINS=https://a.example.com, https://b.example.com",
		"EDGEAUTH_SIGNUP=true",
		"EDGEAUTH_TEST_DATABASE_URL=ignored",
		"EDGEAUTH_CACHE=/tmp/ignored",
		"EDGEAUTH_PG_BIN=/ignored",
		"PATH=/bin",
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, ok := range map[string]bool{
		"flag beats file":               cfg.Listen == "127.0.0.1:7000",
		"env beats file":                cfg.PublicURL == "https://auth.example.com",
		"file beats default":            cfg.Cookies.SameSite == "strict" && cfg.Sessions.AccessTTL == 5*time.Minute,
		"nested file key":               cfg.Cookies.Domain == "example.com",
		"__ nesting":                    cfg.Sessions.RefreshGrace == 5*time.Second,
		"_ nesting":                     cfg.Throttle.AccountFailures == 9,
		"list from env":                 len(cfg.AllowedOrigins) == 2 && cfg.AllowedOrigins[1] == "https://b.example.com",
		"bool from env":                 cfg.Signup,
		"default kept":                  cfg.Keys.Algorithm == "EdDSA" && cfg.Sessions.AbsoluteLifetime == 30*24*time.Hour,
		"derived issuer":                cfg.Issuer == "https://auth.example.com",
		"derived __Secure- with domain": cfg.AccessCookie().Name == "__Secure-edgeauth_at",
	} {
		if !ok {
			t.Errorf("%s: %+v", name, cfg)
		}
	}
}

// Every problem is listed at once, from every source, with how to fix it.
func TestLoadConfigListsEveryProblem(t *testing.T) {
	t.Parallel()
	fs := serveFlags()
	if err := fs.Parse([]string{"--public-url", "http://auth.example.com"}); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig(fs, []string{
		"EDGEAUTH_COOKIES__SAME_SITE=relaxed",
		"EDGEAUTH_SESSIONS__ACCESS_TTL=2h",
		"EDGEAUTH_COOKIES__DOMAIN=other.org",
		"EDGEAUTH_KEYS__PRE_PUBLISH=5m",
	})
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"public_url: plain http", "cookies.same_site: must be lax", "sessions.access_ttl", "cookies.domain", "keys.kek: not set", "keys.pre_publish", "Fix:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if len(ve.Problems) < 5 {
		t.Errorf("%d problems:\n%s", len(ve.Problems), msg)
	}
}

func TestLoadConfigRefusesUnknownKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("cookies:\n  samesite: lax\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := serveFlags()
	_ = fs.Parse([]string{"--config", file, "--dev"})
	_, err := loadConfig(fs, []string{"EDGEAUTH_COOKIE_NAME=x"})
	if err == nil || !strings.Contains(err.Error(), `unknown key "cookies.samesite"`) || !strings.Contains(err.Error(), "EDGEAUTH_COOKIE_NAME") {
		t.Fatalf("got %v", err)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"users", "create", "--help"}, {"users", "set-password", "--help"}, {"keys", "rotate", "--help"}, {"keys", "list", "--help"}, {"edge-config", "--help"}, {"devdb", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(context.Background(), args, strings.NewReader(""), &out, &errb, nil); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if !strings.Contains(out.String(), "Usage") {
				t.Fatalf("no usage: %s", out.String())
			}
		})
	}
	// serve --help gives the default of every flag's key that has one
	// (controlplane/README.md, "Configuration").
	var help, helpErr bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--help"}, nil, &help, &helpErr, nil); code != 0 {
		t.Fatalf("serve --help: exit %d: %s", code, helpErr.String())
	}
	d := config.Default()
	for _, want := range []string{"(database_url; default " + d.DatabaseURL + ")", "(listen; default " + d.Listen + ")", "(log_level; default " + d.LogLevel + ")"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("serve --help does not say %q:\n%s", want, help.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, nil, &out, &errb, nil); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
	for _, cmd := range []string{"create", "set-password"} {
		if code := run(context.Background(), []string{"users", cmd, "--email", "me@example.com", "--password", "x"}, nil, &out, &errb, nil); code != 2 {
			t.Fatalf("users %s: a --password flag must not exist: exit %d", cmd, code)
		}
	}
	// A flag mistake says what was wrong, not just exit 2.
	errb.Reset()
	if code := run(context.Background(), []string{"serve", "--bogus"}, nil, &out, &errb, nil); code != 2 || !strings.Contains(errb.String(), "unknown flag: --bogus") {
		t.Fatalf("serve --bogus: exit %d, stderr %q", code, errb.String())
	}
}

// migrate, users create (password on stdin), keys rotate and keys list against a
// real database; then serve answers /readyz and stops cleanly when cancelled.
func TestCommands(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	env := []string{"EDGEAUTH_DATABASE_URL=" + db, "EDGEAUTH_KEYS__KEK=" + testKEK, "EDGEAUTH_PUBLIC_URL=https://auth.example.test"}
	ctx := context.Background()
	cmd := func(stdin string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(ctx, args, strings.NewReader(stdin), &out, &errb, env); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		if strings.Contains(errb.String(), "s3cret password") {
			t.Fatal("password in the output")
		}
		return out.String()
	}
	if out := cmd("", "migrate"); !strings.Contains(out, "applied 001_core.sql\n") || !strings.Contains(out, "schema version") {
		t.Fatal(out)
	}
	if out := cmd("", "migrate"); !strings.Contains(out, "nothing to apply\n") {
		t.Fatal(out)
	}
	if out := cmd("s3cret password\n", "users", "create", "--email", "ops@example.test", "--role", "admin"); !strings.Contains(out, "created user") || !strings.Contains(out, "admin") {
		t.Fatal(out)
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"users", "create", "--email", "ops@example.test"}, strings.NewReader("another password\n"), &out, &errb, env); code != 1 || !strings.Contains(errb.String(), "exists") {
		t.Fatalf("duplicate user: exit %d %s", code, errb.String())
	}
	if out := cmd("", "keys", "rotate"); !strings.Contains(out, "pending") {
		t.Fatal(out)
	}
	if out := cmd("", "keys", "list"); strings.Count(out, "EdDSA") != 2 || !strings.Contains(out, "active") || !strings.Contains(out, "pending") {
		t.Fatal(out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan int)
	go func() {
		var o, e bytes.Buffer
		done <- run(sctx, []string{"serve", "--listen", addr}, nil, &o, &e, env)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exit %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// The example configuration loads, and with a KEK validates.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	fs := serveFlags()
	if err := fs.Parse([]string{"--config", "../../edgeauth.example.yaml"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, []string{"EDGEAUTH_KEYS__KEK=" + testKEK})
	if err != nil {
		t.Fatal(err)
	}
	def := config.Default()
	if cfg.PublicURL != "https://auth.example.com" || cfg.Sessions != def.Sessions || cfg.Keys.PrePublish != def.Keys.PrePublish || cfg.Cookies != def.Cookies || cfg.Throttle != def.Throttle || cfg.Revocations != def.Revocations || cfg.Keys.JWKSMaxAge != def.Keys.JWKSMaxAge {
		t.Fatalf("example differs from the defaults it documents: %+v", cfg)
	}
}

// edge-config prints, from the configuration alone (no database), the bytes the server
// publishes at /.well-known/edgeauth/edge-config; without a public URL it says what to
// pass.
func TestEdgeConfigCommand(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	env := []string{"EDGEAUTH_COOKIES__DOMAIN=example.com", "EDGEAUTH_DATABASE_URL=postgres://nobody@127.0.0.1:1/none"}
	if code := run(context.Background(), []string{"edge-config", "--public-url", "https://auth.example.com"}, nil, &out, &errb, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	cfg := config.Default()
	cfg.PublicURL, cfg.Cookies.Domain, cfg.Keys.KEK = "https://auth.example.com", "example.com", testKEK
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if want := cfg.EdgeConfigDocument(); out.String() != string(want) {
		t.Fatalf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(out.String(), `"name": "__Secure-edgeauth_at"`) {
		t.Fatalf("access cookie name not derived from cookies.domain:\n%s", out.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"edge-config"}, nil, &out, &errb, nil); code != 1 || !strings.Contains(errb.String(), "public_url") || out.Len() != 0 {
		t.Fatalf("without public_url: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// A stray argument is refused without being echoed: `users create` reads the password
// from stdin, and one typed on the command line instead must not also land in the
// terminal's scrollback or a captured stderr (CI, systemd). Nor one given to another
// command.
func TestStrayArgumentsAreNotEchoed(t *testing.T) {
	t.Parallel()
	const password = "Stray-Cli-Passw0rd"
	for _, args := range [][]string{
		{"users", "create", "--email", "me@example.com", password},
		{"users", "create", "--email", "me@example.com", "--role", "admin", password},
		{"users", "set-password", "--email", "me@example.com", password},
		{"migrate", password},
		{"keys", "rotate", password},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, nil)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if !strings.Contains(stderr.String(), "unexpected argument") {
			t.Errorf("%q: stderr does not say what is wrong: %q", args, stderr.String())
		}
		if strings.Contains(stdout.String()+stderr.String(), password) {
			t.Errorf("%q: the argument was echoed: %q", args, stderr.String())
		}
	}
}

// `users logout` needs --email or --all: --all=false is neither, a usage error (exit 2)
// before any database is asked, not a lookup of an empty login name.
func TestUsersLogoutAllFalseNeedsEmail(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	env := []string{"EDGEAUTH_DATABASE_URL=postgres://nobody@127.0.0.1:1/none"} // never reached
	code := run(context.Background(), []string{"users", "logout", "--all=false"}, strings.NewReader(""), &stdout, &stderr, env)
	if code != 2 || !strings.Contains(stderr.String(), "--email is required") {
		t.Errorf("users logout --all=false: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
