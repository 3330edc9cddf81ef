package tenantcmd

import (
	"bytes"
	"context"
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
		if err := h.store.Set(tn.Name, []byte(theSecret+"-"+tn.Name)); err != nil {
			t.Fatal(err)
		}
	}
	err = cfg.Update(context.Background(), func(cfg *tenant.Config) error {
		for _, tn := range ts {
			cfg.Put(tn)
		}
		cfg.Default = def
		return nil
	})
	if err != nil {
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
	if got := strings.Join(names, " "); got != "add import list login remove show use" {
		t.Errorf("subcommands: %s", got)
	}
	err := cmdtest.Run(cmd, "bogus")
	if exitCode(err) != 2 {
		t.Errorf("unknown subcommand: %v", err)
	}
}

func TestSecretFlagsDoNotExist(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range []*cobra.Command{NewCmdAdd(h.f, nil), NewCmdImport(h.f, nil), NewCmdLogin(h.f, nil)} {
		for _, name := range []string{"secret", "shared-secret", "password", "client-secret", "token", "refresh-token"} {
			if cmd.Flags().Lookup(name) != nil {
				t.Errorf("%s has a --%s flag: secrets must not be passed in argv", cmd.Name(), name)
			}
		}
	}
}

// putElsewhere adds a tenant to the config file as another jwh process
// would, after this command has loaded the config.
func (h *harness) putElsewhere(t *testing.T, tn tenant.Tenant) {
	t.Helper()
	if _, err := h.config(); err != nil {
		t.Fatal(err)
	}
	cfg, err := tenant.LoadConfig(h.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Update(context.Background(), func(cfg *tenant.Config) error { cfg.Put(tn); return nil })
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunsKeepChangesOfOtherProcesses: every command that changes the
// config starts from the file as it is when it takes the lock, not as it
// was when the command loaded it, so a tenant another jwh added meanwhile
// stays.
func TestRunsKeepChangesOfOtherProcesses(t *testing.T) {
	other := tenant.Tenant{Name: "other", BaseURL: "https://other.example", AppKey: "k"}
	for _, tc := range []struct {
		name string
		run  func(h *harness) error
		want string // the tenants afterwards
	}{
		{"add", func(h *harness) error {
			h.in.WriteString(theSecret)
			return addRun(t.Context(), addOpts(h, "acme", "https://acme.example", "k"))
		}, "acme,beta,other"},
		{"import", func(h *harness) error {
			h.in.WriteString(payload("https://acme.atlassian.net", "ck"))
			return importRun(t.Context(), importOpts(h, "acme", "-"))
		}, "acme,beta,other"},
		{"remove", func(h *harness) error { return removeRun(t.Context(), removeOpts(h, "beta")) }, "other"},
		{"use", func(h *harness) error {
			return useRun(t.Context(), &UseOptions{IO: h.ios, Config: h.config, Name: "beta"})
		}, "beta,other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.seed(t, "", tenant.Tenant{Name: "beta", BaseURL: "https://beta.example", AppKey: "k"})
			h.putElsewhere(t, other)
			if err := tc.run(h); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(h.saved(t).Names(), ","); got != tc.want {
				t.Errorf("tenants %s, want %s", got, tc.want)
			}
			if cfg, _ := h.config(); strings.Join(cfg.Names(), ",") != tc.want {
				t.Errorf("the config in memory holds %v, want %s", cfg.Names(), tc.want)
			}
		})
	}
}

// breakOnSet is a secret store that makes the config file impossible to
// save when the command stores a secret, that is after the command has
// read the config under its lock: the save that follows fails.
type breakOnSet struct {
	tenant.SecretStore
	t     *testing.T
	path  string
	broke bool
}

func (s *breakOnSet) Set(name string, secret []byte) error {
	if !s.broke {
		s.broke = true
		breakConfigFile(s.t, s.path)
	}
	return s.SecretStore.Set(name, secret)
}

// breakConfigFile makes path a directory, so that renaming a saved config
// over it fails.
func breakConfigFile(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
}
