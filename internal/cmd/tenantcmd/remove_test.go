package tenantcmd

import (
	"errors"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdRemove(t *testing.T) {
	cmdtest.Flags(t, cmdtest.InGroup("tenant", NewCmdRemove), []cmdtest.Case[RemoveOptions]{
		{Args: "acme", Want: RemoveOptions{Name: "acme"}},
		{Args: "a b", WantErr: `unexpected argument "b"`},
	})
}

func removeOpts(h *harness, name string) *RemoveOptions {
	return &RemoveOptions{IO: h.ios, Config: h.config, Secrets: func() tenant.SecretStore { return h.store }, Getenv: h.env.get, Name: name}
}

func TestRemoveRun(t *testing.T) {
	h := newHarness(t)
	h.seed(t, "beta",
		tenant.Tenant{Name: "acme", BaseURL: "https://acme.example", AppKey: "k"},
		tenant.Tenant{Name: "beta", BaseURL: "https://beta.example", AppKey: "k"},
		tenant.Tenant{Name: "gamma", BaseURL: "https://gamma.example", AppKey: "k"},
	)
	if err := removeRun(t.Context(), removeOpts(h, "beta")); err != nil {
		t.Fatal(err)
	}
	cfg := h.saved(t)
	if len(cfg.Tenants) != 2 || cfg.Default != "" {
		t.Errorf("config: %+v", cfg)
	}
	if _, err := h.store.Get("beta"); !errors.Is(err, tenant.ErrNoSecret) {
		t.Errorf("secret not deleted: %v", err)
	}
	want := "✓ Removed tenant beta\nIt was the default tenant: choose another with 'jwh tenant use NAME'\n"
	if h.errOut.String() != want || h.out.Len() != 0 {
		t.Errorf("stderr:\n%s\nwant:\n%s", h.errOut, want)
	}

	// A tenant with no secret is removed all the same.
	if err := h.store.Delete("acme"); err != nil {
		t.Fatal(err)
	}
	h.errOut.Reset()
	if err := removeRun(t.Context(), removeOpts(h, "acme")); err != nil {
		t.Fatal(err)
	}
	if h.errOut.String() != "✓ Removed tenant acme\n" {
		t.Errorf("stderr: %s", h.errOut)
	}

	err := removeRun(t.Context(), removeOpts(h, "acme"))
	if !errors.Is(err, tenant.ErrNotFound) || exitCode(err) != 3 || err.Error() != `no such tenant "acme": configured tenants are gamma` {
		t.Errorf("got %v", err)
	}
}

func TestRemoveRunKeyringDown(t *testing.T) {
	h := newHarness(t)
	h.seed(t, "acme", tenant.Tenant{Name: "acme", BaseURL: "https://acme.example", AppKey: "k"})
	h.store = downStore{}
	if err := removeRun(t.Context(), removeOpts(h, "acme")); err != nil {
		t.Fatal(err)
	}
	if len(h.saved(t).Tenants) != 0 {
		t.Error("tenant not removed")
	}
	want := `! keyring unavailable: cannot delete the secret of tenant "acme": dbus: no session bus; the secret may remain in the keyring (service jwh, user acme): delete it later with 'secret-tool clear service jwh username acme'` + "\n" +
		"✓ Removed tenant acme\n"
	if h.errOut.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", h.errOut, want)
	}
}

func TestRemoveRunSaveFailsKeepsTheSecret(t *testing.T) {
	h := newHarness(t)
	h.seed(t, "acme", tenant.Tenant{Name: "acme", BaseURL: "https://acme.example", AppKey: "k"})
	breakConfig(t, h)
	if err := removeRun(t.Context(), removeOpts(h, "acme")); err == nil || exitCode(err) != 1 {
		t.Fatalf("got %v", err)
	}
	if _, err := h.store.Get("acme"); err != nil {
		t.Errorf("secret deleted although the config still names the tenant: %v", err)
	}
}

// configCheckingStore checks, when a secret is deleted, that the config
// file no longer names its tenant: remove changes the config first, so
// that a failure in between never leaves a tenant without its secret.
type configCheckingStore struct {
	tenant.SecretStore
	t       *testing.T
	path    string
	deleted []string
}

func (s *configCheckingStore) Delete(name string) error {
	cfg, err := tenant.LoadConfig(s.path)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := cfg.Get(name); err == nil {
		s.t.Errorf("the secret of %s was deleted while the config file still names the tenant", name)
	}
	s.deleted = append(s.deleted, name)
	return s.SecretStore.Delete(name)
}

func TestRemoveRunConfigBeforeSecret(t *testing.T) {
	h := newHarness(t)
	h.seed(t, "acme", tenant.Tenant{Name: "acme", BaseURL: "https://acme.example", AppKey: "k"})
	store := &configCheckingStore{SecretStore: h.store, t: t, path: h.cfgPath}
	h.store = store
	if err := removeRun(t.Context(), removeOpts(h, "acme")); err != nil {
		t.Fatal(err)
	}
	if len(store.deleted) != 1 {
		t.Errorf("secrets deleted: %v", store.deleted)
	}
}
