// Command edgeauth is the control plane: one binary with the subcommands
//
//	edgeauth serve [--dev]       run the HTTP server (applies pending migrations first)
//	edgeauth migrate [--status]  apply (or show) database migrations
//	edgeauth users create --email E [--role R]...   password from stdin or a prompt
//	edgeauth users set-password --email E   a new password (stdin or a prompt); ends every session
//	edgeauth users logout --email E         ends every session of the user
//	edgeauth users logout --all             ends every session of every user
//	edgeauth users disable --email E        disables the account and ends every session
//	edgeauth users enable --email E         enables a disabled account
//	edgeauth users delete --email E         deletes a disabled account
//	edgeauth users mfa-reset --email E      removes a user's second factor (a lost authenticator)
//	edgeauth users list [--needs-second-factor]   lists the accounts (read-only)
//	edgeauth keys rotate [--immediate]
//	edgeauth keys list
//	edgeauth edge-config         print what edges must agree with (JSON)
//	edgeauth devdb start|stop|status   the private development PostgreSQL (serve --dev starts it)
//
// Every subcommand takes --config FILE (YAML), reads EDGEAUTH_ environment variables
// and answers --help. `edgeauth serve --help` lists every configuration key with its
// environment variable.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/app"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/keys"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

const usage = `edgeauth: session authentication control plane.

Usage:
  edgeauth serve [--dev] [flags]           run the HTTP server
  edgeauth migrate [--status] [flags]      apply (or show) database migrations
  edgeauth users create --email E [--role R]...
                                           create a user; the password is read from
                                           stdin, or prompted for on a terminal
  edgeauth users set-password --email E    set a user's password (read as for users
                                           create) and end every session of the user
  edgeauth users logout --email E          end every session of a user (their
                                           WebSockets close with 4007 ended_by_operator)
  edgeauth users logout --all              end every session of every user
  edgeauth users disable --email E         disable an account: it cannot sign in (refused
                                           as a wrong password is) and every session of
                                           the user ends (4008 account_disabled)
  edgeauth users enable --email E          enable a disabled account (its ended sessions
                                           stay ended)
  edgeauth users delete --email E          delete an account disabled at least the
                                           access-token lifetime + 1 min ago
  edgeauth users mfa-reset --email E       remove a user's second factor (a lost
                                           authenticator, no recovery code left)
  edgeauth users list [--needs-second-factor]
                                           list the accounts: roles, second factor,
                                           whether second_factor.required_for covers
                                           them, disabled (read-only)
  edgeauth keys rotate [--immediate]       start a signing-key rotation
  edgeauth keys list                       list signing keys and their states (read-only)
  edgeauth edge-config                     print the edge configuration (issuer, audience,
                                           cookies, paths) that edges start from; the
                                           server publishes the same document at
                                           /.well-known/edgeauth/edge-config
  edgeauth devdb start|stop|status         the private development PostgreSQL cluster,
                                           which --dev starts when no server answers at
                                           the default database_url

Run "edgeauth <command> --help" for the flags of a command; "edgeauth serve --help"
also lists every configuration key and its EDGEAUTH_ environment variable.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

// run executes one command line and returns the exit status (0 ok, 1 failure, 2 usage).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, environ: environ, localClock: time.Now}
	return c.run(ctx, args)
}

func (c *cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(c.stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "serve":
		err = c.serve(ctx, rest)
	case cmd == "migrate":
		err = c.migrate(ctx, rest)
	case cmd == "users" && len(rest) > 0 && rest[0] == "create":
		err = c.usersCreate(ctx, rest[1:])
	case cmd == "users" && len(rest) > 0 && rest[0] == "set-password":
		err = c.usersSetPassword(ctx, rest[1:])
	case cmd == "users" && len(rest) > 0 && rest[0] == "logout":
		err = c.usersLogout(ctx, rest[1:])
	case cmd == "users" && len(rest) > 0 && rest[0] == "disable":
		err = c.usersDisable(ctx, rest[1:], true)
	case cmd == "users" && len(rest) > 0 && rest[0] == "enable":
		err = c.usersDisable(ctx, rest[1:], false)
	case cmd == "users" && len(rest) > 0 && rest[0] == "delete":
		err = c.usersDelete(ctx, rest[1:])
	case cmd == "users" && len(rest) > 0 && rest[0] == "mfa-reset":
		err = c.usersMFAReset(ctx, rest[1:])
	case cmd == "users" && len(rest) > 0 && rest[0] == "list":
		err = c.usersList(ctx, rest[1:])
	case cmd == "keys" && len(rest) > 0 && rest[0] == "rotate":
		err = c.keysRotate(ctx, rest[1:])
	case cmd == "keys" && len(rest) > 0 && rest[0] == "list":
		err = c.keysList(ctx, rest[1:])
	case cmd == "edge-config":
		err = c.edgeConfig(rest)
	case cmd == "devdb":
		err = c.devdbCommand(ctx, rest)
	default:
		fmt.Fprintf(c.stderr, "edgeauth: unknown command%s\n\n%s", commandWords(args), usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(c.stderr, "edgeauth: %v\n", err)
		return 1
	}
}

var errUsage = errors.New("usage")

type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	localClock     func() time.Time // this machine's (time.Now); tests skew it
}

// flags returns a flag set with the flags every command shares.
func (c *cli) flags(name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.String("config", "", "YAML configuration file (also EDGEAUTH_CONFIG)")
	fs.String("database-url", "", "PostgreSQL URL (database_url; default "+config.Default().DatabaseURL+")")
	fs.Bool("dev", false, "development mode: plain HTTP on localhost, a public development KEK, the database created if missing (dev)")
	fs.String("log-level", "", "debug, info, warn or error (log_level; default "+config.Default().LogLevel+")")
	fs.Usage = func() {
		fmt.Fprintf(c.stdout, "Usage: edgeauth %s\n\nFlags:\n%s", synopsis, fs.FlagUsages())
		if name == "serve" {
			fmt.Fprint(c.stdout, "\n"+envHelp())
		}
	}
	return fs
}

// parse parses args and loads the configuration. Problems are filtered to the keys
// the command uses (relevant nil: all of them).
func (c *cli) parse(fs *pflag.FlagSet, args []string, relevant func(key string) bool) (config.Config, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return config.Config{}, err
		}
		// pflag prints nothing itself under ContinueOnError.
		fmt.Fprintf(c.stderr, "edgeauth %s: %s (see edgeauth %s --help)\n", fs.Name(), flagError(err), fs.Name())
		return config.Config{}, errUsage
	}
	if fs.NArg() > 0 {
		// Not quoted: a stray argument may be a password typed where `users create` reads
		// it from stdin, and stderr is often captured (CI, journald).
		fmt.Fprintf(c.stderr, "edgeauth: %d unexpected argument(s), not shown: settings are --flags, and a password is read from stdin\n", fs.NArg())
		return config.Config{}, errUsage
	}
	cfg, err := loadConfig(fs, c.environ)
	var ve *config.ValidationError
	if errors.As(err, &ve) && relevant != nil {
		var keep []config.Problem
		for _, p := range ve.Problems {
			if relevant(p.Key) {
				keep = append(keep, p)
			}
		}
		if len(keep) == 0 {
			return cfg, nil
		}
		return cfg, &config.ValidationError{Problems: keep}
	}
	return cfg, err
}

// flagError says what was wrong with the command line by the flag's name alone. pflag's
// own text repeats the argument (the rest of "-psecret", the value of "--dev=secret",
// and the strconv error quotes it again), and an argument may be a password typed in
// the wrong place, while stderr is often captured (CI, journald).
func flagError(err error) string {
	var (
		notExist *pflag.NotExistError
		needs    *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
		syntax   *pflag.InvalidSyntaxError
	)
	switch {
	case errors.As(err, &notExist) && notExist.GetSpecifiedShortnames() != "":
		return "unknown shorthand flag: " + flagName("-", notExist.GetSpecifiedName())
	case errors.As(err, &notExist):
		return "unknown flag: " + flagName("--", notExist.GetSpecifiedName())
	case errors.As(err, &needs) && needs.GetSpecifiedShortnames() != "":
		return "flag needs an argument: " + flagName("-", needs.GetSpecifiedName())
	case errors.As(err, &needs):
		return "flag needs an argument: " + flagName("--", needs.GetSpecifiedName())
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		return "invalid value for --" + f.Name + ": want a " + f.Value.Type() + " (the value is not shown)"
	case errors.As(err, &syntax):
		return "bad flag syntax (the argument is not shown): flags are -x or --name"
	}
	return "invalid flags"
}

// flagName is dashes+name when name reads like a flag name (at most 32 ASCII letters,
// digits, '-', '_' or '.'), else a placeholder: an unknown flag's name is whatever was
// typed before its '='.
func flagName(dashes, name string) string {
	if plainWord(name, 32) {
		return dashes + name
	}
	return "(name not shown)"
}

func plainWord(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// commandWords names an unknown command by its first word when that reads like a
// command name (a lower-case word: "frobnicate", "users"), never the words after it,
// for the same reason as flagError.
func commandWords(args []string) string {
	if a := args[0]; strings.ToLower(a) != a || !plainWord(a, 20) || a[0] == '-' {
		return " (not shown)"
	}
	more := ""
	if len(args) > 1 {
		more = " ..."
	}
	return ": " + args[0] + more
}

func (c *cli) logger(cfg config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Dev {
		return slog.New(slog.NewTextHandler(c.stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(c.stderr, opts))
}

// connect opens the pool. In development mode it first starts the private development
// cluster when no server answers at the default URL, and creates the database if the
// server does not have it.
func (c *cli) connect(ctx context.Context, cfg config.Config, log *slog.Logger) (*pgxpool.Pool, error) {
	if cfg.Dev {
		url, err := c.devDatabaseURL(ctx, cfg.DatabaseURL, log)
		if err != nil {
			return nil, err
		}
		cfg.DatabaseURL = url
		if err := ensureDatabase(ctx, cfg.DatabaseURL, log); err != nil {
			return nil, err
		}
	}
	pc, err := cfg.PoolConfig()
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database unreachable (%s): %w", redactURL(cfg.DatabaseURL), err)
	}
	return pool, nil
}

// ensureDatabase creates the configured database through the server's "postgres"
// database when it does not exist (development only).
func ensureDatabase(ctx context.Context, url string, log *slog.Logger) error {
	pc, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err == nil {
		return conn.Close(ctx)
	}
	name := pc.Database
	admin := pc.Copy()
	admin.Database = "postgres"
	ac, aerr := pgx.ConnectConfig(ctx, admin)
	if aerr != nil {
		return fmt.Errorf("database unreachable (%s): %w", redactURL(url), err)
	}
	defer ac.Close(ctx)
	var exists bool
	if err := ac.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("database %s: %w", redactURL(url), err)
	}
	if _, err := ac.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("creating database %q: %w", name, err)
	}
	log.Warn("development mode: created the database", "database", name)
	return nil
}

func redactURL(u string) string {
	pc, err := pgx.ParseConfig(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", pc.User, pc.Host, pc.Port, pc.Database)
}

func (c *cli) warnDevKEK(cfg config.Config, log *slog.Logger) {
	if cfg.Dev && cfg.Keys.KEK == "" {
		log.Warn("DEVELOPMENT MODE: signing keys are sealed with a PUBLIC development KEK; anyone with the database can read them. " +
			"Never use this database in production; set keys.kek (EDGEAUTH_KEYS__KEK) to `head -c 32 /dev/urandom | base64` there.")
	}
	if cfg.Dev {
		log.Warn("DEVELOPMENT MODE: plain HTTP allowed, cookies without Secure when public_url is http", "public_url", cfg.PublicURL)
	}
}

func (c *cli) serve(ctx context.Context, args []string) error {
	fs := c.flags("serve", "serve [flags]")
	fs.String("listen", "", "address to listen on (listen; default "+config.Default().Listen+")")
	fs.String("ops-listen", "", "address for /metrics, /healthz and /readyz only (ops_listen; default none)")
	fs.String("public-url", "", "origin browsers use, e.g. https://auth.example.com (public_url)")
	fs.StringSlice("allowed-origins", nil, "extra origins allowed to make state-changing requests (allowed_origins)")
	fs.Bool("signup", false, "enable POST /auth/signup (signup)")
	migrate := fs.Bool("migrate", true, "apply pending migrations before serving")
	cfg, err := c.parse(fs, args, nil)
	if err != nil {
		return err
	}
	log := c.logger(cfg)
	c.warnDevKEK(cfg, log)

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	pool, err := c.connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *migrate {
		applied, err := migrations.Upgrade(ctx, pool)
		for _, name := range applied {
			log.Info("applied migration", "migration", name)
		}
		if err != nil {
			return err
		}
	} else if err := migrations.Check(ctx, pool); errors.Is(err, migrations.ErrSchemaNewer) {
		return err
	} else if err != nil {
		log.Warn("database schema is not current; /readyz will say so until `edgeauth migrate` runs", "err", err)
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: log, Pool: pool})
	if err != nil {
		return err
	}
	defer a.Close()

	servers := []app.Server{{HTTP: c.httpServer(a.Handler, log)}}
	addrs := []string{cfg.Listen}
	if cfg.OpsListen != "" {
		servers = append(servers, app.Server{HTTP: c.httpServer(a.Handler.Ops(), log)})
		addrs = append(addrs, cfg.OpsListen)
	}
	for i := range servers {
		ln, err := net.Listen("tcp", addrs[i])
		if err != nil {
			for _, s := range servers[:i] {
				s.Listener.Close()
			}
			return err
		}
		servers[i].Listener = ln
		addrs[i] = ln.Addr().String()
	}
	log.Info("serving", "listen", addrs[0], "public_url", cfg.PublicURL, "issuer", cfg.Issuer, "database_pool", pool.Config().MaxConns,
		"access_cookie", cfg.AccessCookie().Name, "refresh_cookie", cfg.RefreshCookie().Name)
	switch {
	case cfg.OpsListen != "":
		log.Info("serving operations endpoints (/metrics, /healthz, /readyz)", "ops_listen", addrs[1])
	case cfg.MetricsOnPublicListener():
		log.Warn("development mode: /metrics is served on the public listener; in production set ops_listen")
	case cfg.Metrics:
		log.Warn("metrics are collected but not served: set ops_listen (e.g. 127.0.0.1:9090) to scrape /metrics")
	}
	return a.Run(ctx, servers...)
}

// httpServer is an HTTP server with the timeouts every listener uses.
func (c *cli) httpServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func onlyDatabase(key string) bool { return key == "database_url" }

// databaseAndPasswords: the users commands that set a password also check it
// (passwords.*). Only they read those keys: a broken breach-check setting must not
// stop an operator from signing users out.
func databaseAndPasswords(key string) bool {
	return onlyDatabase(key) || strings.HasPrefix(key, "passwords.")
}

// databaseAndAccessTTL: `users delete` waits the access-token lifetime (plus the
// leeway) after the disabling, so it refuses a lifetime out of range as serve does.
func databaseAndAccessTTL(key string) bool {
	return onlyDatabase(key) || key == "sessions.access_ttl"
}

func (c *cli) migrate(ctx context.Context, args []string) error {
	fs := c.flags("migrate", "migrate [--status] [flags]")
	status := fs.Bool("status", false, "only print the current and latest versions")
	cfg, err := c.parse(fs, args, onlyDatabase)
	if err != nil {
		return err
	}
	log := c.logger(cfg)
	pool, err := c.connect(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if !*status {
		applied, err := migrations.Upgrade(ctx, pool)
		for _, name := range applied {
			fmt.Fprintf(c.stdout, "applied %s\n", name)
		}
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(c.stdout, "nothing to apply")
		}
	}
	cur, latest, err := migrations.Status(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "schema version %d of %d\n", cur, latest)
	if cur > latest {
		fmt.Fprintln(c.stdout, "the database schema is newer than this binary: upgrade it")
	}
	return nil
}

func (c *cli) usersCreate(ctx context.Context, args []string) error {
	fs := c.flags("users create", "users create --email E [--role R]... [flags]\n\nThe password is read from stdin (one line), or prompted for twice on a terminal.\nIt is never a flag: flags end up in shell history and process lists.")
	roles := fs.StringSlice("role", nil, "a role (repeatable)")
	cmd, err := c.users(ctx, fs, args, true, databaseAndPasswords)
	if err != nil {
		return err
	}
	defer cmd.close()
	u, err := cmd.accounts.CreateUser(ctx, auth.NewUser{Email: cmd.email, Password: cmd.password, Roles: *roles})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created user %s (%s) roles=%v\n", u.ID, u.Email, u.Roles)
	return nil
}

// usersSetPassword is an operator's password reset: the new password is read as
// usersCreate reads one, and every session of the user ends in the transaction that
// stores it (auth.Accounts.ResetPassword).
func (c *cli) usersSetPassword(ctx context.Context, args []string) error {
	fs := c.flags("users set-password", "users set-password --email E [flags]\n\nSets the password of the user with that login name and ends every session of\nthe user (their WebSockets close with 4006 password_changed).\nThe password is read from stdin (one line), or prompted for twice on a terminal.\nIt is never a flag: flags end up in shell history and process lists.")
	cmd, err := c.users(ctx, fs, args, true, databaseAndPasswords)
	if err != nil {
		return err
	}
	defer cmd.close()
	u, n, err := cmd.accounts.ResetPassword(ctx, cmd.email, cmd.password)
	if errors.Is(err, auth.ErrUserNotFound) {
		return errNoSuchUser
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "password set for user %s (%s); %d session(s) ended\n", u.ID, u.Email, n)
	return nil
}

// usersCommand is what a users command works with: Accounts on the configured
// database, the login name (--email) and, for the commands that set one, the password.
type usersCommand struct {
	accounts        *auth.Accounts
	email, password string
	// revocationWindow is how long the revocation list names a revoked session: the
	// configured access-token lifetime plus the verifiers' leeway.
	revocationWindow time.Duration
	close            func() // releases the pool
}

// users parses a users command (fs gets --email, required and text), reads the password when
// withPassword (before connecting, so a prompt does not hold a connection), connects,
// and checks the schema. Configuration problems count only for the keys relevant says
// the command reads (onlyDatabase, databaseAndPasswords, databaseAndAccessTTL).
func (c *cli) users(ctx context.Context, fs *pflag.FlagSet, args []string, withPassword bool, relevant func(key string) bool) (usersCommand, error) {
	need := "(required)"
	if fs.Lookup("all") != nil {
		need = "(required unless --all)"
	}
	email := fs.String("email", "", "the user's e-mail or username "+need)
	cfg, err := c.parse(fs, args, relevant)
	if err != nil {
		return usersCommand{}, err
	}
	if all, _ := fs.GetBool("all"); all { // --all=false is no --all
		if *email != "" {
			fmt.Fprintln(c.stderr, "edgeauth: --all and --email exclude each other")
			return usersCommand{}, errUsage
		}
	} else if *email == "" {
		fmt.Fprintln(c.stderr, "edgeauth: --email is required")
		return usersCommand{}, errUsage
	}
	if auth.CheckLoginName(*email) != nil { // can name no account, and PostgreSQL refuses a NUL
		fmt.Fprintln(c.stderr, "edgeauth: --email is not text (invalid UTF-8 or a control character; the value is not shown)")
		return usersCommand{}, errUsage
	}
	u := usersCommand{email: *email, revocationWindow: cfg.Sessions.AccessTTL + config.Leeway}
	if withPassword {
		if u.password, err = c.readPassword(); err != nil {
			return usersCommand{}, err
		}
	}
	var checker auth.BreachChecker
	if withPassword {
		if checker, err = app.BreachChecker(&cfg); err != nil {
			return usersCommand{}, err
		}
	}
	if u.accounts, u.close, err = c.openAccounts(ctx, cfg, checker); err != nil {
		return usersCommand{}, err
	}
	return u, nil
}

// openAccounts connects to the database, checks its schema is this binary's, and
// returns the accounts on it, going by the database's clock (databaseClock), with the
// function that releases the pool.
func (c *cli) openAccounts(ctx context.Context, cfg config.Config, checker auth.BreachChecker) (*auth.Accounts, func(), error) {
	log := c.logger(cfg)
	pool, err := c.connect(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if err := migrations.Check(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, err
	}
	now, err := databaseClock(ctx, pool, c.localClock)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	accounts, err := auth.NewAccounts(store.New(pool), auth.AccountsConfig{
		Logger:    log,
		SiteNames: []string{cfg.PublicURL, cfg.Issuer, cfg.Audience}, // those configured
		Breached:  checker,
		Now:       now,
	})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return accounts, pool.Close, nil
}

// databaseClock is the database server's clock, read once, run on by local (which
// measures only the time passed since). The users commands write times that the control
// plane compares with its own (a revocation's revoked_at, from which the revocation list
// names a session for the access-token lifetime plus 1 min; a disabling's disabled_at)
// and tell live sessions from expired ones: the control plane shares its database's
// clock, while an operator's machine may be minutes off. Read before the query, the
// local start makes the clock run ahead by the round trip, if anything: a revocation
// then stays on the list a little longer, never less.
func databaseClock(ctx context.Context, pool *pgxpool.Pool, local func() time.Time) (func() time.Time, error) {
	start := local()
	var dbStart time.Time
	if err := pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&dbStart); err != nil {
		return nil, fmt.Errorf("reading the database's time: %w", err)
	}
	return func() time.Time { return dbStart.Add(local().Sub(start)) }, nil
}

// usersList prints every account (auth.Accounts.Accounts): its roles, second factor,
// whether second_factor.required_for covers it, and whether it is disabled.
func (c *cli) usersList(ctx context.Context, args []string) error {
	fs := c.flags("users list", "users list [--needs-second-factor] [flags]\n\nLists every account, oldest first; changes nothing. REQUIRED says whether\nsecond_factor.required_for (read from the same configuration as serve) covers it.\nWith --needs-second-factor, only the accounts it covers that have no second factor\non: they get no session until they enroll.")
	needs := fs.Bool("needs-second-factor", false, "only accounts that must have a second factor and have none on")
	cfg, err := c.parse(fs, args, func(key string) bool { return onlyDatabase(key) || strings.HasPrefix(key, "second_factor.") })
	if err != nil {
		return err
	}
	accounts, closePool, err := c.openAccounts(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer closePool()
	list, err := accounts.Accounts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tROLES\tSECOND FACTOR\tREQUIRED\tDISABLED\tCREATED")
	yes := map[bool]string{true: "yes", false: "-"}
	for _, a := range list {
		required := auth.SecondFactorRequired(cfg.SecondFactor.RequiredFor, a.Roles)
		if *needs && (!required || a.SecondFactor == "on") {
			continue
		}
		roles := strings.Join(a.Roles, ",")
		if roles == "" {
			roles = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Email, roles, a.SecondFactor, yes[required], yes[a.Disabled],
			a.Created.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// usersDelete deletes a disabled account (auth.Accounts.DeleteUser): the operator
// disables it first, which ends its sessions at once, and deletes it once the
// revocation list no longer needs their rows.
func (c *cli) usersDelete(ctx context.Context, args []string) error {
	fs := c.flags("users delete", "users delete --email E [flags]\n\nDeletes the account with that login name, with its sessions, and frees the name.\nThe account must be disabled first (edgeauth users disable, which ends its\nsessions), at least the access-token lifetime plus 1 min before: until then the\nrevocation list still names its sessions. The audit trail keeps its events, by\nuser id.")
	cmd, err := c.users(ctx, fs, args, false, databaseAndAccessTTL)
	if err != nil {
		return err
	}
	defer cmd.close()
	u, err := cmd.accounts.DeleteUser(ctx, cmd.email, cmd.revocationWindow)
	var tooSoon *auth.DisabledRecentlyError
	switch {
	case errors.Is(err, auth.ErrUserNotFound):
		return errNoSuchUser
	case errors.Is(err, auth.ErrNotDisabled):
		return errors.New("the account is not disabled: run `edgeauth users disable` first (it ends every session); nothing changed")
	case errors.As(err, &tooSoon):
		// In whole seconds, rounded up: the second printed is one at which it can.
		from := tooSoon.DeletableFrom.Add(time.Second - time.Nanosecond).Truncate(time.Second)
		return fmt.Errorf("the account was disabled less than %v ago and its sessions may still be on the revocation list: delete it from %s; nothing changed",
			cmd.revocationWindow, from.UTC().Format(time.RFC3339))
	case err != nil:
		return err
	}
	fmt.Fprintf(c.stdout, "user %s (%s) deleted\n", u.ID, u.Email)
	return nil
}

// errNoSuchUser is what a users command says of an unknown login name. The name is not
// repeated: it may be a password typed in the wrong place.
var errNoSuchUser = errors.New("no user has that login name (--email); nothing changed")

// usersLogout is an operator's sign-out of one user: every session of the user ends
// in one transaction (auth.Accounts.EndSessions), published to edges and socket
// servers as logout-all's revocations are.
func (c *cli) usersLogout(ctx context.Context, args []string) error {
	fs := c.flags("users logout", "users logout --email E [flags]\n       edgeauth users logout --all [flags]\n\nEnds every session of the user with that login name (their WebSockets close\nwith 4007 ended_by_operator). The password stays; the user may sign in again.\nWith --all, ends every session of every user, in one transaction: past 4,000\nsessions the revocation list covers the rest with a cutoff, and every signed-in\nbrowser refreshes once (controlplane/README.md, \"Revocation list\").")
	all := fs.Bool("all", false, "end every session of every user")
	cmd, err := c.users(ctx, fs, args, false, onlyDatabase)
	if err != nil {
		return err
	}
	defer cmd.close()
	if *all {
		n, err := cmd.accounts.EndAllSessions(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "every user: %d session(s) ended\n", n)
		return nil
	}
	u, n, err := cmd.accounts.EndSessions(ctx, cmd.email)
	if errors.Is(err, auth.ErrUserNotFound) {
		return errNoSuchUser
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "user %s (%s): %d session(s) ended\n", u.ID, u.Email, n)
	return nil
}

// usersMFAReset removes a user's second factor (auth.Accounts.ResetTOTP): the
// authenticator is lost and no recovery code is left. The user signs in with the
// password alone and may turn a new one on; the user's sessions are left as they are.
func (c *cli) usersMFAReset(ctx context.Context, args []string) error {
	fs := c.flags("users mfa-reset", "users mfa-reset --email E [flags]\n\nRemoves the second factor (TOTP secret and recovery codes) of the user with that\nlogin name, who then signs in with the password alone and may turn a new one on.\nSessions that signed in with it stay signed in, and their access tokens still say\nmfa (amr): `edgeauth users logout` ends them. Check who is asking first: this is\nwhat a second factor protects against.")
	cmd, err := c.users(ctx, fs, args, false, onlyDatabase)
	if err != nil {
		return err
	}
	defer cmd.close()
	u, removed, err := cmd.accounts.ResetTOTP(ctx, cmd.email)
	if errors.Is(err, auth.ErrUserNotFound) {
		return errNoSuchUser
	}
	if err != nil {
		return err
	}
	if !removed {
		fmt.Fprintf(c.stdout, "user %s (%s) has no second factor; nothing changed\n", u.ID, u.Email)
		return nil
	}
	fmt.Fprintf(c.stdout, "user %s (%s): second factor removed\n", u.ID, u.Email)
	return nil
}

// usersDisable disables (or, !disable, enables) an account: auth.Accounts.DisableUser
// and EnableUser. Either says so and succeeds when the account is in that state already.
func (c *cli) usersDisable(ctx context.Context, args []string, disable bool) error {
	name, synopsis := "users enable", "users enable --email E [flags]\n\nEnables the disabled account with that login name: it can sign in again.\nThe sessions that ended when it was disabled stay ended."
	if disable {
		name, synopsis = "users disable", "users disable --email E [flags]\n\nDisables the account with that login name and ends every session of the user\n(their WebSockets close with 4008 account_disabled). A disabled account cannot\nsign in: its login is refused as a wrong password is. Its login name stays taken."
	}
	cmd, err := c.users(ctx, c.flags(name, synopsis), args, false, onlyDatabase)
	if err != nil {
		return err
	}
	defer cmd.close()
	var ch auth.AccountChange
	if disable {
		ch, err = cmd.accounts.DisableUser(ctx, cmd.email)
	} else {
		ch, err = cmd.accounts.EnableUser(ctx, cmd.email)
	}
	if errors.Is(err, auth.ErrUserNotFound) {
		return errNoSuchUser
	}
	if err != nil {
		return err
	}
	u := ch.User
	switch {
	case disable && ch.Changed:
		fmt.Fprintf(c.stdout, "user %s (%s) disabled; %d session(s) ended\n", u.ID, u.Email, ch.Ended)
	case disable:
		fmt.Fprintf(c.stdout, "user %s (%s) is already disabled; nothing changed\n", u.ID, u.Email)
	case ch.Changed:
		fmt.Fprintf(c.stdout, "user %s (%s) enabled\n", u.ID, u.Email)
	default:
		fmt.Fprintf(c.stdout, "user %s (%s) is not disabled; nothing changed\n", u.ID, u.Email)
	}
	return nil
}

// readPassword reads the password: prompted twice without echo on a terminal,
// otherwise the first line of stdin (the line ending removed, nothing else).
func (c *cli) readPassword() (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(c.stderr, "Repeat: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", err
		}
		if !bytes.Equal(p1, p2) {
			return "", errors.New("the passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReaderSize(c.stdin, 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on stdin")
	}
	return line, nil
}

func keysRelevant(key string) bool { return key == "database_url" || strings.HasPrefix(key, "keys.") }

func (c *cli) keysManager(ctx context.Context, fs *pflag.FlagSet, args []string) (*keys.Manager, func(), error) {
	cfg, err := c.parse(fs, args, keysRelevant)
	if err != nil {
		return nil, nil, err
	}
	log := c.logger(cfg)
	c.warnDevKEK(cfg, log)
	pool, err := c.connect(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if err := refuseNewerSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, err
	}
	kc, err := app.KeysConfig(&cfg)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	kc.Logger = log
	// A key's created_at and activate_at decide when replicas publish it and sign with
	// it: the database's clock, as the users commands use (databaseClock).
	if kc.Now, err = databaseClock(ctx, pool, c.localClock); err != nil {
		pool.Close()
		return nil, nil, err
	}
	m, err := keys.NewManager(ctx, pool, kc)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return m, pool.Close, nil
}

// refuseNewerSchema returns migrations.Check's error when a newer release migrated the
// database (migrations.ErrSchemaNewer), nil otherwise: a keys command then neither
// writes rows (keys.NewManager advances the lifecycle) nor reads them by a schema it
// does not know. A schema that is merely older is not its concern.
func refuseNewerSchema(ctx context.Context, pool *pgxpool.Pool) error {
	if err := migrations.Check(ctx, pool); errors.Is(err, migrations.ErrSchemaNewer) {
		return err
	}
	return nil
}

func (c *cli) keysRotate(ctx context.Context, args []string) error {
	fs := c.flags("keys rotate", "keys rotate [--immediate] [flags]")
	immediate := fs.Bool("immediate", false, "activate the new key now and retire the current one (suspected compromise; edges refetch on the unknown kid)")
	m, done, err := c.keysManager(ctx, fs, args)
	if err != nil {
		return err
	}
	defer done()
	k, err := m.Rotate(ctx, keys.RotateOptions{Immediate: *immediate})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "key %s (%s) is %s; it signs from %s\n", k.KID, k.Alg, k.State, k.ActivateAt.UTC().Format(time.RFC3339))
	return nil
}

// keysList prints the stored keys. It only reads: no keys.Manager (whose start-up
// advances the lifecycle: it may create, activate, retire or re-seal keys), so it
// needs only database_url, not the KEK.
func (c *cli) keysList(ctx context.Context, args []string) error {
	fs := c.flags("keys list", "keys list [flags]\n\nLists the signing keys as stored; changes nothing.")
	cfg, err := c.parse(fs, args, onlyDatabase)
	if err != nil {
		return err
	}
	pool, err := c.connect(ctx, cfg, c.logger(cfg))
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := refuseNewerSchema(ctx, pool); err != nil {
		return err
	}
	list, err := keys.List(ctx, pool)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tSIGNS FROM\tRETIRED\tUNPUBLISHED")
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range list {
		act := k.ActivatedAt
		if act.IsZero() {
			act = k.ActivateAt
		}
		gone := k.RemovedAt
		if gone.IsZero() {
			gone = k.RemoveAt
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Alg, k.State, ts(k.CreatedAt), ts(act), ts(k.RetiredAt), ts(gone))
	}
	return tw.Flush()
}

// edgeConfigRelevant: the keys config.EdgeConfig is derived from.
func edgeConfigRelevant(key string) bool {
	switch key {
	case "public_url", "issuer", "audience", "login_path":
		return true
	}
	return strings.HasPrefix(key, "cookies.")
}

// edgeConfig prints the document GET /.well-known/edgeauth/edge-config serves, from
// the configuration alone (no database).
func (c *cli) edgeConfig(args []string) error {
	fs := c.flags("edge-config", "edge-config [flags]\n\nPrints the edge configuration (JSON) the server publishes at\n/.well-known/edgeauth/edge-config, from the configuration alone (no database).")
	fs.String("public-url", "", "origin browsers use, e.g. https://auth.example.com (public_url)")
	cfg, err := c.parse(fs, args, edgeConfigRelevant)
	if err != nil {
		return err
	}
	_, err = c.stdout.Write(cfg.EdgeConfigDocument())
	return err
}
