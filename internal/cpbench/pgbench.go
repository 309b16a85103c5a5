package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// updateScript is the baseline: one single-row UPDATE by primary key, in its own
// transaction (one round trip, one commit).
const updateScript = `\set id random(1, 100000)
UPDATE bench_rows SET n = n + 1, at = now() WHERE id = :id;
`

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs script with `clients` connections for d (whole seconds, at least one)
// and returns its rate and every transaction's latency (from its per-transaction log).
// vars are set with -D.
func (e *env) pgbench(ctx context.Context, name, script string, clients int, d time.Duration, vars ...string) (sample, error) {
	file := filepath.Join(e.dir, name+".sql")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		return sample{}, err
	}
	logDir, err := os.MkdirTemp(e.dir, "pgbench-log-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(logDir)
	secs := max(1, int(d.Round(time.Second)/time.Second))
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)),
		"-T", strconv.Itoa(secs), "-f", file, "-l", "--log-prefix", filepath.Join(logDir, "tx")}
	for _, v := range vars {
		args = append(args, "-D", v)
	}
	cmd := exec.CommandContext(ctx, e.pgbenchPath, append(args, e.dbURL)...)
	cmd.Dir = logDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return sample{}, fmt.Errorf("pgbench %s: %v\n%s", name, err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return sample{}, fmt.Errorf("pgbench %s: no tps in its output:\n%s", name, out)
	}
	if strings.Contains(string(out), "number of failed transactions: ") && !strings.Contains(string(out), "number of failed transactions: 0 ") {
		return sample{}, fmt.Errorf("pgbench %s: transactions failed:\n%s", name, out)
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	lat, err := pgbenchLatencies(logDir)
	if err != nil {
		return sample{}, fmt.Errorf("pgbench %s: %w", name, err)
	}
	el := time.Duration(secs) * time.Second
	return sample{ops: int(tps * el.Seconds()), elapsed: el, lat: lat}, nil
}

// pgbenchLatencies reads pgbench's per-transaction logs: "client_id transaction_no
// time script_no time_epoch time_us", time being the latency in microseconds.
func pgbenchLatencies(dir string) ([]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(dir, "tx.*"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no per-transaction log (%v)", err)
	}
	var lat []time.Duration
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				fh.Close()
				return nil, fmt.Errorf("transaction not completed: %q", sc.Text())
			}
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return lat, nil
}
