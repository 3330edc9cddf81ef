package app

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func testFactory(t *testing.T) (*cmdutil.Factory, func() (string, string)) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == tenant.EnvConfig {
			return dir + "/config.json"
		}
		return ""
	}
	f := &cmdutil.Factory{
		IOStreams: ios,
		Version:   "1.2.3",
		Getenv:    getenv,
		Now:       time.Now,
		Config:    cmdutil.LoadConfigOnce(getenv),
		Secrets:   func() tenant.SecretStore { return tenant.NewMemoryStore() },
	}
	return f, func() (string, string) { return out.String(), errOut.String() }
}

func TestRunUsageError(t *testing.T) {
	f, output := testFactory(t)
	code := Run(f, []string{"list", "--bogus"})
	out, errOut := output()
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}
	want := "jwh: unknown flag: --bogus\nRun 'jwh list --help' for usage.\n"
	if errOut != want {
		t.Errorf("stderr = %q, want %q", errOut, want)
	}
}

func TestRunNoTenant(t *testing.T) {
	f, output := testFactory(t)
	code := Run(f, []string{"list"})
	_, errOut := output()
	if code != 3 {
		t.Errorf("exit status %d, want 3", code)
	}
	if !strings.HasPrefix(errOut, "jwh: ") || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "jwh tenant") {
		t.Errorf("stderr = %q, want one line that says how to add a tenant", errOut)
	}
}

func TestRunBadOutputFormat(t *testing.T) {
	f, output := testFactory(t)
	if code := Run(f, []string{"version", "-o", "yaml"}); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if _, errOut := output(); !strings.Contains(errOut, "use table or json") {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestRunUnknownCommand(t *testing.T) {
	f, output := testFactory(t)
	code := Run(f, []string{"lis"})
	out, errOut := output()
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}
	want := "jwh: unknown command \"lis\" for \"jwh\": did you mean list or listen?\nRun 'jwh --help' for usage.\n"
	if errOut != want {
		t.Errorf("stderr = %q, want %q", errOut, want)
	}
}

func TestRunNoCommandPrintsHelp(t *testing.T) {
	f, output := testFactory(t)
	if code := Run(f, nil); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if out, _ := output(); !strings.Contains(out, "Available Commands:") {
		t.Errorf("stdout = %q, want the help", out)
	}
}

func TestRunBadFlagValue(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"list", "--max-results", "abc"}, `jwh: invalid value "abc" for --max-results: use a whole number`},
		{[]string{"list", "--start-at", "99999999999999999999"}, `jwh: invalid value "99999999999999999999" for --start-at: use a smaller number`},
		{[]string{"listen", "--leeway", "soon"}, `jwh: invalid value "soon" for --leeway: use a duration such as 30s, 5m or 1h`},
		{[]string{"sandbox", "--retry-scale", "fast"}, `jwh: invalid value "fast" for --retry-scale: use a number`},
	}
	for _, tt := range tests {
		f, output := testFactory(t)
		code := Run(f, tt.args)
		out, errOut := output()
		if code != 2 || out != "" {
			t.Errorf("%v: exit status %d, stdout %q; want 2 and nothing", tt.args, code, out)
		}
		if first, _, _ := strings.Cut(errOut, "\n"); first != tt.want {
			t.Errorf("%v: stderr = %q, want first line %q", tt.args, errOut, tt.want)
		}
	}
}

func TestRunVersionJSON(t *testing.T) {
	f, output := testFactory(t)
	if code := Run(f, []string{"version", "-o", "json"}); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	out, _ := output()
	var v map[string]string
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("stdout %q is not JSON: %v", out, err)
	}
	if v["version"] != "1.2.3" || v["go"] == "" || v["os"] == "" || v["arch"] == "" {
		t.Errorf("version JSON = %v", v)
	}
}

// Commands that need no tenant never load the config file nor touch the
// keyring (which may block on an unlock prompt, or have no Secret Service).
func TestOfflineCommandsTouchNoConfigNorKeyring(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"version"}, 0},
		{[]string{"version", "-o", "json"}, 0},
		{[]string{"--version"}, 0},
		{[]string{"--help"}, 0},
		{[]string{"tenant", "--help"}, 0},
		{[]string{"completion", "bash"}, 0},
		{[]string{"validate", "--jql", "project = PRJ AND status = Done", "--event", "jira:issue_updated"}, 0},
		{[]string{"validate", "--jql", "project = = PRJ"}, 2},
	} {
		ios, _, _, errOut := iostreams.Test()
		f := &cmdutil.Factory{
			IOStreams: ios,
			Version:   "1.2.3",
			Getenv:    func(string) string { return "" },
			Now:       time.Now,
			Config: func() (*tenant.Config, error) {
				t.Errorf("%q loaded the config", tc.args)
				return nil, errors.New("no config in this test")
			},
			Secrets: func() tenant.SecretStore {
				t.Errorf("%q asked for the keyring", tc.args)
				return tenant.NewMemoryStore()
			},
		}
		if code := Run(f, tc.args); code != tc.code {
			t.Errorf("%q: exit %d, want %d; stderr %q", tc.args, code, tc.code, errOut.String())
		}
	}
}

// TestRunErrorJSON: with -o json, an error is one JSON object on one line
// of stderr, whatever its kind, with nothing else.
func TestRunErrorJSON(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		message string // a prefix of it
		code    int
		kind    string
	}{
		{[]string{"list", "-o", "json", "--bogus"}, "unknown flag: --bogus", 2, "usage"},
		{[]string{"-o", "json", "lis"}, `unknown command "lis" for "jwh": did you mean list or listen?`, 2, "usage"},
		{[]string{"list", "-o", "json"}, "no tenants configured: ", 3, "credentials"},
		{[]string{"validate", "--file", "/nonexistent/x.json", "-o", "json"}, "cannot read /nonexistent/x.json: no such file or directory", 2, "input"},
		{[]string{"register", "--file", "-", "-o", "json"}, `standard input: empty: want a JSON object {"url": ..., "webhooks": [...]}`, 2, "input"},
	} {
		f, output := testFactory(t)
		code := Run(f, tc.args)
		out, errOut := output()
		if code != tc.code || out != "" {
			t.Errorf("%q: exit %d, stdout %q; want %d and nothing", tc.args, code, out, tc.code)
		}
		var obj struct {
			Error struct {
				Message  string `json:"message"`
				ExitCode int    `json:"exitCode"`
				Kind     string `json:"kind"`
			} `json:"error"`
		}
		dec := json.NewDecoder(strings.NewReader(errOut))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&obj); err != nil || strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "}\n") {
			t.Errorf("%q: stderr %q is not one error object on one line (%v)", tc.args, errOut, err)
			continue
		}
		if e := obj.Error; !strings.HasPrefix(e.Message, tc.message) || e.ExitCode != tc.code || e.Kind != tc.kind {
			t.Errorf("%q: %+v, want %q..., %d, %s", tc.args, e, tc.message, tc.code, tc.kind)
		}
	}

	// Flags are parsed in order: a usage error before -o is told as text.
	f, output := testFactory(t)
	if code := Run(f, []string{"list", "--bogus", "-o", "json"}); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if _, errOut := output(); !strings.HasPrefix(errOut, "jwh: unknown flag: --bogus\n") {
		t.Errorf("stderr %q", errOut)
	}
}

// TestRunInterrupted: a command that fails once Ctrl-C or SIGTERM has
// canceled its context exits 130 with "jwh: interrupted", whatever its own
// error says.
func TestRunInterrupted(t *testing.T) {
	for _, tc := range []struct {
		json bool
		want string
	}{
		{false, "jwh: interrupted\n"},
		{true, `{"error":{"message":"interrupted","exitCode":130,"kind":"interrupted"}}` + "\n"},
	} {
		f, output := testFactory(t)
		// Once the context is canceled, the command's own error (here:
		// no tenants) is not what the user needs to hear.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		args := []string{"list"}
		if tc.json {
			args = append(args, "-o", "json")
		}
		code := run(ctx, f, args, func(ctx context.Context) context.Context { return ctx })
		out, errOut := output()
		if code != 130 || out != "" || errOut != tc.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 130, nothing and %q", args, code, out, errOut, tc.want)
		}
	}
}

// TestRunAsksForSignalsWhenACommandRuns: run derives the command's context
// (Run's: one that SIGINT and SIGTERM cancel) once a command starts to
// run, and only then: help, --version, usage errors and the commands that
// never wait end without it, as asking for signals costs a thread.
func TestRunAsksForSignalsWhenACommandRuns(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 0},
		{[]string{"--help"}, 0},
		{[]string{"list", "--help"}, 0},
		{[]string{"tenant", "add", "-h"}, 0},
		{[]string{"--version"}, 0},
		{[]string{"list", "--bogus"}, 0},
		{[]string{"version", "-o", "yaml"}, 0},
		{[]string{"version"}, 0},
		{[]string{"completion", "bash"}, 0},
		{[]string{"list"}, 1},
		{[]string{"validate", "--jql", "project = A"}, 1},
		{[]string{"tenant", "list"}, 1},
	} {
		f, _ := testFactory(t)
		calls := 0
		run(context.Background(), f, tc.args, func(ctx context.Context) context.Context {
			calls++
			return ctx
		})
		if calls != tc.want {
			t.Errorf("%q: the command's context was derived %d times, want %d", tc.args, calls, tc.want)
		}
	}
}
