package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jwh-cli/jwh/internal/lockedfile"
)

// Where a secret comes from, as Source.Kind: the keywords of -o json.
const (
	SourceEnvironment = "environment" // JWH_SHARED_SECRET or JWH_CLIENT_SECRET
	SourceKeyring     = "keyring"     // the OS keyring
	SourceFile        = "file"        // credentials.json
	SourceMissing     = "missing"     // nowhere
	SourceUnavailable = "unavailable" // the keyring or the file could not be read
)

// Source says where a secret comes from: Kind (one of the Source*
// keywords) for scripts, Detail (a sentence, with what to do when the
// secret is missing) for people. jwh tenant show prints it as it is.
type Source struct {
	Kind   string
	Detail string
}

// RefreshLockWait bounds the wait for another jwh that is refreshing the
// tokens of the same OAuth tenant: long enough for a token request with
// its retries.
const RefreshLockWait = 3 * time.Minute

// A Resolver decides where the secrets of every tenant come from, for
// every command: the webhook commands, extend --all-tenants, listen and
// tenant show all ask it, so that they cannot disagree. The rule:
//
//   - Connect: JWH_SHARED_SECRET when it is set and the tenant is the
//     selected one; otherwise the keyring (service jwh, user = the
//     tenant's name).
//   - OAuth: the bundle (client secret, refresh token, access token) from
//     where the tenant's login stored it: the keyring (the same item), or
//     credentials.json next to the config file after a login with
//     --no-keyring. JWH_CLIENT_SECRET, when it is set and the tenant is
//     the selected one, replaces the stored client secret (the tokens
//     always come from the bundle; what needs no token, the Bearer JWTs
//     of deliveries, takes it without a stored login: ClientSecret).
//
// The selected tenant is the one a command works on: --tenant, else
// JWH_TENANT, else the default tenant, else the only one. Commands that
// work on every tenant (extend --all-tenants, listen without --tenant)
// select the one JWH_TENANT, the default or the only tenant names. So an
// environment variable stands for the secret of one tenant at most: each
// Connect installation and each OAuth login has secrets of its own.
//
// Errors wrap ErrNoSecret (nothing stored) or ErrKeyringDown (the keyring
// did not answer), which the command layer maps to the credentials exit
// status, and say how to provide the secret.
//
// A command that works on every tenant can have the Resolver read their
// secrets ahead, in as few keyring calls as the platform allows
// (ReadAhead); the rule and the answers stay the same.
type Resolver struct {
	// Store is the keyring (a memory store in tests and jwh demo).
	Store SecretStore
	// Getenv reads JWH_SHARED_SECRET and JWH_CLIENT_SECRET.
	Getenv func(string) string
	// CredentialsPath is the path of credentials.json.
	CredentialsPath string
	// Selected is the name of the selected tenant, or "" when none is.
	Selected string

	mu    sync.Mutex
	ahead map[string]*aheadRead // by tenant name: what ReadAhead read, until taken
}

// Resolver returns the resolver for the tenants of c, with the tenant
// that flagName (--tenant, or "" when the command has none) and
// JWH_TENANT select as the selected one; when they select none (several
// tenants and no default), no environment variable applies.
func (c *Config) Resolver(store SecretStore, getenv func(string) string, flagName string) *Resolver {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	r := &Resolver{Store: store, Getenv: getenv, CredentialsPath: c.CredentialsPath()}
	if t, err := c.Select(flagName, getenv(EnvTenant)); err == nil {
		r.Selected = t.Name
	}
	return r
}

func (r *Resolver) env(name string, t *Tenant) string {
	if r.Getenv == nil || t.Name != r.Selected {
		return ""
	}
	return r.Getenv(name)
}

// ConnectSecret returns the shared secret of Connect tenant t and where it
// came from. On error the Source says what is missing or unavailable.
func (r *Resolver) ConnectSecret(t *Tenant) ([]byte, Source, error) {
	if t.IsOAuth() {
		msg := fmt.Sprintf("tenant %q is an OAuth 2.0 tenant, which has no shared secret", t.Name)
		return nil, Source{SourceMissing, msg}, &secretError{msg: msg, is: ErrNoSecret}
	}
	if s := r.env(EnvSecret, t); s != "" {
		return []byte(s), Source{SourceEnvironment, "from " + EnvSecret + " (overrides the keyring)"}, nil
	}
	secret, err := r.stored(t.Name)
	if err == nil {
		return secret, Source{SourceKeyring, "stored in " + KeyringSource(t.Name)}, nil
	}
	var ke *KeyringError
	switch {
	case errors.Is(err, ErrNoSecret):
		advice := fmt.Sprintf("store one with 'jwh tenant add %s' (needs a Secret Service) or %s", t.Name, r.envAdvice(t, EnvSecret))
		return nil, Source{SourceMissing, "missing: " + advice},
			&secretError{msg: fmt.Sprintf("%s for tenant %q: %s", ErrNoSecret, t.Name, advice), is: ErrNoSecret}
	case errors.As(err, &ke) && t.Name != r.Selected:
		err = &secretError{
			msg: fmt.Sprintf("%s; start or unlock a Secret Service (e.g. gnome-keyring), or %s", ke.Reason(), r.envAdvice(t, EnvSecret)),
			is:  ErrKeyringDown, err: err,
		}
	}
	return nil, Source{SourceUnavailable, "unknown: " + err.Error()}, err
}

// envAdvice says how the environment variable env can provide the secret
// of t: as it is for the selected tenant; for another, only when t is
// selected.
func (r *Resolver) envAdvice(t *Tenant, env string) string {
	if t.Name == r.Selected {
		return "set " + env
	}
	return fmt.Sprintf("set %s and select %s (--tenant %s or %s=%s): it stands for the selected tenant only", env, t.Name, t.Name, EnvTenant, t.Name)
}

// OAuthLogin is what the Resolver finds for an OAuth tenant. It formats
// without any secret.
type OAuthLogin struct {
	// Secrets is the bundle as stored; nil when it could not be read.
	Secrets *OAuthSecrets
	// Stored says where the bundle is: the keyring or the credentials
	// file (or that it is missing or unavailable there).
	Stored Source
	// ClientSecret is the client secret to use: JWH_CLIENT_SECRET for the
	// selected tenant when set, else the stored one.
	ClientSecret string
	// ClientSecretFrom says where ClientSecret comes from.
	ClientSecretFrom Source
}

// String describes the login without its secrets.
func (l OAuthLogin) String() string {
	return fmt.Sprintf("tenant.OAuthLogin{stored: %s, client secret: %s}", l.Stored.Kind, l.ClientSecretFrom.Kind)
}

// GoString is String, for %#v.
func (l OAuthLogin) GoString() string { return l.String() }

// Format prints String for every verb.
func (l OAuthLogin) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(l.String())) }

// OAuth returns the login of OAuth tenant t: its stored bundle, the
// client secret to use, and where each comes from. On error it still
// returns the login, with Sources that say what is missing or
// unavailable, for jwh tenant show.
func (r *Resolver) OAuth(t *Tenant) (*OAuthLogin, error) {
	l := &OAuthLogin{}
	s, err := r.loadOAuth(t, r.stored)
	if err != nil {
		kind := SourceUnavailable
		if errors.Is(err, ErrNoSecret) {
			kind = SourceMissing
		}
		l.Stored = Source{kind, kind + ": " + err.Error()}
		l.ClientSecretFrom = l.Stored
		if env := r.env(EnvClientSecret, t); env != "" {
			l.ClientSecret, l.ClientSecretFrom = env, Source{SourceEnvironment, "from " + EnvClientSecret + " (overrides the stored one)"}
		}
		return l, err
	}
	l.Secrets = s
	if t.StorageOf() == StorageFile {
		l.Stored = Source{SourceFile, "stored in " + r.CredentialsPath}
	} else {
		l.Stored = Source{SourceKeyring, "stored in " + KeyringSource(t.Name)}
	}
	l.ClientSecret, l.ClientSecretFrom = s.ClientSecret, l.Stored
	if env := r.env(EnvClientSecret, t); env != "" {
		l.ClientSecret, l.ClientSecretFrom = env, Source{SourceEnvironment, "from " + EnvClientSecret + " (overrides the stored one)"}
	}
	return l, nil
}

// ClientSecret returns the client secret of OAuth tenant t and where it
// comes from, for what needs no token: verifying and signing the Bearer
// JWTs of its app's deliveries (jwh listen, jwh replay). It is
// JWH_CLIENT_SECRET for the selected tenant, even when no login is stored
// (a machine that only receives deliveries), else the stored bundle's;
// the errors are those of OAuth.
func (r *Resolver) ClientSecret(t *Tenant) ([]byte, Source, error) {
	l, err := r.OAuth(t)
	if err != nil && l.ClientSecretFrom.Kind != SourceEnvironment {
		return nil, l.ClientSecretFrom, err
	}
	return []byte(l.ClientSecret), l.ClientSecretFrom, nil
}

// loadOAuth reads the stored bundle of t, with get when it is in the
// keyring: r.stored for the first use, r.Store.Get to read it afresh. Its
// errors say how to log in again.
func (r *Resolver) loadOAuth(t *Tenant, get func(name string) ([]byte, error)) (*OAuthSecrets, error) {
	login := t.LoginCommand()
	if t.StorageOf() == StorageFile {
		s, err := loadCredentials(r.CredentialsPath, t.Name)
		switch {
		case err != nil:
			return nil, err
		case s == nil:
			return nil, &secretError{msg: fmt.Sprintf("no login stored for tenant %q in %s: log in with '%s'", t.Name, r.CredentialsPath, login), is: ErrNoSecret}
		}
		return s, nil
	}
	data, err := get(t.Name)
	defer clear(data)
	var ke *KeyringError
	switch {
	case errors.Is(err, ErrNoSecret):
		return nil, &secretError{msg: fmt.Sprintf("no login stored for tenant %q in the %s: log in with '%s'", t.Name, KeyringSource(t.Name), login), is: ErrNoSecret}
	case errors.As(err, &ke):
		return nil, &secretError{
			msg: fmt.Sprintf("%s; start or unlock a Secret Service (e.g. gnome-keyring), or log in again with '%s --no-keyring' to keep its secrets in %s",
				ke.Reason(), t.LoginCommand(), CredentialsFile),
			is: ErrKeyringDown, err: err,
		}
	case err != nil:
		return nil, err
	}
	s, err := decodeSecrets(data)
	if err != nil {
		return nil, &secretError{msg: fmt.Sprintf("the %s does not hold an OAuth login of tenant %q (%v): log in again with '%s'", KeyringSource(t.Name), t.Name, err, login), is: ErrNoSecret}
	}
	return s, nil
}

// SaveOAuth stores the bundle of OAuth tenant t where t.Storage says, as a
// whole: one keyring item, or one entry of credentials.json replaced
// under the file's lock.
func (r *Resolver) SaveOAuth(t *Tenant, s *OAuthSecrets) error {
	data, err := encodeSecrets(s)
	if err != nil {
		return err
	}
	defer clear(data)
	if t.StorageOf() == StorageFile {
		err := updateCredentials(context.Background(), r.CredentialsPath, func(m map[string]*storedSecrets) error {
			m[t.Name] = (*storedSecrets)(s.Clone())
			return nil
		})
		if err != nil {
			return fmt.Errorf("store the login of tenant %q in %s: %w", t.Name, r.CredentialsPath, err)
		}
		return nil
	}
	if err := r.Store.Set(t.Name, data); err != nil {
		var ke *KeyringError
		if errors.As(err, &ke) {
			return &secretError{
				msg: fmt.Sprintf("%s; start or unlock a Secret Service (e.g. gnome-keyring), or log in with '%s --no-keyring' to keep its secrets in %s",
					ke.Reason(), t.LoginCommand(), CredentialsFile),
				is: ErrKeyringDown, err: err,
			}
		}
		return fmt.Errorf("store the login of tenant %q: %w", t.Name, err)
	}
	return nil
}

// DeleteSecrets deletes what is stored for t: the shared secret of a
// Connect tenant from the keyring; the bundle of an OAuth tenant from
// where it is stored. When nothing is stored, the error wraps
// ErrNoSecret.
func (r *Resolver) DeleteSecrets(t *Tenant) error {
	if !t.IsOAuth() || t.StorageOf() == StorageKeyring {
		return r.Store.Delete(t.Name)
	}
	return updateCredentials(context.Background(), r.CredentialsPath, func(m map[string]*storedSecrets) error {
		if _, found := m[t.Name]; !found {
			return &secretError{msg: fmt.Sprintf("no login stored for tenant %q in %s", t.Name, r.CredentialsPath), is: ErrNoSecret}
		}
		delete(m, t.Name)
		return nil
	})
}

// OAuthStore returns the store of OAuth tenant t's bundle, as the token
// source of package oauth uses it: load, save, and the lock that
// serialises refreshes across processes.
func (r *Resolver) OAuthStore(t *Tenant) *OAuthStore {
	return &OAuthStore{r: r, t: *t}
}

// OAuthStore is where one OAuth tenant's bundle lives.
type OAuthStore struct {
	r *Resolver
	t Tenant
}

// Load reads the stored bundle afresh.
func (s *OAuthStore) Load() (*OAuthSecrets, error) { return s.r.loadOAuth(&s.t, s.r.Store.Get) }

// Save replaces the stored bundle.
func (s *OAuthStore) Save(b *OAuthSecrets) error { return s.r.SaveOAuth(&s.t, b) }

// Lock takes the tenant's refresh lock (oauth-NAME.lock next to the
// config file), which every refresh, login and removal of the tenant's
// login holds while it reads and replaces the bundle: two processes never
// present the same refresh token, and a login is never overwritten by a
// refresh of the login it replaced. It waits up to RefreshLockWait.
func (s *OAuthStore) Lock(ctx context.Context) (unlock func(), err error) {
	return s.r.LockOAuth(ctx, &s.t)
}

// LockOAuth takes the refresh lock of OAuth tenant t; see OAuthStore.Lock.
func (r *Resolver) LockOAuth(ctx context.Context, t *Tenant) (unlock func(), err error) {
	dir := filepath.Dir(r.CredentialsPath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock the login of tenant %q: %w", t.Name, err)
	}
	m := lockedfile.MutexFor(filepath.Join(dir, "oauth-"+t.Name))
	m.Wait = RefreshLockWait
	return m.Lock(ctx)
}

// LoginCommand returns the command that logs in to OAuth tenant t again.
func (t *Tenant) LoginCommand() string {
	cmd := "jwh tenant login " + t.Name + " --client-id " + t.ClientID
	if t.StorageOf() == StorageFile {
		cmd += " --no-keyring"
	}
	return cmd
}

// secretError is an error about a tenant's secret in words of its own
// that matches a sentinel (ErrNoSecret, ErrKeyringDown) with errors.Is.
type secretError struct {
	msg string
	is  error
	err error // the cause, if any
}

func (e *secretError) Error() string        { return e.msg }
func (e *secretError) Is(target error) bool { return target == e.is }
func (e *secretError) Unwrap() error        { return e.err }
