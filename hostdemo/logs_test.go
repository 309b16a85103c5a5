package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/syncbuf"
)

// A control plane (or upstream) URL with credentials in it, basic auth in front of
// the control plane, never reaches the edge's log or its start-up errors: not the
// "edge listening" line, not the poll failures, not a refused flag.
func TestBinaryLogsHoldNoURLPassword(t *testing.T) {
	const password = "Cp-Basic-Passw0rd"
	cp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "who are you", http.StatusUnauthorized)
	}))
	defer cp.Close()
	u, err := url.Parse(cp.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("edge", password)

	var logs syncbuf.Buffer
	cmd := exec.Command(binary, "--listen", "127.0.0.1:0", "--control-plane", u.String())
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "401") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	out := logs.String()
	if !strings.Contains(out, "edge listening") || !strings.Contains(out, "401") {
		t.Fatalf("the binary did not report the refused fetch:\n%s", out)
	}

	for _, args := range [][]string{
		{"--control-plane", "http://edge:" + password + "@127.0.0.1:bad"},
		{"--control-plane", "edge:" + password + "@127.0.0.1"},
		{"--upstream", "http://app:" + password + "@127.0.0.1:bad"},
	} {
		b, err := exec.Command(binary, append([]string{"--listen", "127.0.0.1:0"}, args...)...).CombinedOutput()
		if err == nil {
			t.Errorf("%q accepted", args)
		}
		out += string(b)
	}
	if strings.Contains(out, password) {
		t.Fatalf("a URL's password reached the edge's log or errors:\n%s", out)
	}
}

// A --ws PATH=URL refused at start-up does not repeat the URL's password: the flag
// package quotes a refused value whole, and start-up errors reach the deploy's log.
func TestBinaryWebSocketFlagErrorsHoldNoURLPassword(t *testing.T) {
	const password = "Ws-Basic-Passw0rd"
	var out string
	for _, ws := range []string{
		"/live=ws://chat:" + password + "@127.0.0.1:bad",
		"/live=ftp://chat:" + password + "@127.0.0.1/socket",
		"live=ws://chat:" + password + "@127.0.0.1/socket",
		"ws://chat:" + password + "@127.0.0.1/socket",
		"ws://chat:" + password + "=@127.0.0.1/socket",
	} {
		b, err := exec.Command(binary, "--listen", "127.0.0.1:0", "--ws", ws).CombinedOutput()
		if err == nil {
			t.Errorf("--ws %q accepted", ws)
		}
		if !strings.Contains(string(b), "--ws") && !strings.Contains(string(b), "-ws") {
			t.Errorf("--ws %q: the refusal does not name the flag:\n%s", ws, b)
		}
		out += string(b)
	}
	if strings.Contains(out, password) {
		t.Fatalf("a --ws URL's password reached the edge's errors:\n%s", strings.ReplaceAll(out, password, "<secret>"))
	}
}

// A secret in an operator URL's query (a gateway's ?key= in front of the control
// plane, an upstream's ?token=) never reaches the edge's log or its start-up errors:
// not the "edge listening" line, not the failing polls, not a refused flag. The keys
// stay, to say which URL it is.
func TestBinaryLogsHoldNoURLQueryValue(t *testing.T) {
	const secret = "Url-Query-S3cret"
	cp := "http://" + freeAddr(t) + "/?key=" + secret // nothing listens there
	cmd := exec.Command(binary, "--listen", "127.0.0.1:0", "--control-plane", cp,
		"--upstream", "http://"+freeAddr(t)+"/?token="+secret, "--ws", "/live=ws://"+freeAddr(t)+"/socket?token="+secret)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var out strings.Builder
	lines := bufio.NewScanner(stderr)
	for lines.Scan() { // ends when the binary does, or at the first failed poll
		out.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "not reachable yet") {
			break
		}
	}
	if !strings.Contains(out.String(), "edge listening") || !strings.Contains(out.String(), "connection refused") ||
		!strings.Contains(out.String(), "key=") {
		t.Fatalf("the binary did not report its control plane and the failed poll:\n%s", strings.ReplaceAll(out.String(), secret, "<secret>"))
	}

	for _, args := range [][]string{
		{"--control-plane", "http://127.0.0.1:bad/?key=" + secret},
		{"--upstream", "http://127.0.0.1:bad/?token=" + secret},
		{"--ws", "/live=ftp://127.0.0.1/socket?token=" + secret},
	} {
		b, err := exec.Command(binary, append([]string{"--listen", "127.0.0.1:0"}, args...)...).CombinedOutput()
		if err == nil {
			t.Errorf("%q accepted", args)
		}
		out.Write(b)
	}
	if strings.Contains(out.String(), secret) {
		t.Fatalf("a URL's query value reached the edge's log or errors:\n%s", strings.ReplaceAll(out.String(), secret, "<secret>"))
	}
}

// A --ws PATH that http.ServeMux would not take as the literal path (a wildcard, a
// method before it) or that another route already has (the edge's own /, /auth/,
// /.well-known/, another --ws) is refused at start-up with an error naming the flag,
// not a panic and a goroutine dump from the mux.
func TestBinaryWebSocketFlagRefusesPathsTheMuxCannotTake(t *testing.T) {
	const up = "=ws://127.0.0.1:9/socket"
	for _, ws := range [][]string{
		{"/auth/" + up},
		{"/.well-known/" + up},
		{"/" + up},
		{"/live" + up, "/live" + up},
		{"/chat/{room}" + up},
		{"/a b" + up},
	} {
		args := []string{"--listen", "127.0.0.1:0", "--control-plane", "http://127.0.0.1:9"}
		for _, w := range ws {
			args = append(args, "--ws", w)
		}
		// Bounded: a PATH taken as a pattern is served, with no control plane, until killed.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		b, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
		cancel()
		if err == nil || strings.Contains(string(b), "panic") || strings.Contains(string(b), "goroutine") ||
			!strings.Contains(string(b), "--ws") {
			t.Errorf("--ws %q: %v, want an error naming --ws:\n%s", ws, err, b)
		}
	}
}
