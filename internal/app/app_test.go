package app

import (
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
