package cmdutil

import (
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// JiraClient returns a client for the selected tenant (see Credentials)
// that signs every attempt with the tenant's Connect JWT, retries 429 and
// 503, and with --debug dumps each exchange on stderr.
func (f *Factory) JiraClient() (*jira.Client, *tenant.Tenant, error) {
	t, secret, err := f.Credentials()
	if err != nil {
		return nil, nil, err
	}
	c, err := f.ClientFor(t, secret)
	if err != nil {
		return nil, nil, err
	}
	return c, t, nil
}

// ClientFor returns a signed client for tenant t with the given shared
// secret; JiraClient uses it for the selected tenant, extend --all-tenants
// for each configured one.
func (f *Factory) ClientFor(t *tenant.Tenant, secret []byte) (*jira.Client, error) {
	base, err := TenantBaseURL(t)
	if err != nil {
		return nil, err
	}
	opts := transport.Options{
		Signer:    connectjwt.NewSigner(t.AppKey, secret, base.EscapedPath()),
		UserAgent: "jwh/" + f.Version,
	}
	if f.Global != nil && f.Global.Debug {
		opts.Debug = f.IOStreams.ErrOut
	}
	if f.Transport != nil {
		opts.Base = f.Transport
	}
	hc, err := transport.New(opts)
	if err != nil {
		return nil, err
	}
	return jira.NewClient(hc, base.String())
}
