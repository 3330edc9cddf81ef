package tenantcmd

import (
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdList(t *testing.T) {
	cmdtest.Flags(t, cmdtest.InGroup("tenant", NewCmdList), []cmdtest.Case[ListOptions]{
		{Args: "", Want: ListOptions{}},
		{Args: "-o json", Want: ListOptions{JSON: true}},
		{Args: "extra", WantErr: `unexpected argument "extra" for "jwh tenant list"`},
	})
}

func seedTwo(t *testing.T, h *harness) {
	h.seed(t, "beta",
		tenant.Tenant{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: "ck-acme"},
		tenant.Tenant{Name: "beta", BaseURL: "https://beta.atlassian.net", AppKey: "com.example.app"},
	)
}

func TestListRun(t *testing.T) {
	t.Run("tty", func(t *testing.T) {
		h := newHarness(t)
		seedTwo(t, h)
		h.ios.SetStdoutTTY(true)
		if err := listRun(&ListOptions{IO: h.ios, Config: h.config}); err != nil {
			t.Fatal(err)
		}
		want := "NAME  KIND     SITE                        APP              DEFAULT  \n" +
			"acme  connect  https://acme.atlassian.net  com.example.app           \n" +
			"beta  connect  https://beta.atlassian.net  com.example.app  *        \n"
		if h.out.String() != want {
			t.Errorf("stdout:\n%q\nwant:\n%q", h.out, want)
		}
	})
	t.Run("piped", func(t *testing.T) {
		h := newHarness(t)
		seedTwo(t, h)
		if err := listRun(&ListOptions{IO: h.ios, Config: h.config}); err != nil {
			t.Fatal(err)
		}
		want := "acme\tconnect\thttps://acme.atlassian.net\tcom.example.app\t\n" +
			"beta\tconnect\thttps://beta.atlassian.net\tcom.example.app\t*\n"
		if h.out.String() != want || h.errOut.Len() != 0 {
			t.Errorf("stdout:\n%q\nwant:\n%q\nstderr %q", h.out, want, h.errOut)
		}
	})
	t.Run("json", func(t *testing.T) {
		h := newHarness(t)
		seedTwo(t, h)
		if err := listRun(&ListOptions{IO: h.ios, Config: h.config, JSON: true}); err != nil {
			t.Fatal(err)
		}
		want := `[
  {
    "name": "acme",
    "kind": "connect",
    "site": "https://acme.atlassian.net",
    "baseUrl": "https://acme.atlassian.net",
    "appKey": "com.example.app",
    "clientKey": "ck-acme",
    "clientId": "",
    "cloudId": "",
    "scopes": [],
    "storage": "keyring",
    "default": false
  },
  {
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
    "default": true
  }
]
`
		if h.out.String() != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", h.out, want)
		}
	})
	t.Run("empty", func(t *testing.T) {
		h := newHarness(t)
		if err := listRun(&ListOptions{IO: h.ios, Config: h.config}); err != nil {
			t.Fatal(err)
		}
		if h.out.Len() != 0 || h.errOut.String() != "No tenants configured: add one with 'jwh tenant import --file installed.json', 'jwh tenant add NAME --base-url URL --app-key KEY' or 'jwh tenant login --client-id ID'\n" {
			t.Errorf("stdout %q stderr %q", h.out, h.errOut)
		}
		h.errOut.Reset()
		if err := listRun(&ListOptions{IO: h.ios, Config: h.config, JSON: true}); err != nil {
			t.Fatal(err)
		}
		if h.out.String() != "[]\n" {
			t.Errorf("json: %q", h.out)
		}
	})
}
