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

// tenantSecrets implements listen.Secrets for configured tenants: it finds
// the tenant by its client key (the iss of Jira's JWTs) and reads its shared
// secret the first time one of its deliveries arrives, so that starting
// jwh listen touches no keyring. A keyring that fails costs a 503 with the
// reason, which Jira retries, not the listener; a tenant with no secret
// stored costs a 401 whose reason says how to store one.
type tenantSecrets struct {
	byKey  map[string]*tenantEntry // the tenants listened for
	others map[string]string       // client key → name of a tenant not listened for (--tenant)
	only   string                  // the tenant given with --tenant or JWH_TENANT, or ""
	names  []string                // of the tenants listened for, sorted
	lookup func(name string) ([]byte, error)
	now    func() time.Time
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
		return "", nil, fmt.Errorf("%w %q: no configured tenant has this client key (listening for %s); import the site's installed payload with 'jwh tenant import'",
			listen.ErrUnknownIssuer, iss, strings.Join(s.names, ", "))
	}
	if p := e.secret.Load(); p != nil {
		return e.name, *p, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.secret.Load(); p != nil {
		return e.name, *p, nil
	}
	now := s.now()
	if e.err != nil && now.Sub(e.failedAt) < retryFailedSecret {
		return e.name, nil, e.err
	}
	secret, err := s.lookup(e.name)
	if err != nil {
		if errors.Is(err, tenant.ErrKeyringDown) {
			err = secretUnavailable{err}
		}
		e.err, e.failedAt = err, now
		return e.name, nil, err
	}
	e.err = nil
	e.secret.Store(&secret)
	return e.name, secret, nil
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
// verified: the one given with --tenant (or JWH_TENANT), else every
// Connect tenant that has a client key. Where each secret comes from is
// the tenant.Resolver's rule, as in every other command (so
// JWH_SHARED_SECRET stands for the selected tenant only). It also returns
// warnings worth printing before the listener starts.
func newTenantSecrets(o secretsOptions) (*tenantSecrets, []string, error) {
	cfg := o.cfg
	only := o.tenantFlag
	if only == "" {
		only = o.getenv(tenant.EnvTenant)
	}
	if len(cfg.Tenants) == 0 {
		return nil, nil, fmt.Errorf("%w: jwh listen verifies each delivery with its tenant's shared secret; import one with 'jwh tenant import --file installed.json', or run with --no-verify",
			tenant.ErrNoTenants)
	}
	if only != "" {
		if _, err := cfg.Select(o.tenantFlag, o.getenv(tenant.EnvTenant)); err != nil {
			return nil, nil, err // --tenant or JWH_TENANT names no tenant
		}
	}
	resolver := cfg.Resolver(o.store(), o.getenv, o.tenantFlag)
	s := &tenantSecrets{
		byKey:  make(map[string]*tenantEntry),
		others: make(map[string]string),
		only:   only,
		now:    o.now,
		lookup: func(name string) ([]byte, error) {
			t, err := cfg.Get(name)
			if err != nil {
				return nil, err
			}
			secret, _, err := resolver.ConnectSecret(t)
			return secret, err
		},
	}
	var warnings, noKey []string
	for _, t := range cfg.Tenants {
		switch {
		case t.IsOAuth():
			// Deliveries to OAuth apps carry no client key.
		case t.ClientKey == "":
			if only == "" || t.Name == only {
				noKey = append(noKey, t.Name)
			}
		case only != "" && t.Name != only:
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
	if len(s.byKey) == 0 {
		if t, err := cfg.Get(only); err == nil && t.IsOAuth() {
			return nil, nil, cmdutil.CredentialsErrorf("tenant %q is an OAuth 2.0 tenant: this jwh listen verifies the JWTs of Connect deliveries only; run with --no-verify to see its deliveries", only)
		}
		if only == "" && len(noKey) == 0 {
			return nil, nil, cmdutil.CredentialsErrorf("no Connect tenant is configured, and this jwh listen verifies the JWTs of Connect deliveries only: import one with 'jwh tenant import --file installed.json', or run with --no-verify")
		}
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
	if o.getenv(tenant.EnvSecret) != "" && resolver.Selected == "" {
		warnings = append(warnings, fmt.Sprintf("%s is ignored: it stands for the secret of the selected tenant, and none is selected; choose one with --tenant",
			tenant.EnvSecret))
	}
	return s, warnings, nil
}
