// Package devdb is the development database: a private PostgreSQL cluster that
// `edgeauth serve --dev` (and `make run`, `make demo`, `make test`) start when no server
// answers at the default database URL, so a machine with Go but no running PostgreSQL
// still comes up. It is created once, from the installed server binaries, in a
// directory of its own, left running, and reused by every later start. Production
// mode never uses it.
package devdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgcluster"
)

// Dir is where the development cluster lives: $EDGEAUTH_CACHE/postgres when that is
// set; otherwise the user's cache directory (~/.cache/edgeauth/postgres). Root is the
// exception: PostgreSQL refuses to run as root, so the server runs as the postgres OS
// user, which cannot enter /root; root's cluster lives in /var/cache/edgeauth/postgres.
func Dir() (string, error) {
	if d := os.Getenv("EDGEAUTH_CACHE"); d != "" {
		return filepath.Join(d, "postgres"), nil
	}
	if os.Geteuid() == 0 {
		return "/var/cache/edgeauth/postgres", nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("devdb: no cache directory (set EDGEAUTH_CACHE): %w", err)
	}
	return filepath.Join(d, "edgeauth", "postgres"), nil
}

// Cluster is the development cluster and the port it listens on.
type Cluster struct {
	*pgcluster.Cluster
	Port int
}

// URL is the connection URL of database db on the cluster.
func (c *Cluster) URL(db string) string { return pgcluster.URL(c.Port, db) }

// portFile keeps the cluster's port, chosen free when the cluster was created, so
// that its URL stays the same from one start to the next.
const portFile = "port"

// settings: the development cluster keeps its data (fsync stays on) and allows the
// connections a parallel test run opens.
var settings = []string{"max_connections=200"}

// Start makes sure the development cluster runs and returns it. The first call
// creates it (installing Debian's postgresql package first when no server binaries
// exist and the process is root; otherwise the error says what to install); a stopped
// cluster is started; a running one is reused. What it does is written to out.
func Start(ctx context.Context, out io.Writer) (*Cluster, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	pc, err := pgcluster.New(dir)
	if errors.Is(err, pgcluster.ErrNoServerBinaries) {
		if err = installServer(ctx, out); err == nil {
			pc, err = pgcluster.New(dir)
		}
	}
	if err != nil {
		return nil, err
	}
	c := &Cluster{Cluster: pc}
	if !pc.Initialized() {
		fmt.Fprintf(out, "devdb: creating a private PostgreSQL cluster in %s (once)\n", dir)
		if err := pc.Init(ctx, true); err != nil {
			return nil, err
		}
	}
	c.Port = readPort(dir)
	if pc.Running(ctx) && c.Port != 0 {
		return c, nil
	}
	if c.Port == 0 || !portFree(c.Port) {
		if c.Port, err = pgcluster.FreePort(); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, portFile), []byte(strconv.Itoa(c.Port)+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(out, "devdb: starting the private PostgreSQL cluster in %s on 127.0.0.1:%d\n", dir, c.Port)
	if err := pc.Start(ctx, c.Port, settings...); err != nil {
		return nil, err
	}
	return c, nil
}

// Existing returns the development cluster if it has been created, without starting
// or creating anything.
func Existing() (*Cluster, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	pc, err := pgcluster.New(dir)
	if err != nil {
		return nil, err
	}
	if !pc.Initialized() {
		return nil, fmt.Errorf("devdb: no development cluster in %s", dir)
	}
	return &Cluster{Cluster: pc, Port: readPort(dir)}, nil
}

// Answers reports whether something accepts TCP connections at host:port (a quick
// check before deciding to start the development cluster).
func Answers(ctx context.Context, hostport string) bool {
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func readPort(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, portFile))
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return p
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// installServer installs Debian's postgresql package when running as root; otherwise
// it returns an error naming the one command that does.
func installServer(ctx context.Context, out io.Writer) error {
	const pkg = "postgresql"
	if os.Geteuid() != 0 {
		return fmt.Errorf("devdb: no PostgreSQL server binaries; install them with `sudo apt-get install -y %s` "+
			"(or set database_url to a running server)", pkg)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("devdb: no PostgreSQL server binaries and no apt-get: install PostgreSQL, or set database_url to a running server")
	}
	fmt.Fprintf(out, "devdb: no PostgreSQL server binaries: running apt-get install -y %s\n", pkg)
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "--no-install-recommends", pkg}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("devdb: apt-get %s: %w", args[0], err)
		}
	}
	return nil
}
