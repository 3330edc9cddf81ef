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

// JiraClient returns a client for the tenant that tenantName (--tenant)
// selects (see SelectTenant), and that tenant. With debug (--debug) the
// client dumps each exchange on stderr.
func (f *Factory) JiraClient(tenantName string, debug bool) (*jira.Client, *tenant.Tenant, error) {
	t, err := f.SelectTenant(tenantName)
	if err != nil {
		return nil, nil, err
	}
	r, err := f.Resolver(tenantName)
	if err != nil {
		return nil, nil, err
	}
	c, err := f.clientFor(t, r, debug)
	if err != nil {
		return nil, nil, err
	}
	return c, t, nil
}

// ClientFor returns a client for tenant t of a command that works on
// every tenant (extend --all-tenants): the tenant selected without
// --tenant (JWH_TENANT, the default or the only one) is the one that the
// secrets in the environment stand for (see tenant.Resolver).
func (f *Factory) ClientFor(t *tenant.Tenant, debug bool) (*jira.Client, error) {
	r, err := f.Resolver("")
	if err != nil {
		return nil, err
	}
	return f.clientFor(t, r, debug)
}

// clientFor returns a client for tenant t, with its secrets from r, that
// authorizes every attempt, retries 429 and 503, and with debug dumps
// each exchange on stderr.
func (f *Factory) clientFor(t *tenant.Tenant, r *tenant.Resolver, debug bool) (*jira.Client, error) {
	secret, _, err := r.ConnectSecret(t)
	if err != nil {
		return nil, err
	}
	base, err := TenantBaseURL(t)
	if err != nil {
		return nil, err
	}
	opts, err := f.transportOptions(debug)
	if err != nil {
		return nil, err
	}
	opts.Authorizer = connectjwt.NewSigner(t.AppKey, secret, base.EscapedPath())
	hc, err := transport.New(opts)
	if err != nil {
		return nil, err
	}
	return jira.NewClient(hc, base.String())
}

// transportOptions returns the options of every client of a command: the
// User-Agent, the timeouts of JWH_TIMEOUT and JWH_TOTAL_TIMEOUT, and with
// debug the dump on stderr.
func (f *Factory) transportOptions(debug bool) (transport.Options, error) {
	opts := transport.Options{
		UserAgent: "jwh/" + f.Version,
		Base:      f.Transport,
	}
	var err error
	if opts.Timeout, err = f.envDuration(EnvTimeout); err != nil {
		return opts, err
	}
	if opts.TotalTimeout, err = f.envDuration(EnvTotalTimeout); err != nil {
		return opts, err
	}
	if debug {
		opts.Debug = f.IOStreams.ErrOut
	}
	return opts, nil
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
