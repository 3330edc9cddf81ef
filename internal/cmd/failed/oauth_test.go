package failed_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// noKeyring fails the test if a secret is read: the tenant's kind is
// checked first.
type noKeyring struct{ t *testing.T }

func (k noKeyring) Get(name string) ([]byte, error) {
	k.t.Errorf("the keyring was read for tenant %q", name)
	return nil, errors.New("no keyring")
}
func (k noKeyring) Set(string, []byte) error { return errors.New("no keyring") }
func (k noKeyring) Delete(string) error      { return errors.New("no keyring") }

// TestFailedOAuth: Jira lists failed deliveries for Connect apps only, so
// on an OAuth tenant jwh failed stops with exit status 2 before it reads a
// secret or sends anything.
func TestFailedOAuth(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	st, err := sb.AddTenant(sandbox.TenantConfig{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	config := filepath.Join(t.TempDir(), "config.json")
	cfg, err := tenant.LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Update(context.Background(), func(c *tenant.Config) error {
		c.Put(tenant.Tenant{Name: "work", Kind: tenant.KindOAuth, ClientID: "cid", CloudID: st.CloudID(),
			SiteURL: st.BaseURL(), AuthURL: run.URL(), APIURL: run.URL()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == tenant.EnvConfig {
			return config
		}
		return ""
	}
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios, Version: "test", Getenv: getenv, Now: time.Now,
		Config:  cmdutil.LoadConfigOnce(getenv),
		Secrets: func() tenant.SecretStore { return noKeyring{t} },
	}
	code := app.Run(f, []string{"failed"})
	want := "jwh: tenant work: Jira keeps failed deliveries for Connect apps only, and this is an OAuth 2.0 tenant; nothing was sent\n"
	if code != 2 || out.String() != "" || errOut.String() != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, want)
	}
	if n := len(sb.Requests()); n != 0 {
		t.Errorf("the sandbox got %d requests", n)
	}
}
