package tenantcmd

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func payload(baseURL, clientKey string) string {
	return `{"key": "com.example.app", "clientKey": "` + clientKey + `", "sharedSecret": "` + theSecret +
		`", "baseUrl": "` + baseURL + `", "productType": "jira", "eventType": "installed", "publicKey": "x"}`
}

func TestNewCmdImport(t *testing.T) {
	cmdtest.Flags(t, cmdtest.InGroup("tenant", NewCmdImport), []cmdtest.Case[ImportOptions]{
		{Args: "acme --file installed.json", Want: ImportOptions{Name: "acme", File: "installed.json"}},
		{Args: "-f - -o json", Want: ImportOptions{File: "-", JSON: true}},
		{Args: "--file - --no-keyring", Want: ImportOptions{File: "-", NoKeyring: true}},
		{Args: "acme", WantErr: "missing --file: the path of the installed payload, or - for standard input"},
		{Args: "a b --file -", WantErr: `unexpected argument "b"`},
		{Args: "a/b --file -", WantErr: `invalid tenant name "a/b": use letters, digits, '.', '-' and '_', starting with a letter or digit`},
	})
}

func importOpts(h *harness, name, file string) *ImportOptions {
	return &ImportOptions{
		IO: h.ios, Config: h.config, Secrets: func() tenant.SecretStore { return h.store },
		Name: name, File: file,
	}
}

func TestImportRunFile(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(t.TempDir(), "installed.json")
	if err := os.WriteFile(file, []byte(payload("https://acme.atlassian.net/", "ck-acme")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := importRun(t.Context(), importOpts(h, "", file)); err != nil {
		t.Fatal(err)
	}
	// Named after the host.
	cfg := h.saved(t)
	want := tenant.Tenant{Name: "acme.atlassian.net", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: "ck-acme"}
	if len(cfg.Tenants) != 1 || !reflect.DeepEqual(cfg.Tenants[0], want) || cfg.Default != want.Name {
		t.Errorf("config: %+v", cfg)
	}
	if s, _ := h.store.Get(want.Name); string(s) != theSecret {
		t.Errorf("secret %q", s)
	}
	wantErr := "✓ Imported tenant acme.atlassian.net\n" +
		"  base URL:    https://acme.atlassian.net\n" +
		"  app key:     com.example.app\n" +
		"  client key:  ck-acme\n" +
		"  secret:      stored in the keyring (service jwh, user acme.atlassian.net)\n" +
		"acme.atlassian.net is the default tenant\n"
	if h.errOut.String() != wantErr || h.out.Len() != 0 {
		t.Errorf("stdout %q, stderr:\n%s\nwant:\n%s", h.out, h.errOut, wantErr)
	}
}

func TestImportRunStdinNamed(t *testing.T) {
	h := newHarness(t)
	h.in.WriteString(payload("http://127.0.0.1:4321", "ck-sandbox") + "\nsandbox ready on http://127.0.0.1:4321\n")
	opts := importOpts(h, "sandbox", "-")
	opts.JSON = true
	if err := importRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	want := `{
  "name": "sandbox",
  "kind": "connect",
  "site": "http://127.0.0.1:4321",
  "baseUrl": "http://127.0.0.1:4321",
  "appKey": "com.example.app",
  "clientKey": "ck-sandbox",
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

func TestImportRunReinstallUpdatesTheTenantWithThatClientKey(t *testing.T) {
	h := newHarness(t)
	h.seed(t, "acme", tenant.Tenant{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: "ck-acme"})
	h.in.WriteString(payload("https://acme.atlassian.net", "ck-acme"))
	if err := importRun(t.Context(), importOpts(h, "", "-")); err != nil {
		t.Fatal(err)
	}
	if cfg := h.saved(t); len(cfg.Tenants) != 1 || cfg.Tenants[0].Name != "acme" {
		t.Errorf("config: %+v", cfg)
	}
	if s, _ := h.store.Get("acme"); string(s) != theSecret {
		t.Errorf("secret not replaced: %q", s)
	}
	if !strings.HasPrefix(h.errOut.String(), "✓ Updated tenant acme\n") {
		t.Errorf("stderr: %s", h.errOut)
	}
}

func TestImportRunWarnsAboutASharedClientKey(t *testing.T) {
	h := newHarness(t)
	h.seed(t, "acme", tenant.Tenant{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: "ck-acme"})
	h.in.WriteString(payload("https://acme.atlassian.net", "ck-acme"))
	if err := importRun(t.Context(), importOpts(h, "acme2", "-")); err != nil {
		t.Fatal(err)
	}
	want := "! tenant acme has the same client key: jwh listen will check deliveries with only one of their secrets; remove the other with 'jwh tenant remove NAME'\n"
	if !strings.HasPrefix(h.errOut.String(), want) {
		t.Errorf("stderr: %s", h.errOut)
	}
}

func TestImportRunNoKeyring(t *testing.T) {
	h := newHarness(t)
	h.store = downStore{}
	h.in.WriteString(payload("https://acme.atlassian.net", "ck"))
	opts := importOpts(h, "acme", "-")
	opts.NoKeyring = true
	if err := importRun(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.errOut.String(), "  secret:      not stored: set JWH_SHARED_SECRET (the payload's sharedSecret) when running jwh for acme\n") {
		t.Errorf("stderr: %s", h.errOut)
	}
}

func TestImportRunErrors(t *testing.T) {
	tests := []struct {
		name, in, file string
		want           string
		code           int
	}{
		{name: "missing field", in: `{"key": "k", "clientKey": "ck", "sharedSecret": "` + theSecret + `"}`, file: "-",
			want: `standard input: installed payload has no "baseUrl" field`, code: 2},
		{name: "not json", in: "hello", file: "-",
			want: `standard input: installed payload is not a JSON object of the installed callback: invalid character 'h' looking for beginning of value`, code: 2},
		{name: "plain http", in: payload("http://acme.example", "ck"), file: "-",
			want: `standard input: installed payload: baseUrl: base URL "http://acme.example": plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https`, code: 2},
		{name: "no such file", file: "/nonexistent/installed.json",
			want: "cannot read the installed payload: open /nonexistent/installed.json: no such file or directory", code: 2},
		{name: "host not a name", in: payload("http://[::1]:4000", "ck"), file: "-",
			want: `cannot name the tenant after the host "::1": give a name, as in 'jwh tenant import NAME --file -'`, code: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.in.WriteString(tt.in)
			err := importRun(t.Context(), importOpts(h, "", tt.file))
			if err == nil || err.Error() != tt.want || exitCode(err) != tt.code {
				t.Fatalf("got  %v (exit %d)\nwant %s (exit %d)", err, exitCode(err), tt.want, tt.code)
			}
			if _, err := os.Stat(h.cfgPath); !errors.Is(err, os.ErrNotExist) {
				t.Error("config written")
			}
		})
	}
	t.Run("keyring down", func(t *testing.T) {
		h := newHarness(t)
		h.store = downStore{}
		h.in.WriteString(payload("https://acme.atlassian.net", "ck"))
		err := importRun(t.Context(), importOpts(h, "acme", "-"))
		want := `keyring unavailable: cannot store the secret of tenant "acme": dbus: no session bus; start or unlock a Secret Service (e.g. gnome-keyring), or run 'jwh tenant import acme --file - --no-keyring' and set JWH_SHARED_SECRET when running jwh`
		if err == nil || err.Error() != want || exitCode(err) != 3 {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
}
