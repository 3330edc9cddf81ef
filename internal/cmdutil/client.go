package cmdutil

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
	"github.com/jwh-cli/jwh/internal/webhookspec"
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

// ClientFor returns a client for tenant t with its secrets from r, for a
// command that holds a Resolver of its own: extend --all-tenants, whose
// Resolver("") may have read the secrets ahead
// (tenant.Resolver.ReadAhead) and lets the secrets in the environment
// stand for the tenant selected without --tenant (JWH_TENANT, the default
// or the only one); and jwh doctor, which asks r itself where the secrets
// come from and must then talk to Jira as every other command does.
func (f *Factory) ClientFor(t *tenant.Tenant, r *tenant.Resolver, debug bool) (*jira.Client, error) {
	return f.clientFor(t, r, debug)
}

// clientFor returns a client for tenant t, with its secrets from r, that
// authorizes every attempt (a Connect JWT, or an OAuth bearer token
// refreshed as needed), retries 429 and 503, and with debug dumps each
// exchange on stderr. An OAuth tenant's client sends the same
// site-relative paths through the API gateway (APIURL/ex/jira/CLOUDID).
func (f *Factory) clientFor(t *tenant.Tenant, r *tenant.Resolver, debug bool) (*jira.Client, error) {
	opts, err := f.transportOptions(debug)
	if err != nil {
		return nil, err
	}
	if t.IsOAuth() {
		src, err := f.oauthSource(t, r, opts)
		if err != nil {
			return nil, err
		}
		base, err := GatewayURL(t)
		if err != nil {
			return nil, err
		}
		opts.Authorizer = src
		hc, err := transport.New(opts)
		if err != nil {
			return nil, err
		}
		c := jira.NewClient(hc, base)
		return c.WithAuthHint(fmt.Sprintf("check the app's scopes (%s) and the permissions of the user who logged in, or log in again: %s",
			strings.Join(oauth.WebhookScopes, " "), t.LoginCommand())), nil
	}
	secret, _, err := r.ConnectSecret(t)
	if err != nil {
		return nil, err
	}
	base, err := TenantBaseURL(t)
	if err != nil {
		return nil, err
	}
	opts.Authorizer = connectjwt.NewSigner(t.AppKey, secret, base.EscapedPath())
	hc, err := transport.New(opts)
	if err != nil {
		return nil, err
	}
	return jira.NewClient(hc, base), nil
}

// OAuthSource returns the token source of the OAuth tenant that tenantName
// (--tenant) selects, and that tenant: for callers that send the bearer
// token themselves (jwh token).
func (f *Factory) OAuthSource(tenantName string, debug bool) (*oauth.Source, *tenant.Tenant, error) {
	t, err := f.SelectTenant(tenantName)
	if err != nil {
		return nil, nil, err
	}
	if !t.IsOAuth() {
		return nil, nil, InputErrorf("tenant %s is a Connect tenant, not an OAuth 2.0 one", t.Name)
	}
	r, err := f.Resolver(tenantName)
	if err != nil {
		return nil, nil, err
	}
	opts, err := f.transportOptions(debug)
	if err != nil {
		return nil, nil, err
	}
	src, err := f.oauthSource(t, r, opts)
	if err != nil {
		return nil, nil, err
	}
	return src, t, nil
}

// oauthSource returns the token source of OAuth tenant t, with its bundle
// and client secret as r finds them, whose token requests go through a
// client with opts but no Authorizer. It warns on stderr when the login
// is about to reach its absolute expiry.
func (f *Factory) oauthSource(t *tenant.Tenant, r *tenant.Resolver, opts transport.Options) (*oauth.Source, error) {
	login, err := r.OAuth(t)
	if err != nil {
		return nil, err
	}
	app, err := f.oauthApp(t, opts)
	if err != nil {
		return nil, err
	}
	if login.ClientSecretFrom.Kind == tenant.SourceEnvironment {
		app.ClientSecret = login.ClientSecret
	}
	return oauth.NewSource(oauth.SourceConfig{
		Tenant:  t,
		App:     app,
		Secrets: login.Secrets,
		Store:   r.OAuthStore(t),
		Now:     f.Now,
		Warn:    func(msg string) { fmt.Fprintln(f.IOStreams.ErrOut, "warning: "+msg) },
	}), nil
}

// oauthApp returns the app of OAuth tenant t, without its client secret,
// whose requests (token endpoint, accessible-resources) go through a
// client with opts but no Authorizer. A URL of the tenant that is not
// usable is bad input.
func (f *Factory) oauthApp(t *tenant.Tenant, opts transport.Options) (*oauth.App, error) {
	authURL, apiURL := oauth.Endpoints(t)
	for _, u := range []struct{ flag, value string }{{"--auth-url", authURL}, {"--api-url", apiURL}} {
		if _, err := urlpolicy.ParseBaseURL(u.value); err != nil {
			return nil, &TenantError{Tenant: t.Name, Err: fmt.Errorf("%w: log in again with a good %s: %s", err, u.flag, t.LoginCommand())}
		}
	}
	hc, err := oauthHTTPClient(opts)
	if err != nil {
		return nil, err
	}
	return &oauth.App{ClientID: t.ClientID, AuthURL: authURL, APIURL: apiURL, Scopes: t.Scopes, HTTPClient: hc, Now: f.Now}, nil
}

// OAuthHTTPClient returns the client of the requests to an authorization
// server and to accessible-resources: the transport's timeouts, retries
// and --debug dump (secrets redacted), and no Authorizer, since their
// credentials travel in the body or are set by package oauth.
func (f *Factory) OAuthHTTPClient(debug bool) (*http.Client, error) {
	opts, err := f.transportOptions(debug)
	if err != nil {
		return nil, err
	}
	return oauthHTTPClient(opts)
}

func oauthHTTPClient(opts transport.Options) (*http.Client, error) {
	opts.Authorizer = nil
	opts.Peer = oauth.Peer
	return transport.New(opts)
}

// GatewayURL returns the base URL of OAuth tenant t's requests,
// APIURL/ex/jira/CLOUDID; a config edited by hand can make it unusable,
// which is bad input naming the tenant.
func GatewayURL(t *tenant.Tenant) (*url.URL, error) {
	_, apiURL := oauth.Endpoints(t)
	if t.CloudID == "" {
		return nil, InputError(&TenantError{Tenant: t.Name, Err: fmt.Errorf("no cloud id in the config: log in again: %s", t.LoginCommand())})
	}
	u, err := urlpolicy.ParseBaseURL(oauth.GatewayURL(apiURL, t.CloudID))
	if err != nil {
		return nil, &TenantError{Tenant: t.Name, Err: fmt.Errorf("%w: log in again: %s", err, t.LoginCommand())}
	}
	return u, nil
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

// WebhookLimits returns what Jira allows tenant t's kind of app on a
// site: webhookspec.OAuth (5 per user) for an OAuth 2.0 tenant,
// webhookspec.Connect (100) otherwise.
func WebhookLimits(t *tenant.Tenant) webhookspec.Limits {
	if t.IsOAuth() {
		return webhookspec.OAuth
	}
	return webhookspec.Connect
}
