package tenantcmd

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// theSecret is the shared secret of the tests; it must never appear in
// output or in the config file.
const theSecret = "SECRET-b6f1c0ffee"

// env is a fake environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// harness holds the dependencies of one command run.
type harness struct {
	ios             *iostreams.IOStreams
	in, out, errOut *bytes.Buffer
	env             env
	store           tenant.SecretStore
	cfgPath         string
	config          func() (*tenant.Config, error)
	f               *cmdutil.Factory
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	h := &harness{
		ios: ios, in: in, out: out, errOut: errOut,
		env:     env{},
		store:   tenant.NewMemoryStore(),
		cfgPath: filepath.Join(t.TempDir(), "jwh", "config.json"),
	}
	h.env[tenant.EnvConfig] = h.cfgPath
	h.config = cmdutil.LoadConfigOnce(h.env.get)
	h.f = &cmdutil.Factory{
		IOStreams: ios,
		Getenv:    h.env.get,
		Config:    h.config,
		Secrets:   func() tenant.SecretStore { return h.store },
	}
	t.Cleanup(func() { h.checkNoSecret(t) })
	return h
}

// checkNoSecret fails the test if the secret shows in any output or in the
// config file.
func (h *harness) checkNoSecret(t *testing.T) {
	t.Helper()
	b, _ := os.ReadFile(h.cfgPath)
	for where, s := range map[string]string{"stdout": h.out.String(), "stderr": h.errOut.String(), "config file": string(b)} {
		if strings.Contains(s, theSecret) {
			t.Errorf("the secret appears in %s:\n%s", where, s)
		}
	}
}

// seed saves tenants to the config file and their secrets to the store,
// then drops the cached config so that the command loads the file.
func (h *harness) seed(t *testing.T, def string, ts ...tenant.Tenant) {
	t.Helper()
	cfg, err := tenant.LoadConfig(h.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range ts {
		cfg.Put(tn)
		if err := h.store.Set(tn.Name, []byte(theSecret+"-"+tn.Name)); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Default = def
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	h.config = cmdutil.LoadConfigOnce(h.env.get)
	h.f.Config = h.config
}

// saved reads the config file back.
func (h *harness) saved(t *testing.T) *tenant.Config {
	t.Helper()
	cfg, err := tenant.LoadConfig(h.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// exitCode is the exit status a user would see for err.
func exitCode(err error) int { return cmdutil.ExitCode(err) }

// downStore is a keyring that cannot be reached.
type downStore struct{}

func (downStore) Get(name string) ([]byte, error) {
	return nil, &tenant.KeyringError{Op: "read", Name: name, Err: errors.New("dbus: no session bus")}
}

func (downStore) Set(name string, secret []byte) error {
	return &tenant.KeyringError{Op: "store", Name: name, Err: errors.New("dbus: no session bus")}
}

func (downStore) Delete(name string) error {
	return &tenant.KeyringError{Op: "delete", Name: name, Err: errors.New("dbus: no session bus")}
}

func TestNewCmdTenant(t *testing.T) {
	h := newHarness(t)
	cmd := NewCmdTenant(h.f)
	var names []string
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
	}
	if got := strings.Join(names, " "); got != "add import list remove show use" {
		t.Errorf("subcommands: %s", got)
	}
	err := cmdtest.Run(cmd, "bogus")
	if exitCode(err) != 2 {
		t.Errorf("unknown subcommand: %v", err)
	}
}

func TestSecretFlagsDoNotExist(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range []*cobra.Command{NewCmdAdd(h.f, nil), NewCmdImport(h.f, nil)} {
		for _, name := range []string{"secret", "shared-secret", "password"} {
			if cmd.Flags().Lookup(name) != nil {
				t.Errorf("%s has a --%s flag: secrets must not be passed in argv", cmd.Name(), name)
			}
		}
	}
}
