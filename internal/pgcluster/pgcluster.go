// Package pgcluster runs a PostgreSQL cluster of its own in one directory, from the
// server binaries installed on the machine: the private servers of tests that restart
// PostgreSQL (internal/pgtest) and the development database that `edgeauth serve --dev`
// starts when no server answers (internal/devdb).
//
// PostgreSQL refuses to run as root, so when the process is root every server command
// runs as the postgres OS user (runuser), and the directory is given to that user.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoServerBinaries means no PostgreSQL server binaries (initdb, pg_ctl) were found.
var ErrNoServerBinaries = errors.New("pgcluster: no PostgreSQL server binaries found")

// BinDir returns the directory of the PostgreSQL server binaries: EDGEAUTH_PG_BIN when
// set, otherwise the newest /usr/lib/postgresql/<major>/bin holding initdb (Debian's
// layout).
func BinDir() (string, error) {
	if d := os.Getenv("EDGEAUTH_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("%w in EDGEAUTH_PG_BIN=%s", ErrNoServerBinaries, d)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		return "", fmt.Errorf("%w under /usr/lib/postgresql (set EDGEAUTH_PG_BIN)", ErrNoServerBinaries)
	}
	major := func(p string) int { n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p)))); return n }
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	return filepath.Dir(dirs[0]), nil
}

// Cluster is a PostgreSQL cluster living in Dir: the data directory Dir/data, the log
// Dir/server.log and the Unix socket in Dir. It listens on 127.0.0.1 only, with trust
// authentication for the postgres user.
type Cluster struct {
	Dir    string
	BinDir string
	// asPostgres: run the server binaries as the postgres OS user (we are root).
	asPostgres bool
}

// New describes the cluster in dir (which need not exist yet), using the binaries of
// BinDir.
func New(dir string) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &Cluster{Dir: abs, BinDir: bin, asPostgres: os.Geteuid() == 0}, nil
}

// DataDir is the cluster's data directory.
func (c *Cluster) DataDir() string { return filepath.Join(c.Dir, "data") }

// LogFile is the server's log.
func (c *Cluster) LogFile() string { return filepath.Join(c.Dir, "server.log") }

// Initialized reports whether the data directory holds a cluster.
func (c *Cluster) Initialized() bool {
	_, err := os.Stat(filepath.Join(c.DataDir(), "PG_VERSION"))
	return err == nil
}

// Init creates Dir and runs initdb in it (UTF-8, C locale, trust authentication for
// the postgres user). fsync decides whether initdb syncs its files (tests skip it).
func (c *Cluster) Init(ctx context.Context, fsync bool) error {
	// Parents readable by all (the postgres OS user must reach Dir when we are root);
	// Dir itself private to the server's user.
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(c.Dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	if c.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("pgcluster: running as root needs a postgres OS user (PostgreSQL refuses to run as root): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.Dir, uid, gid); err != nil {
			return err
		}
	}
	args := []string{"-D", c.DataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"}
	if !fsync {
		args = append(args, "--no-sync")
	}
	return c.run(ctx, "initdb", args...)
}

// Start starts the server on 127.0.0.1:port and waits until it accepts connections.
// settings are extra server settings ("name=value").
func (c *Cluster) Start(ctx context.Context, port int, settings ...string) error {
	opts := []string{"listen_addresses=127.0.0.1", "port=" + strconv.Itoa(port), "unix_socket_directories=" + c.Dir}
	var o strings.Builder
	for _, s := range append(opts, settings...) {
		o.WriteString(" -c " + s)
	}
	return c.run(ctx, "pg_ctl", "-D", c.DataDir(), "-l", c.LogFile(), "-o", o.String(), "-w", "-t", "60", "start")
}

// Running reports whether the server of this cluster is running (pg_ctl status).
func (c *Cluster) Running(ctx context.Context) bool {
	return c.Initialized() && c.cmd(ctx, "pg_ctl", "-D", c.DataDir(), "status").Run() == nil
}

// Stop stops the server if it runs. mode is pg_ctl's: "fast" (clean) or "immediate"
// (like a crash: no shutdown checkpoint, recovery at the next start).
func (c *Cluster) Stop(ctx context.Context, mode string) error {
	if !c.Running(ctx) {
		return nil
	}
	return c.run(ctx, "pg_ctl", "-D", c.DataDir(), "-m", mode, "-w", "stop")
}

// StopCommand is the shell command that stops this cluster, for messages to people.
func (c *Cluster) StopCommand() string {
	s := filepath.Join(c.BinDir, "pg_ctl") + " -D " + c.DataDir() + " stop"
	if c.asPostgres {
		s = "runuser -u postgres -- " + s
	}
	return s
}

func (c *Cluster) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	bin := filepath.Join(c.BinDir, name)
	if c.asPostgres {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.CommandContext(ctx, bin, args...)
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	out, err := c.cmd(ctx, name, args...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if log, rerr := os.ReadFile(c.LogFile()); rerr == nil && len(log) > 0 {
			msg += "\n" + tail(string(log), 2000)
		}
		return fmt.Errorf("pgcluster: %s: %w\n%s", name, err, msg)
	}
	return nil
}

// URL is a connection URL for database db on a server listening on 127.0.0.1:port.
func URL(port int, db string) string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/" + db + "?sslmode=disable"
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
