package tenantcmd

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdAdd(t *testing.T) {
	cmdtest.Flags(t, cmdtest.InGroup("tenant", NewCmdAdd), []cmdtest.Case[AddOptions]{
		{Args: "acme --base-url https://acme.atlassian.net/ --app-key ' com.example.app ' --client-key ck -o json",
			Want: AddOptions{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: "ck", JSON: true}},
		{Args: "acme", Want: AddOptions{Name: "acme"}}, // an update with no flags
		{Args: "acme --base-url https://acme.atlassian.net --app-key k --no-keyring",
			Want: AddOptions{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "k", NoKeyring: true}},
		{Args: "", WantErr: "missing tenant name"},
		{Args: "a b", WantErr: `unexpected argument "b"`},
		{Args: "'a b'", WantErr: `invalid tenant name "a b": use letters, digits, '.', '-' and '_', starting with a letter or digit`},
		{Args: "acme --base-url http://acme.example --app-key k",
			WantErr: `base URL "http://acme.example": plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https`},
		{Args: "local --base-url http://LOCALHOST.:8080/ --app-key k",
			Want: AddOptions{Name: "local", BaseURL: "http://localhost:8080", AppKey: "k"}},
		{Args: "acme --app-key ' '", WantErr: "--app-key is empty"},
		{Args: "acme --secret x", WantErr: "unknown flag: --secret"},
	})
}

func addOpts(h *harness, name, baseURL, appKey string) *AddOptions {
	return &AddOptions{
		IO: h.ios, Config: h.config, Secrets: func() tenant.SecretStore { return h.store },
		Name: name, BaseURL: baseURL, AppKey: appKey,
	}
}

func TestAddRun(t *testing.T) {
	h := newHarness(t)
	h.in.WriteString(theSecret + "\n")
	opts := addOpts(h, "acme", "https://acme.atlassian.net", "com.example.app")
	opts.ClientKey = "ck-acme"
	if err := addRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	secret, err := h.store.Get("acme")
	if err != nil || string(secret) != theSecret {
		t.Fatalf("stored secret %q, %v", secret, err)
	}
	cfg := h.saved(t)
	if cfg.Default != "acme" || len(cfg.Tenants) != 1 ||
		!reflect.DeepEqual(cfg.Tenants[0], tenant.Tenant{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: "ck-acme"}) {
		t.Errorf("config: %+v", cfg)
	}
	if fi, _ := os.Stat(h.cfgPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v", fi.Mode())
	}
	if h.out.Len() != 0 {
		t.Errorf("stdout: %q", h.out)
	}
	want := "✓ Added tenant acme (https://acme.atlassian.net)\n" +
		"Secret stored in the keyring (service jwh, user acme)\n" +
		"acme is the default tenant\n"
	if h.errOut.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", h.errOut, want)
	}

	// A second tenant is not made the default.
	h.errOut.Reset()
	h.in.WriteString(theSecret + "-beta")
	if err := addRun(t.Context(), addOpts(h, "beta", "https://beta.example", "com.example.app")); err != nil {
		t.Fatal(err)
	}
	if cfg := h.saved(t); cfg.Default != "acme" || len(cfg.Tenants) != 2 {
		t.Errorf("config: %+v", cfg)
	}
	if strings.Contains(h.errOut.String(), "default") {
		t.Errorf("stderr: %s", h.errOut)
	}
}

func TestAddRunUpdate(t *testing.T) {
	h := newHarness(t)
	h.seed(t, "acme", tenant.Tenant{Name: "acme", BaseURL: "https://acme.example", AppKey: "old", ClientKey: "ck"})
	h.in.WriteString(theSecret + "-new\r\n")
	opts := addOpts(h, "acme", "", "new")
	if err := addRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if secret, _ := h.store.Get("acme"); string(secret) != theSecret+"-new" {
		t.Errorf("secret not replaced (or newline kept): %q", secret)
	}
	if got := h.saved(t).Tenants[0]; !reflect.DeepEqual(got, tenant.Tenant{Name: "acme", BaseURL: "https://acme.example", AppKey: "new", ClientKey: "ck"}) {
		t.Errorf("tenant: %+v", got)
	}
	if !strings.HasPrefix(h.errOut.String(), "✓ Updated tenant acme (https://acme.example)\n") || strings.Contains(h.errOut.String(), "default") {
		t.Errorf("stderr: %s", h.errOut)
	}
}

func TestAddRunJSON(t *testing.T) {
	h := newHarness(t)
	h.in.WriteString(theSecret)
	opts := addOpts(h, "acme", "https://acme.example", "k")
	opts.JSON = true
	if err := addRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	want := `{
  "name": "acme",
  "kind": "connect",
  "site": "https://acme.example",
  "baseUrl": "https://acme.example",
  "appKey": "k",
  "clientKey": "",
  "clientId": "",
  "cloudId": "",
  "scopes": [],
  "storage": "keyring",
  "default": true,
  "updated": false,
  "secretStored": true
}
`
	if h.out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", h.out, want)
	}
}

func TestAddRunErrors(t *testing.T) {
	t.Run("new tenant needs base URL and app key", func(t *testing.T) {
		h := newHarness(t)
		h.in.WriteString(theSecret)
		err := addRun(t.Context(), addOpts(h, "acme", "", "k"))
		if err == nil || err.Error() != "missing --base-url: required for a new tenant" || exitCode(err) != 2 {
			t.Errorf("got %v", err)
		}
		err = addRun(t.Context(), addOpts(h, "acme", "https://acme.example", ""))
		if err == nil || err.Error() != "missing --app-key: required for a new tenant" || exitCode(err) != 2 {
			t.Errorf("got %v", err)
		}
		if _, err := os.Stat(h.cfgPath); !errors.Is(err, os.ErrNotExist) {
			t.Error("config written")
		}
	})
	t.Run("empty secret piped", func(t *testing.T) {
		h := newHarness(t)
		h.in.WriteString(" \n")
		err := addRun(t.Context(), addOpts(h, "acme", "https://acme.example", "k"))
		if err == nil || err.Error() != "empty shared secret: pipe the app's shared secret for acme on standard input" || exitCode(err) != 2 {
			t.Errorf("got %v", err)
		}
		if _, err := h.store.Get("acme"); !errors.Is(err, tenant.ErrNoSecret) {
			t.Error("secret stored")
		}
		if _, err := os.Stat(h.cfgPath); !errors.Is(err, os.ErrNotExist) {
			t.Error("config written")
		}
	})
	t.Run("empty secret typed", func(t *testing.T) {
		h := newHarness(t)
		h.ios.SetStdinTTY(true)
		err := addRun(t.Context(), addOpts(h, "acme", "https://acme.example", "k"))
		if err == nil || err.Error() != "empty shared secret: type the app's shared secret for acme" || exitCode(err) != 2 {
			t.Errorf("got %v", err)
		}
	})
	t.Run("keyring down", func(t *testing.T) {
		h := newHarness(t)
		h.store = downStore{}
		h.in.WriteString(theSecret)
		err := addRun(t.Context(), addOpts(h, "acme", "https://acme.example", "k"))
		want := `keyring unavailable: cannot store the secret of tenant "acme": dbus: no session bus; start or unlock a Secret Service (e.g. gnome-keyring), or run 'jwh tenant add acme --no-keyring' and set JWH_SHARED_SECRET when running jwh`
		if err == nil || err.Error() != want || !errors.Is(err, tenant.ErrKeyringDown) || exitCode(err) != 3 {
			t.Errorf("got  %v\nwant %s", err, want)
		}
		if _, err := os.Stat(h.cfgPath); !errors.Is(err, os.ErrNotExist) {
			t.Error("config written although the secret was not stored")
		}
	})
	t.Run("damaged config", func(t *testing.T) {
		h := newHarness(t)
		if err := os.MkdirAll(strings.TrimSuffix(h.cfgPath, "config.json"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(h.cfgPath, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
		h.in.WriteString(theSecret)
		err := addRun(t.Context(), addOpts(h, "acme", "https://acme.example", "k"))
		var de *tenant.DamagedConfigError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), h.cfgPath) || exitCode(err) != 2 {
			t.Errorf("got %v (exit %d), want the damaged config named, exit 2", err, exitCode(err))
		}
		if _, err := h.store.Get("acme"); !errors.Is(err, tenant.ErrNoSecret) {
			t.Error("secret stored")
		}
		if b, _ := os.ReadFile(h.cfgPath); string(b) != "{" {
			t.Errorf("the damaged config was changed to %q", b)
		}
	})
}

// breakConfig makes the config path a directory once the command has
// loaded the config: reading it again under the lock fails.
func breakConfig(t *testing.T, h *harness) {
	t.Helper()
	if _, err := h.config(); err != nil {
		t.Fatal(err)
	}
	breakConfigFile(t, h.cfgPath)
}

func TestAddRunRollsBackTheSecret(t *testing.T) {
	t.Run("new tenant", func(t *testing.T) {
		h := newHarness(t)
		mem := h.store
		h.store = &breakOnSet{SecretStore: mem, t: t, path: h.cfgPath}
		h.in.WriteString(theSecret)
		err := addRun(t.Context(), addOpts(h, "acme", "https://acme.example", "k"))
		if err == nil || exitCode(err) != 1 || !strings.HasPrefix(err.Error(), "save config: ") {
			t.Fatalf("got %v", err)
		}
		if !h.store.(*breakOnSet).broke {
			t.Fatal("the secret was not stored, so nothing was rolled back")
		}
		if _, err := mem.Get("acme"); !errors.Is(err, tenant.ErrNoSecret) {
			t.Errorf("secret left in the store: %v", err)
		}
		if cfg, _ := h.config(); len(cfg.Tenants) != 0 || cfg.Default != "" {
			t.Errorf("config in memory not restored: %+v", cfg)
		}
	})
	t.Run("existing tenant", func(t *testing.T) {
		h := newHarness(t)
		h.seed(t, "acme", tenant.Tenant{Name: "acme", BaseURL: "https://acme.example", AppKey: "old"})
		mem := h.store
		h.store = &breakOnSet{SecretStore: mem, t: t, path: h.cfgPath}
		h.in.WriteString(theSecret + "-new")
		err := addRun(t.Context(), addOpts(h, "acme", "", "new"))
		if err == nil || exitCode(err) != 1 || !strings.HasPrefix(err.Error(), "save config: ") {
			t.Fatalf("got %v", err)
		}
		if secret, _ := mem.Get("acme"); string(secret) != theSecret+"-acme" {
			t.Errorf("old secret not restored: %q", secret)
		}
		if cfg, _ := h.config(); cfg.Tenants[0].AppKey != "old" {
			t.Errorf("config in memory not restored: %+v", cfg)
		}
	})
	t.Run("unreadable config", func(t *testing.T) {
		h := newHarness(t)
		h.seed(t, "acme", tenant.Tenant{Name: "acme", BaseURL: "https://acme.example", AppKey: "old"})
		breakConfig(t, h)
		h.in.WriteString(theSecret + "-new")
		if err := addRun(t.Context(), addOpts(h, "acme", "", "new")); err == nil || exitCode(err) != 1 {
			t.Fatalf("got %v", err)
		}
		if secret, _ := h.store.Get("acme"); string(secret) != theSecret+"-acme" {
			t.Errorf("the secret was changed: %q", secret)
		}
	})
}

func TestAddRunNoKeyring(t *testing.T) {
	h := newHarness(t)
	h.store = downStore{} // never called
	h.in.WriteString("not read")
	opts := addOpts(h, "acme", "https://acme.example", "k")
	opts.NoKeyring = true
	if err := addRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if h.in.String() != "not read" {
		t.Error("standard input was read")
	}
	if len(h.saved(t).Tenants) != 1 {
		t.Error("tenant not saved")
	}
	if !strings.Contains(h.errOut.String(), "No secret stored: set JWH_SHARED_SECRET when running jwh for acme\n") {
		t.Errorf("stderr: %s", h.errOut)
	}
}
