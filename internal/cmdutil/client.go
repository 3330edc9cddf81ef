package cmdutil

import (
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// JiraClient returns a client for the tenant that tenantName (--tenant)
// selects (see SelectTenant), and that tenant. With debug (--debug) the
// client dumps each exchange on stderr.
func (f *Factory) JiraClient(tenantName string, debug bool) (*jira.Client, *tenant.Tenant, error) {
	t, err := f.SelectTenant(tenantName)
	if err != nil {
		return nil, nil, err
	}
	c, err := f.ClientFor(t, debug)
	if err != nil {
		return nil, nil, err
	}
	return c, t, nil
}

// ClientFor returns a client for tenant t that signs every attempt with
// the tenant's Connect JWT, its shared secret read as Credentials reads it,
// retries 429 and 503, and with debug dumps each exchange on stderr.
// JiraClient uses it for the selected tenant, extend --all-tenants for
// each configured one.
func (f *Factory) ClientFor(t *tenant.Tenant, debug bool) (*jira.Client, error) {
	secret, _, err := tenant.LookupSecret(f.Secrets(), f.Getenv, t.Name)
	if err != nil {
		return nil, err
	}
	base, err := TenantBaseURL(t)
	if err != nil {
		return nil, err
	}
	opts := transport.Options{
		Signer:    connectjwt.NewSigner(t.AppKey, secret, base.EscapedPath()),
		UserAgent: "jwh/" + f.Version,
		Base:      f.Transport,
	}
	if debug {
		opts.Debug = f.IOStreams.ErrOut
	}
	hc, err := transport.New(opts)
	if err != nil {
		return nil, err
	}
	return jira.NewClient(hc, base.String())
}
