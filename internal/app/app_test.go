package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain", errors.New("boom"), 1},
		{"flag", &cmdutil.FlagError{Err: errors.New("unknown flag")}, 2},
		{"input", cmdutil.InputErrorf("bad JQL"), 2},
		{"credentials", cmdutil.CredentialsErrorf("no secret"), 3},
		{"silent", cmdutil.SilentExit(3), 3},
		{"no tenant", fmt.Errorf("select: %w", tenant.ErrNotFound), 3},
		{"no tenants", tenant.ErrNoTenants, 3},
		{"ambiguous", tenant.ErrAmbiguous, 3},
		{"no secret", tenant.ErrNoSecret, 3},
		{"keyring down", fmt.Errorf("x: %w", tenant.ErrKeyringDown), 3},
		{"jira 401", fmt.Errorf("list: %w", &jira.APIError{Status: 401}), 3},
		{"jira 403", &jira.APIError{Status: 403}, 3},
		{"jira 400", &jira.APIError{Status: 400}, 1},
		{"jira 503", &jira.APIError{Status: 503}, 1},
		{"insecure URL", &transport.InsecureURLError{URL: "http://example.com", Host: "example.com"}, 2},
		{"canceled", fmt.Errorf("get: %w", context.Canceled), 130},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("%s: ExitCode(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

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
