package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// updateScript is the baseline: one single-row UPDATE by primary key, in its own
// transaction (one round trip, one commit).
const updateScript = `\set id random(1, 100000)
UPDATE bench_rows SET n = n + 1, at = now() WHERE id = :id;
`

// pgbenchWarmUp is how long pgbench runs before the measured window. Fresh backends
// first load their catalog caches and plan the statement: on the shared 2-CPU machine,
// 64 of them running the rotation statement did next to nothing for their first ~4 s,
// while the binary's pool is warm from the first round on.
const pgbenchWarmUp = 4 * time.Second

// pgbench runs script with `clients` connections for pgbenchWarmUp and then d (whole
// seconds, at least one), and returns the rate and every latency of the transactions
// that completed in those last d seconds (from its per-transaction log). vars are set
// with -D. total counts every transaction of the run, warm-up included.
func (e *env) pgbench(ctx context.Context, name, script string, clients int, d time.Duration, vars ...string) (s sample, total int, err error) {
	file := filepath.Join(e.dir, name+".sql")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		return sample{}, 0, err
	}
	logDir, err := os.MkdirTemp(e.dir, "pgbench-log-")
	if err != nil {
		return sample{}, 0, err
	}
	defer os.RemoveAll(logDir)
	secs := max(1, int(d.Round(time.Second)/time.Second))
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)),
		"-T", strconv.Itoa(secs + int(pgbenchWarmUp/time.Second)), "-f", file, "-l", "--log-prefix", filepath.Join(logDir, "tx")}
	for _, v := range vars {
		args = append(args, "-D", v)
	}
	cmd := exec.CommandContext(ctx, e.pgbenchPath, append(args, e.dbURL)...)
	cmd.Dir = logDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return sample{}, 0, fmt.Errorf("pgbench %s: %v\n%s", name, err, out)
	}
	if strings.Contains(string(out), "number of failed transactions: ") && !strings.Contains(string(out), "number of failed transactions: 0 ") {
		return sample{}, 0, fmt.Errorf("pgbench %s: transactions failed:\n%s", name, out)
	}
	el := time.Duration(secs) * time.Second
	lat, total, err := pgbenchLatencies(logDir, el)
	if err != nil {
		return sample{}, 0, fmt.Errorf("pgbench %s: %w\n%s", name, err, out)
	}
	return sample{ops: len(lat), elapsed: el, lat: lat}, total, nil
}

// pgbenchLatencies reads pgbench's per-transaction logs: "client_id transaction_no
// time script_no time_epoch time_us", time being the latency in microseconds and
// time_epoch.time_us the completion, and returns the latencies of the transactions
// that completed within `last` of the last completion, and how many completed in all.
func pgbenchLatencies(dir string, last time.Duration) ([]time.Duration, int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "tx.*"))
	if err != nil || len(files) == 0 {
		return nil, 0, fmt.Errorf("no per-transaction log (%v)", err)
	}
	type tx struct {
		lat  time.Duration
		done time.Time
	}
	var all []tx
	var end time.Time
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, 0, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 6 {
				continue
			}
			us, err1 := strconv.ParseInt(fields[2], 10, 64)
			sec, err2 := strconv.ParseInt(fields[4], 10, 64)
			usec, err3 := strconv.ParseInt(fields[5], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				fh.Close()
				return nil, 0, fmt.Errorf("transaction not completed: %q", sc.Text())
			}
			t := tx{lat: time.Duration(us) * time.Microsecond, done: time.Unix(sec, usec*1000)}
			all = append(all, t)
			if t.done.After(end) {
				end = t.done
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, 0, err
		}
	}
	var lat []time.Duration
	for _, t := range all {
		if end.Sub(t.done) < last {
			lat = append(lat, t.lat)
		}
	}
	if len(lat) == 0 {
		return nil, 0, fmt.Errorf("no transaction completed")
	}
	return lat, len(all), nil
}
