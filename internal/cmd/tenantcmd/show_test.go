package tenantcmd

import (
	"errors"
	"strings"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdShow(t *testing.T) {
	cmdtest.Flags(t, cmdtest.InGroup("tenant", NewCmdShow), []cmdtest.Case[ShowOptions]{
		{Args: "", Want: ShowOptions{}},
		{Args: "-t beta -o json", Want: ShowOptions{TenantFlag: "beta", JSON: true}},
		{Args: "acme", Want: ShowOptions{Name: "acme"}},
		{Args: "a b", WantErr: `unexpected argument "b"`},
	})
}

func showOpts(h *harness, name string) *ShowOptions {
	return &ShowOptions{IO: h.ios, Config: h.config, Secrets: func() tenant.SecretStore { return h.store }, Getenv: h.env.get, Name: name}
}

func TestShowRun(t *testing.T) {
	h := newHarness(t)
	seedTwo(t, h)
	if err := showRun(showOpts(h, "acme")); err != nil {
		t.Fatal(err)
	}
	want := "name:        acme\n" +
		"kind:        connect\n" +
		"base URL:    https://acme.atlassian.net\n" +
		"app key:     com.example.app\n" +
		"client key:  ck-acme\n" +
		"default:     no\n" +
		"secret:      stored in keyring (service jwh, user acme)\n" +
		"config:      " + h.cfgPath + "\n"
	if h.out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", h.out, want)
	}
}

func TestShowRunSecretSources(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(h *harness)
		source     string
		detail     string
		wantInText string
	}{
		{
			name:   "keyring",
			source: "keyring", detail: "stored in keyring (service jwh, user beta)",
		},
		{
			name:   "environment",
			setup:  func(h *harness) { h.env[tenant.EnvSecret] = theSecret + "-env" },
			source: "environment", detail: "from JWH_SHARED_SECRET (overrides the keyring)",
		},
		{
			name:   "missing",
			setup:  func(h *harness) { _ = h.store.Delete("beta") },
			source: "missing", detail: "missing: store one with 'jwh tenant add beta' (needs a Secret Service) or set JWH_SHARED_SECRET",
		},
		{
			name:   "unavailable",
			setup:  func(h *harness) { h.store = downStore{} },
			source: "unavailable",
			detail: `unknown: keyring unavailable: cannot read the secret of tenant "beta": dbus: no session bus; start or unlock a Secret Service (e.g. gnome-keyring), or set JWH_SHARED_SECRET`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			seedTwo(t, h)
			if tt.setup != nil {
				tt.setup(h)
			}
			opts := showOpts(h, "") // the default tenant, beta
			if err := showRun(opts); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(h.out.String(), "\nsecret:      "+tt.detail+"\n") || !strings.HasPrefix(h.out.String(), "name:        beta\n") {
				t.Errorf("stdout:\n%s", h.out)
			}
			h.out.Reset()
			opts.JSON = true
			if err := showRun(opts); err != nil {
				t.Fatal(err)
			}
			want := `{
  "name": "beta",
  "kind": "connect",
  "site": "https://beta.atlassian.net",
  "baseUrl": "https://beta.atlassian.net",
  "appKey": "com.example.app",
  "clientKey": "",
  "clientId": "",
  "cloudId": "",
  "scopes": [],
  "storage": "keyring",
  "default": true,
  "config": "` + h.cfgPath + `",
  "secretSource": "` + tt.source + `",
  "secretDetail": "` + strings.ReplaceAll(tt.detail, `"`, `\"`) + `"
}
`
			if h.out.String() != want {
				t.Errorf("json:\n%s\nwant:\n%s", h.out, want)
			}
		})
	}
}

func TestShowRunSelection(t *testing.T) {
	h := newHarness(t)
	seedTwo(t, h)
	opts := showOpts(h, "")
	opts.TenantFlag = "acme"
	if err := showRun(opts); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.out.String(), "name:        acme\n") {
		t.Errorf("stdout: %s", h.out)
	}

	h.out.Reset()
	opts.TenantFlag = ""
	h.env[tenant.EnvTenant] = "acme"
	if err := showRun(opts); err != nil || !strings.HasPrefix(h.out.String(), "name:        acme\n") {
		t.Errorf("JWH_TENANT: %v, %s", err, h.out)
	}

	err := showRun(showOpts(h, "nope"))
	if !errors.Is(err, tenant.ErrNotFound) || exitCode(err) != 3 {
		t.Errorf("got %v", err)
	}

	empty := newHarness(t)
	err = showRun(showOpts(empty, ""))
	if !errors.Is(err, tenant.ErrNoTenants) || exitCode(err) != 3 {
		t.Errorf("got %v", err)
	}
}
