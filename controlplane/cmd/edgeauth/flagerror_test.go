package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A command-line mistake is reported by the flag's name (or the command's) alone: the
// rest of the argument, a flag's value and a stray word may be a password or a secret,
// and stderr is often captured (CI, journald).
func TestCommandLineMistakesDoNotEchoArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string // what stderr must say
	}{
		{"unknown shorthand", []string{"serve", "-pKp4Mn8secret"}, "unknown shorthand flag: -p"},
		{"unknown shorthand after a known one", []string{"serve", "--dev", "-xKp4Mn8secret"}, "unknown shorthand flag: -x"},
		{"invalid value", []string{"serve", "--dev=Kp4Mn8secret"}, "invalid value for --dev"},
		{"invalid value of a known flag, another command", []string{"keys", "rotate", "--immediate=Kp4Mn8secret"}, "invalid value for --immediate"},
		{"bad syntax", []string{"serve", "---Kp4Mn8secret"}, "bad flag syntax"},
		{"bad syntax with =", []string{"serve", "--=Kp4Mn8secret"}, "bad flag syntax"},
		{"unknown flag with a value", []string{"serve", "--password=Kp4Mn8secret"}, "unknown flag: --password"},
		{"unknown flag whose name is not a name", []string{"serve", "--Kp4Mn8 secret"}, "unknown flag"},
		{"missing value", []string{"serve", "--database-url"}, "flag needs an argument: --database-url"},
		{"unknown command", []string{"Kp4Mn8secret", "--x"}, "unknown command"},
		{"unknown subcommand", []string{"users", "Kp4Mn8secret"}, "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, strings.NewReader(""), &out, &errb, nil)
			if code != 2 {
				t.Fatalf("exit %d, want 2: %s", code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("stderr %q does not say %q", errb.String(), tc.want)
			}
			if strings.Contains(errb.String()+out.String(), "Kp4Mn8") {
				t.Fatalf("the argument is echoed: %q", errb.String())
			}
		})
	}
}

// A login name that is not text (a NUL byte, invalid UTF-8, a control character) can
// name no account, and PostgreSQL refuses a NUL in text: every users command that takes
// --email refuses it as a command-line mistake (exit 2), before it reads a password or
// connects (nothing listens at this database URL), and without echoing it.
func TestUsersCommandsRefuseALoginNameThatIsNotText(t *testing.T) {
	t.Parallel()
	env := []string{"EDGEAUTH_DATABASE_URL=postgres://postgres@127.0.0.1:1/nothing-listens?connect_timeout=5"}
	for _, cmd := range []string{"create", "set-password", "logout", "disable", "enable", "delete", "mfa-reset"} {
		for what, name := range map[string]string{"NUL": "Kp4Mn8\x00@example.test", "invalid UTF-8": "Kp4Mn8\xff@example.test", "newline": "Kp4Mn8\n@example.test"} {
			t.Run(cmd+" "+what, func(t *testing.T) {
				var out, errb bytes.Buffer
				code := run(context.Background(), []string{"users", cmd, "--email", name}, strings.NewReader(ownerPassword+"\n"), &out, &errb, env)
				if code != 2 || !strings.Contains(errb.String(), "--email is not text") {
					t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
				}
				if strings.Contains(errb.String()+out.String(), "Kp4Mn8") {
					t.Fatalf("the name is echoed: %q", errb.String())
				}
			})
		}
	}
}
