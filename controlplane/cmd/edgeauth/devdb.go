package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/devdb"
	"github.com/jackc/pgx/v5"
)

// devDatabaseURL is development mode's database set-up: when database_url is the
// default and nothing answers there, it starts (or reuses) the private development
// cluster (package devdb) and returns the URL of the same database on it. Any other
// URL is returned as it is: a server the user named is never replaced.
func (c *cli) devDatabaseURL(ctx context.Context, url string, log *slog.Logger) (string, error) {
	if url != config.Default().DatabaseURL {
		return url, nil
	}
	pc, err := pgx.ParseConfig(url)
	if err != nil {
		return "", err
	}
	if devdb.Answers(ctx, fmt.Sprintf("%s:%d", pc.Host, pc.Port)) {
		return url, nil
	}
	cl, err := devdb.Start(ctx, c.stderr)
	if err != nil {
		return "", fmt.Errorf("development mode: no PostgreSQL at %s:%d, and the private development cluster did not start: %w", pc.Host, pc.Port, err)
	}
	devURL := cl.URL(pc.Database)
	log.Warn("development mode: no PostgreSQL at the default URL; using the private development cluster (it keeps running; `edgeauth devdb stop` stops it)",
		"dir", cl.Dir, "url", redactURL(devURL), "stop", cl.StopCommand())
	return devURL, nil
}

// devdbCommand manages the private development cluster by hand:
//
//	edgeauth devdb start    create or start it; print the URL of its "postgres" database
//	edgeauth devdb stop     stop it (its data stays for the next start)
//	edgeauth devdb status   where it lives, its URL, and whether it runs
func (c *cli) devdbCommand(ctx context.Context, args []string) error {
	const usage = `Usage: edgeauth devdb start|stop|status

A private PostgreSQL cluster for development (what --dev uses):
  start    create or start it; print the URL of its "postgres" database
  stop     stop it (its data stays for the next start)
  status   where it lives, its URL, and whether it runs
`
	if len(args) != 1 {
		fmt.Fprint(c.stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(c.stdout, usage)
		return nil
	case "start":
		cl, err := devdb.Start(ctx, c.stderr)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, cl.URL("postgres"))
		return nil
	case "stop":
		cl, err := devdb.Existing()
		if err != nil {
			return err
		}
		return cl.Stop(ctx, "fast")
	case "status":
		cl, err := devdb.Existing()
		if err != nil {
			return err
		}
		state := "stopped"
		if cl.Running(ctx) {
			state = "running"
		}
		fmt.Fprintf(c.stdout, "dir    %s\nurl    %s\nstate  %s\nstop   %s\n", cl.Dir, cl.URL("postgres"), state, cl.StopCommand())
		return nil
	}
	fmt.Fprint(c.stderr, "usage: edgeauth devdb start|stop|status\n")
	return errUsage
}
