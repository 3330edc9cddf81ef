package sandboxcmd_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestCorruptStateFile(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	const content = `{"version":1,"nextWebhookId":`
	if err := os.WriteFile(state, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, out, errOut := iostreams.Test()
	getenv := func(string) string { return "" }
	f := &cmdutil.Factory{
		IOStreams: ios, Getenv: getenv, Now: time.Now,
		Config:  cmdutil.LoadConfigOnce(getenv),
		Secrets: func() tenant.SecretStore { return tenant.NewMemoryStore() },
	}
	code := app.Run(f, []string{"sandbox", "--state", state})
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	want := "jwh: sandbox: corrupt sandbox state file " + state + ": unexpected EOF: fix it, or move it away to start with an empty sandbox\n"
	if errOut.String() != want || out.Len() != 0 {
		t.Errorf("stderr %q, want %q; stdout %q", errOut.String(), want, out.String())
	}
	if b, _ := os.ReadFile(state); string(b) != content {
		t.Errorf("the corrupt file was rewritten: %q", b)
	}
}
