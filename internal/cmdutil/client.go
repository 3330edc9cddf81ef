package cmdutil

import (
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// Environment variables that bound the requests of every command, as
// durations ("30s", "2m"); unset or empty means transport's defaults.
const (
	// EnvTimeout bounds one attempt of a request.
	EnvTimeout = "JWH_TIMEOUT"
	// EnvTotalTimeout bounds a request with all its retries.
	EnvTotalTimeout = "JWH_TOTAL_TIMEOUT"
)

// JiraClient returns a client for the selected tenant (see Credentials)
// that signs every attempt with the tenant's Connect JWT, retries what the
// transport package retries, and with --debug dumps each exchange on
// stderr.
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
	if opts.Timeout, err = f.envDuration(EnvTimeout); err != nil {
		return nil, err
	}
	if opts.TotalTimeout, err = f.envDuration(EnvTotalTimeout); err != nil {
		return nil, err
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

// envDuration reads the duration in the environment variable name: 0 when
// unset, an input error (exit 2) when it is not a positive duration.
func (f *Factory) envDuration(name string) (time.Duration, error) {
	if f.Getenv == nil {
		return 0, nil
	}
	v := strings.TrimSpace(f.Getenv(name))
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, InputErrorf("invalid %s %q: use a duration above 0, such as 30s or 2m", name, v)
	}
	return d, nil
}
