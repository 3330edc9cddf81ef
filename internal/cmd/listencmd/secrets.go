package listencmd

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// retryFailedSecret is how long a failed secret lookup (a locked or absent
// keyring) is answered from memory before the keyring is asked again: each
// keyring call may take its whole timeout, and a burst of deliveries should
// not wait for it one after the other.
const retryFailedSecret = 10 * time.Second

// tenantSecrets implements listen.Secrets and listen.OAuthSecrets for
// configured tenants: it finds a Connect tenant by its client key (the iss
// of Jira's JWTs), lists the OAuth tenants whose client secrets may have
// signed a Bearer delivery, and reads a tenant's secret the first time one
// of its deliveries needs it, so that starting jwh listen touches no
// keyring. A keyring that fails costs a 503 with the reason, which Jira
// retries, not the listener; a tenant with no secret stored costs a 401
// whose reason says how to store one.
type tenantSecrets struct {
	byKey  map[string]*tenantEntry // the Connect tenants listened for
	others map[string]string       // client key → name of a tenant not listened for (--tenant)
	only   string                  // the tenant given with --tenant or JWH_TENANT, or ""
	names  []string                // of the Connect tenants listened for, sorted
	lookup func(name string) ([]byte, error)

	oauth       []listen.OAuthTenant    // the OAuth tenants listened for, sorted by name
	oauthByName map[string]*tenantEntry // their entries
	// clientSecret reads the client secret of an OAuth tenant.
	clientSecret func(name string) ([]byte, error)

	now func() time.Time
}

type tenantEntry struct {
	name   string
	secret atomic.Pointer[[]byte] // set once read

	mu       sync.Mutex // serialises reads of the secret
	err      error      // the last failure
	failedAt time.Time
}

// Lookup implements listen.Secrets.
func (s *tenantSecrets) Lookup(iss string) (string, []byte, error) {
	e, ok := s.byKey[iss]
	if !ok {
		if name, ok := s.others[iss]; ok {
			return "", nil, fmt.Errorf("%w %q: it is the client key of tenant %q, but only tenant %q is listened for (--tenant)",
				listen.ErrUnknownIssuer, iss, name, s.only)
		}
		if len(s.names) == 0 {
			return "", nil, fmt.Errorf("%w %q: a Connect JWT, but no Connect tenant is listened for (only the OAuth 2.0 %s); import the site's installed payload with 'jwh tenant import'",
				listen.ErrUnknownIssuer, iss, plural(len(s.oauth), "tenant ", "tenants ")+strings.Join(s.oauthNames(), ", "))
		}
		return "", nil, fmt.Errorf("%w %q: no configured tenant has this client key (listening for %s); import the site's installed payload with 'jwh tenant import'",
			listen.ErrUnknownIssuer, iss, strings.Join(s.names, ", "))
	}
	secret, err := s.read(e, s.lookup)
	return e.name, secret, err
}

// oauthNames returns the names of the OAuth tenants listened for.
func (s *tenantSecrets) oauthNames() []string {
	names := make([]string, len(s.oauth))
	for i, t := range s.oauth {
		names[i] = t.Name
	}
	return names
}

// OAuthTenants implements listen.OAuthSecrets.
func (s *tenantSecrets) OAuthTenants() []listen.OAuthTenant { return s.oauth }

// ClientSecret implements listen.OAuthSecrets.
func (s *tenantSecrets) ClientSecret(name string) ([]byte, error) {
	e, ok := s.oauthByName[name]
	if !ok {
		return nil, fmt.Errorf("no OAuth 2.0 tenant %q is listened for", name)
	}
	return s.read(e, s.clientSecret)
}

// read returns the secret of e, read with lookup the first time, and
// again after a failure only once retryFailedSecret has passed.
func (s *tenantSecrets) read(e *tenantEntry, lookup func(name string) ([]byte, error)) ([]byte, error) {
	if p := e.secret.Load(); p != nil {
		return *p, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.secret.Load(); p != nil {
		return *p, nil
	}
	now := s.now()
	if e.err != nil && now.Sub(e.failedAt) < retryFailedSecret {
		return nil, e.err
	}
	secret, err := lookup(e.name)
	if err != nil {
		if errors.Is(err, tenant.ErrKeyringDown) {
			err = secretUnavailable{err}
		}
		e.err, e.failedAt = err, now
		return nil, err
	}
	e.err = nil
	e.secret.Store(&secret)
	return secret, nil
}

// secretUnavailable is a keyring failure as the listener must see it:
// listen.ErrSecretUnavailable (answered 503, so that Jira retries), in the
// keyring's own words.
type secretUnavailable struct{ err error }

func (e secretUnavailable) Error() string   { return e.err.Error() }
func (e secretUnavailable) Unwrap() []error { return []error{listen.ErrSecretUnavailable, e.err} }

// secretsOptions are what newTenantSecrets needs of Options.
type secretsOptions struct {
	cfg        *tenant.Config
	store      func() tenant.SecretStore
	getenv     func(string) string
	tenantFlag string
	now        func() time.Time
}

// newTenantSecrets returns the secrets of the tenants whose deliveries are
// verified: the one given with --tenant (or JWH_TENANT), else every Connect
// tenant that has a client key and every OAuth tenant. Where each secret
// comes from is the tenant.Resolver's rule, as in every other command (so
// JWH_SHARED_SECRET and JWH_CLIENT_SECRET stand for the selected tenant
// only). It also returns warnings worth printing before the listener
// starts.
func newTenantSecrets(o secretsOptions) (*tenantSecrets, []string, error) {
	cfg := o.cfg
	only := o.tenantFlag
	if only == "" {
		only = o.getenv(tenant.EnvTenant)
	}
	if len(cfg.Tenants) == 0 {
		return nil, nil, fmt.Errorf("%w: jwh listen verifies each delivery with its tenant's secret; import a Connect app's tenant with 'jwh tenant import --file installed.json', log in with an OAuth 2.0 app with 'jwh tenant login', or run with --no-verify",
			tenant.ErrNoTenants)
	}
	if only != "" {
		if _, err := cfg.Select(o.tenantFlag, o.getenv(tenant.EnvTenant)); err != nil {
			return nil, nil, err // --tenant or JWH_TENANT names no tenant
		}
	}
	resolver := cfg.Resolver(o.store(), o.getenv, o.tenantFlag)
	s := &tenantSecrets{
		byKey:       make(map[string]*tenantEntry),
		others:      make(map[string]string),
		oauthByName: make(map[string]*tenantEntry),
		only:        only,
		now:         o.now,
		lookup: func(name string) ([]byte, error) {
			t, err := cfg.Get(name)
			if err != nil {
				return nil, err
			}
			secret, _, err := resolver.ConnectSecret(t)
			return secret, err
		},
		clientSecret: func(name string) ([]byte, error) {
			t, err := cfg.Get(name)
			if err != nil {
				return nil, err
			}
			secret, _, err := resolver.ClientSecret(t)
			return secret, err
		},
	}
	var warnings, noKey []string
	for _, t := range cfg.Tenants {
		listened := only == "" || t.Name == only
		switch {
		case t.IsOAuth():
			// Deliveries to OAuth apps carry no client key: the
			// signature tells the tenants apart.
			if listened {
				s.oauth = append(s.oauth, listen.OAuthTenant{Name: t.Name, ClientID: t.ClientID})
				s.oauthByName[t.Name] = &tenantEntry{name: t.Name}
			}
		case t.ClientKey == "":
			if listened {
				noKey = append(noKey, t.Name)
			}
		case !listened:
			s.others[t.ClientKey] = t.Name
		default:
			if other, ok := s.byKey[t.ClientKey]; ok {
				return nil, nil, cmdutil.CredentialsErrorf("tenants %q and %q have the same client key %q: a delivery cannot tell them apart; remove one with 'jwh tenant remove' or choose one with --tenant",
					other.name, t.Name, t.ClientKey)
			}
			s.byKey[t.ClientKey] = &tenantEntry{name: t.Name}
			s.names = append(s.names, t.Name)
		}
	}
	slices.Sort(s.names)
	slices.SortFunc(s.oauth, func(a, b listen.OAuthTenant) int { return strings.Compare(a.Name, b.Name) })
	if len(s.byKey) == 0 && len(s.oauth) == 0 {
		if only != "" {
			return nil, nil, cmdutil.CredentialsErrorf("tenant %q has no client key, so its deliveries cannot be verified: re-import its installed payload with 'jwh tenant import %s --file installed.json' (or add it again with --client-key), or run with --no-verify", only, only)
		}
		return nil, nil, cmdutil.CredentialsErrorf("no tenant has a client key (%s), so no delivery can be verified: re-import their installed payloads with 'jwh tenant import' (or add them with --client-key), or run with --no-verify",
			strings.Join(noKey, ", "))
	}
	if len(noKey) > 0 {
		warnings = append(warnings, fmt.Sprintf("deliveries of %s will be refused: no client key; re-import the installed payload with 'jwh tenant import' (or add the tenant with --client-key)",
			plural(len(noKey), "tenant ", "tenants ")+strings.Join(noKey, ", ")))
	}
	for _, env := range []string{tenant.EnvSecret, tenant.EnvClientSecret} {
		if o.getenv(env) != "" && resolver.Selected == "" {
			warnings = append(warnings, fmt.Sprintf("%s is ignored: it stands for the secret of the selected tenant, and none is selected; choose one with --tenant", env))
		}
	}
	return s, warnings, nil
}
