package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// ExpiryMargin is how long before its expiry a cached access token is
// refreshed rather than used: a request sent with it must reach the
// gateway while it is still valid.
const ExpiryMargin = 60 * time.Second

// WarnBefore is how long before the absolute expiry of a login (365 days
// after the consent) a Source warns that it must be renewed.
const WarnBefore = 14 * 24 * time.Hour

// ReuseInterval is how long Atlassian still accepts a refresh token after
// it was rotated; within it, a refresh whose answer was lost can be
// repeated with the old token.
const ReuseInterval = 10 * time.Minute

// A Store keeps the bundle of one OAuth tenant; package tenant implements
// it (tenant.OAuthStore), in the keyring or in credentials.json.
type Store interface {
	// Load reads the bundle as it is stored now.
	Load() (*tenant.OAuthSecrets, error)
	// Save replaces the stored bundle, as a whole.
	Save(*tenant.OAuthSecrets) error
	// Lock takes the tenant's cross-process refresh lock, waiting a
	// bounded time for another holder.
	Lock(ctx context.Context) (unlock func(), err error)
}

// SourceConfig configures NewSource.
type SourceConfig struct {
	Tenant *tenant.Tenant
	// App is the tenant's app; its ClientSecret, when not "", is used for
	// every refresh (JWH_CLIENT_SECRET); otherwise the stored bundle's.
	App *App
	// Secrets is the bundle as the tenant's Store holds it.
	Secrets *tenant.OAuthSecrets
	Store   Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Warn, when not nil, receives one line the first time the Source is
	// used within WarnBefore of the login's absolute expiry.
	Warn func(msg string)
}

// A Source is the Authorizer of one OAuth tenant's requests: it sets
// "Authorization: Bearer" with the cached access token, until ExpiryMargin
// before its expiry (or, for a token it has just obtained that lives less
// than twice that, until half its life has passed, so that a command
// refreshes at most once however short-lived the tokens); then it
// refreshes the token:
//
//  1. it takes the tenant's refresh lock (see Store), so that two jwh
//     processes never refresh with the same refresh token;
//  2. it reads the bundle again inside the lock: when another process has
//     stored an access token that is still valid, it uses that one;
//  3. otherwise it refreshes, and stores the rotated refresh token with the
//     new access token, as one bundle, before it uses either; then it
//     releases the lock.
//
// A refused refresh token (invalid_grant) is ErrLoginExpired, with the
// command that logs in again; a refresh is never retried, and at most one
// is made for a request (plus one after a 401, see Reauthorize). A Source
// is safe for concurrent use.
type Source struct {
	t        tenant.Tenant
	app      App
	override string // the client secret from the environment, or ""
	store    Store
	now      func() time.Time
	warn     func(string)

	mu      sync.Mutex
	secrets *tenant.OAuthSecrets
	life    time.Duration // of the access token, when this Source obtained it
	warned  bool
}

// NewSource returns the Source of one tenant.
func NewSource(c SourceConfig) *Source {
	s := &Source{t: *c.Tenant, app: *c.App, override: c.App.ClientSecret, store: c.Store, now: c.Now, warn: c.Warn, secrets: c.Secrets.Clone()}
	if s.now == nil {
		s.now = time.Now
	}
	s.app.Now = s.now
	return s
}

// String describes the Source without any secret.
func (s *Source) String() string { return fmt.Sprintf("oauth.Source{tenant %q}", s.t.Name) }

// GoString is String, for %#v.
func (s *Source) GoString() string { return s.String() }

// Authorize implements transport.Authorizer.
func (s *Source) Authorize(req *http.Request) error {
	tok, _, err := s.token(req.Context())
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// Reauthorize implements transport.Reauthorizer: the gateway refused the
// token that sent carried (revoked, or replaced by another process's
// refresh). It gets a token other than that one: the one this Source or
// another process has stored since, or a refreshed one. Without a refresh
// token there is nothing to do.
func (s *Source) Reauthorize(sent *http.Request) (bool, error) {
	refused, _ := strings.CutPrefix(sent.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets.AccessToken != refused && s.valid(s.secrets, 0) {
		return true, nil // refreshed since the request was sent
	}
	if s.secrets.RefreshToken == "" {
		return false, nil
	}
	if err := s.refresh(sent.Context(), refused); err != nil {
		return false, err
	}
	return true, nil
}

// Token returns a valid access token and its expiry, refreshing it when
// needed, for callers that send it themselves (jwh token).
func (s *Source) Token(ctx context.Context) (string, time.Time, error) {
	return s.token(ctx)
}

// token returns the access token to send and its expiry: the cached one
// while it is valid for the margin more, else a refreshed one.
func (s *Source) token(ctx context.Context) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warnOnce()
	margin := ExpiryMargin
	if s.life > 0 {
		margin = min(margin, s.life/2)
	}
	if !s.valid(s.secrets, margin) {
		if err := s.refresh(ctx, ""); err != nil {
			return "", time.Time{}, err
		}
	}
	return s.secrets.AccessToken, s.secrets.AccessExpiry, nil
}

// valid reports whether the access token of b is good for margin more.
func (s *Source) valid(b *tenant.OAuthSecrets, margin time.Duration) bool {
	return b.AccessToken != "" && s.now().Add(margin).Before(b.AccessExpiry)
}

// warnOnce warns when the login ends within WarnBefore.
func (s *Source) warnOnce() {
	if s.warned || s.warn == nil {
		return
	}
	s.warned = true
	end := s.secrets.AbsoluteExpiry()
	now := s.now()
	if end.IsZero() || now.After(end) || end.Sub(now) > WarnBefore {
		return
	}
	s.warn(fmt.Sprintf("the login of tenant %s ends on %s (365 days after consent, Atlassian's limit): log in again before then: %s",
		s.t.Name, end.UTC().Format("2006-01-02 15:04 MST"), s.t.LoginCommand()))
}

// refresh replaces s.secrets with a fresher bundle, under the tenant's
// refresh lock; refused is an access token that the gateway refused ("" if
// none). It is called with s.mu held.
func (s *Source) refresh(ctx context.Context, refused string) error {
	unlock, err := s.store.Lock(ctx)
	if err != nil {
		return s.errorf(err, "wait to refresh the access token of tenant %s: %v", s.t.Name, err)
	}
	defer unlock()
	stored, err := s.store.Load()
	if err != nil {
		return err
	}
	if stored.AccessToken != s.secrets.AccessToken && stored.AccessToken != refused && s.valid(stored, 0) {
		s.secrets, s.life = stored, 0 // another process refreshed meanwhile
		return nil
	}
	if stored.RefreshToken == "" {
		return &Error{Kind: ErrLoginExpired, Tenant: s.t.Name,
			Msg: fmt.Sprintf("the access token of tenant %s expired at %s and there is no refresh token (offline_access was not granted); run: %s",
				s.t.Name, stored.AccessExpiry.UTC().Format(time.RFC3339), s.t.LoginCommand())}
	}
	app := s.app
	if s.override == "" {
		app.ClientSecret = stored.ClientSecret
	}
	issued := s.now()
	tok, err := app.Refresh(ctx, stored.RefreshToken)
	if err != nil {
		return s.refreshError(err)
	}
	next := stored.Clone()
	next.AccessToken, next.AccessExpiry = tok.AccessToken, tok.Expiry
	if tok.RefreshToken != stored.RefreshToken {
		next.RefreshToken, next.RefreshIssued = tok.RefreshToken, issued
	}
	if len(tok.Scopes) > 0 {
		next.Scopes = tok.Scopes
	}
	// Stored before it is used: a process that dies now leaves the new
	// refresh token behind, not a rotated one.
	if err := s.store.Save(next); err != nil {
		return s.errorf(err, "%v; the refreshed tokens of tenant %s could not be stored, but its previous refresh token stays usable for %s: fix that and run jwh again",
			err, s.t.Name, ReuseInterval)
	}
	s.secrets, s.life = next, tok.Expiry.Sub(issued)
	return nil
}

// refreshError words a failed refresh for the tenant.
func (s *Source) refreshError(err error) error {
	name, login := s.t.Name, s.t.LoginCommand()
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "invalid_grant":
			return &Error{Kind: ErrLoginExpired, Tenant: name, Err: err,
				Msg: fmt.Sprintf("the login of tenant %s has expired or was revoked; run: %s", name, login)}
		case "invalid_client", "unauthorized_client":
			return &Error{Kind: ErrClientRefused, Tenant: name, Err: err,
				Msg: fmt.Sprintf("the authorization server refused the client id or secret of tenant %s (%s): check %s, or log in again: %s",
					name, describe(re), tenant.EnvClientSecret, login)}
		}
		return s.errorf(err, "refresh the access token of tenant %s: the authorization server answered %s; try again later", name, describe(re))
	}
	var te *transport.Error
	if errors.As(err, &te) {
		if te.Sent {
			return s.errorf(err, "refresh the access token of tenant %s: %s; the refresh may have reached the server: run jwh again within %s, while the previous refresh token is still accepted",
				name, te.What(), ReuseInterval)
		}
		return s.errorf(err, "refresh the access token of tenant %s: %v", name, te)
	}
	return s.errorf(err, "refresh the access token of tenant %s: %v", name, err)
}

// errorf returns an *Error about the tenant, of no particular kind, whose
// cause is err (so that errors.Is still finds, say, ErrKeyringDown).
func (s *Source) errorf(err error, format string, args ...any) error {
	return &Error{Tenant: s.t.Name, Msg: fmt.Sprintf(format, args...), Err: err}
}
