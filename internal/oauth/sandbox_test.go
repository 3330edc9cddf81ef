package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// These tests run the token source and the login pieces against the
// sandbox, the project's one stand-in for Atlassian's authorization
// server and gateway.

const (
	clientID     = "oauth-test-client"
	clientSecret = "oauth-test-client-secret-9f2c"
)

// world is a sandbox with one site (acme) and a directory for jwh's
// config and credentials.json.
type world struct {
	srv    *sandbox.Server
	run    *sandbox.Running
	site   *sandbox.Tenant
	dir    string
	issued []string // every token the sandbox issued
	mu     sync.Mutex
}

func newWorld(t *testing.T, ttl time.Duration) *world {
	t.Helper()
	w := &world{dir: t.TempDir()}
	w.srv = sandbox.New(sandbox.Options{OAuth: sandbox.OAuthOptions{
		ClientID: clientID, ClientSecret: clientSecret, AccessTokenTTL: ttl,
		RefreshReuseInterval: -1, // a rotated refresh token presented again revokes the login
		OnIssue: func(access, refresh string) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.issued = append(w.issued, access)
			if refresh != "" {
				w.issued = append(w.issued, refresh)
			}
		},
	}})
	site, err := w.srv.AddTenant(sandbox.TenantConfig{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	w.site = site
	w.run, err = w.srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.run.Close() })
	return w
}

func (w *world) app(t *testing.T, scopes ...string) *oauth.App {
	t.Helper()
	hc, err := transport.New(transport.Options{Peer: oauth.Peer})
	if err != nil {
		t.Fatal(err)
	}
	if len(scopes) == 0 {
		scopes = oauth.DefaultScopes
	}
	return &oauth.App{ClientID: clientID, ClientSecret: clientSecret, AuthURL: w.run.URL(), APIURL: w.run.URL(),
		RedirectURI: oauth.DefaultRedirectURI, Scopes: scopes, HTTPClient: hc}
}

// login logs in as user through the sandbox's approval without a page and
// returns the tokens, as jwh tenant login --no-browser does.
func (w *world) login(t *testing.T, app *oauth.App, user string) *oauth.Token {
	t.Helper()
	state, err := oauth.NewState()
	if err != nil {
		t.Fatal(err)
	}
	loc, err := sandbox.Approve(nil, app.AuthCodeURL(state), user)
	if err != nil {
		t.Fatal(err)
	}
	redirect, _ := oauth.ParseRedirectURI(app.RedirectURI)
	answer, err := oauth.ParseAnswer(loc.String(), redirect)
	if err != nil {
		t.Fatal(err)
	}
	code, err := answer.Check(state)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := app.Exchange(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tenantFor returns the OAuth tenant of a login stored in credentials.json
// (the Resolver's real store), its resolver, and the stored bundle.
func (w *world) tenantFor(t *testing.T, tok *oauth.Token) (*tenant.Tenant, *tenant.Resolver) {
	t.Helper()
	tn := &tenant.Tenant{Name: "acme-oauth", Kind: tenant.KindOAuth, ClientID: clientID, CloudID: w.site.CloudID(),
		SiteURL: w.site.BaseURL(), Scopes: tok.Scopes, AuthURL: w.run.URL(), APIURL: w.run.URL(), Storage: tenant.StorageFile}
	r := w.resolver()
	now := time.Now()
	err := r.SaveOAuth(tn, &tenant.OAuthSecrets{ClientSecret: clientSecret, RefreshToken: tok.RefreshToken,
		AccessToken: tok.AccessToken, AccessExpiry: tok.Expiry, RefreshIssued: now, LoginAt: now, Scopes: tok.Scopes})
	if err != nil {
		t.Fatal(err)
	}
	return tn, r
}

func (w *world) resolver() *tenant.Resolver {
	return &tenant.Resolver{Store: tenant.NewMemoryStore(), Getenv: func(string) string { return "" },
		CredentialsPath: filepath.Join(w.dir, tenant.CredentialsFile)}
}

// source returns a token source for tn, as a command builds it: the bundle
// read through its own resolver (one per process).
func (w *world) source(t *testing.T, tn *tenant.Tenant) *oauth.Source {
	t.Helper()
	r := w.resolver()
	l, err := r.OAuth(tn)
	if err != nil {
		t.Fatal(err)
	}
	app := w.app(t)
	app.ClientSecret = ""
	return oauth.NewSource(oauth.SourceConfig{Tenant: tn, App: app, Secrets: l.Secrets, Store: r.OAuthStore(tn)})
}

// expire marks the stored access token of tn as expired, as time passing
// would.
func (w *world) expire(t *testing.T, tn *tenant.Tenant) {
	t.Helper()
	r := w.resolver()
	l, err := r.OAuth(tn)
	if err != nil {
		t.Fatal(err)
	}
	l.Secrets.AccessExpiry = time.Now().Add(-time.Minute)
	if err := r.SaveOAuth(tn, l.Secrets); err != nil {
		t.Fatal(err)
	}
}

func (w *world) stored(t *testing.T, tn *tenant.Tenant) *tenant.OAuthSecrets {
	t.Helper()
	l, err := w.resolver().OAuth(tn)
	if err != nil {
		t.Fatal(err)
	}
	return l.Secrets
}

// refreshes counts the refresh_token grants the sandbox answered, and
// those it refused.
func (w *world) refreshes() (ok, refused int) {
	for _, r := range w.srv.TokenRequests() {
		if r.Grant != "refresh_token" {
			continue
		}
		if r.GrantError == "" && r.Status == http.StatusOK {
			ok++
		} else {
			refused++
		}
	}
	return ok, refused
}

// client returns a Jira client of the gateway for tn, as cmdutil builds
// it.
func (w *world) client(t *testing.T, tn *tenant.Tenant, src *oauth.Source) *jira.Client {
	t.Helper()
	hc, err := transport.New(transport.Options{Authorizer: src})
	if err != nil {
		t.Fatal(err)
	}
	base, err := urlpolicy.ParseBaseURL(oauth.GatewayURL(tn.APIURL, tn.CloudID))
	if err != nil {
		t.Fatal(err)
	}
	return jira.NewClient(hc, base)
}

func TestLoginAgainstTheSandbox(t *testing.T) {
	w := newWorld(t, 0)
	app := w.app(t)
	tok := w.login(t, app, "alice")
	if tok.AccessToken == "" || tok.RefreshToken == "" || time.Until(tok.Expiry) < 59*time.Minute || time.Until(tok.Expiry) > time.Hour+time.Minute {
		t.Errorf("token %v", tok)
	}
	if got := strings.Join(tok.Scopes, " "); got != "manage:jira-webhook read:jira-work offline_access" {
		t.Errorf("scopes %q", got)
	}
	sites, err := app.AccessibleResources(context.Background(), tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	site, err := oauth.ChooseSite(sites, "")
	if err != nil || site.ID != w.site.CloudID() || site.URL != w.site.BaseURL() {
		t.Fatalf("site %+v, %v", site, err)
	}

	// The code is good for one exchange.
	state, _ := oauth.NewState()
	loc, err := sandbox.Approve(nil, app.AuthCodeURL(state), "alice")
	if err != nil {
		t.Fatal(err)
	}
	code := loc.Query().Get("code")
	if _, err := app.Exchange(context.Background(), code); err != nil {
		t.Fatal(err)
	}
	_, err = app.Exchange(context.Background(), code)
	if !errors.Is(err, oauth.ErrClientRefused) || !strings.HasPrefix(err.Error(), "the authorization server refused the code (invalid_grant") {
		t.Errorf("second exchange: %v", err)
	}

	// A wrong client secret.
	bad := w.app(t)
	bad.ClientSecret = "not-the-secret"
	state, _ = oauth.NewState()
	loc, _ = sandbox.Approve(nil, bad.AuthCodeURL(state), "alice")
	_, err = bad.Exchange(context.Background(), loc.Query().Get("code"))
	if !errors.Is(err, oauth.ErrClientRefused) || !strings.Contains(err.Error(), "refused the client id or secret (invalid_client") ||
		strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestLoginWithoutOfflineAccess(t *testing.T) {
	w := newWorld(t, 0)
	tok := w.login(t, w.app(t, oauth.WebhookScopes...), "alice")
	if tok.RefreshToken != "" || tok.AccessToken == "" {
		t.Errorf("token %v: want an access token and no refresh token", tok)
	}
}

// TestSourceRefreshesOnceWhenExpired: an expired access token is
// refreshed once, the rotated refresh token and the new access token are
// stored, and the new token serves the next requests without another
// refresh.
func TestSourceRefreshesOnceWhenExpired(t *testing.T) {
	w := newWorld(t, 0)
	tok := w.login(t, w.app(t), "alice")
	tn, _ := w.tenantFor(t, tok)
	w.expire(t, tn)
	src := w.source(t, tn)
	c := w.client(t, tn, src)
	for range 3 {
		if _, err := c.AllWebhooks(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if ok, refused := w.refreshes(); ok != 1 || refused != 0 {
		t.Fatalf("%d refreshes (%d refused), want exactly 1", ok, refused)
	}
	s := w.stored(t, tn)
	if s.RefreshToken == tok.RefreshToken || s.AccessToken == tok.AccessToken || s.RefreshToken == "" {
		t.Error("the rotated tokens were not stored")
	}
	if s.ClientSecret != clientSecret || !s.LoginAt.Equal(w.stored(t, tn).LoginAt) || time.Until(s.AccessExpiry) < 59*time.Minute {
		t.Errorf("stored bundle %v", s)
	}
	tokNow, _, err := src.Token(context.Background())
	if err != nil || tokNow != s.AccessToken {
		t.Errorf("the source uses another token than the stored one")
	}
	for _, r := range w.srv.Requests() {
		if strings.HasPrefix(r.Path, sandbox.GatewayPath) && (!r.Verified || r.Status != http.StatusOK) {
			t.Errorf("gateway request %s %s: %d %s", r.Method, r.Path, r.Status, r.Reason)
		}
	}
}

// TestSourceConcurrentRefresh: processes (here goroutines, each with its
// own source, resolver and lock file handle) that find the same expired
// token refresh it once between them; the others take the token it
// stored. The sandbox revokes the login if a rotated refresh token is
// presented again, so a second refresh would fail.
func TestSourceConcurrentRefresh(t *testing.T) {
	w := newWorld(t, 0)
	tok := w.login(t, w.app(t), "alice")
	tn, _ := w.tenantFor(t, tok)
	w.expire(t, tn)
	const n = 6
	sources := make([]*oauth.Source, n)
	for i := range sources {
		sources[i] = w.source(t, tn)
	}
	tokens := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens[i], _, errs[i] = sources[i].Token(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("source %d: %v", i, err)
		}
	}
	if ok, refused := w.refreshes(); ok != 1 || refused != 0 {
		t.Fatalf("%d refreshes (%d refused), want exactly 1", ok, refused)
	}
	for i, tk := range tokens {
		if tk != tokens[0] || tk == tok.AccessToken {
			t.Errorf("source %d uses another token", i)
		}
	}
	if w.stored(t, tn).AccessToken != tokens[0] {
		t.Error("the token in use is not the stored one")
	}
}

// failingSave is a store whose Save fails: the refreshed tokens must then
// not be used.
type failingSave struct {
	oauth.Store
}

func (failingSave) Save(*tenant.OAuthSecrets) error { return errors.New("disk full") }

func TestSourceStoresBeforeUse(t *testing.T) {
	w := newWorld(t, 0)
	tok := w.login(t, w.app(t), "alice")
	tn, r := w.tenantFor(t, tok)
	w.expire(t, tn)
	l, _ := r.OAuth(tn)
	app := w.app(t)
	app.ClientSecret = ""
	src := oauth.NewSource(oauth.SourceConfig{Tenant: tn, App: app, Secrets: l.Secrets, Store: failingSave{r.OAuthStore(tn)}})
	req, _ := http.NewRequest("GET", oauth.GatewayURL(tn.APIURL, tn.CloudID)+"/rest/api/2/webhook", nil)
	err := src.Authorize(req)
	want := "disk full; the refreshed tokens of tenant acme-oauth could not be stored, but its previous refresh token stays usable for 10m0s: fix that and run jwh again"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("a token that was not stored was used")
	}
	if ok, _ := w.refreshes(); ok != 1 {
		t.Errorf("%d refreshes", ok)
	}
	// Nor later: the source still holds what is stored.
	req.Header.Del("Authorization")
	if err := src.Authorize(req); err == nil || req.Header.Get("Authorization") != "" {
		t.Errorf("second request: %v, authorized with %q", err, req.Header.Get("Authorization"))
	}
}

// TestSourceInvalidGrant: a login that the user revoked ends with the
// error that says how to log in again, after one refused refresh; the
// source never tries again.
func TestSourceInvalidGrant(t *testing.T) {
	w := newWorld(t, 0)
	tok := w.login(t, w.app(t), "alice")
	tn, _ := w.tenantFor(t, tok)
	w.expire(t, tn)
	if _, err := w.srv.Revoke("alice"); err != nil {
		t.Fatal(err)
	}
	src := w.source(t, tn)
	c := w.client(t, tn, src)
	for range 2 {
		_, err := c.AllWebhooks(context.Background())
		want := "the login of tenant acme-oauth has expired or was revoked; run: jwh tenant login acme-oauth --client-id " + clientID + " --no-keyring"
		if !errors.Is(err, oauth.ErrLoginExpired) || err == nil || err.Error() != want {
			t.Fatalf("got  %v\nwant %s", err, want)
		}
	}
	if ok, refused := w.refreshes(); ok != 0 || refused != 2 {
		t.Errorf("%d refreshes, %d refused: want one refused per command, and no retry", ok, refused)
	}
	for _, r := range w.srv.Requests() {
		if strings.HasPrefix(r.Path, sandbox.GatewayPath) {
			t.Errorf("a gateway request was sent: %s %s", r.Method, r.Path)
		}
	}
}

// TestSourceReauthorizesAfter401: the gateway refuses a cached token that
// has not expired on our clock (revoked, or replaced); the transport asks
// the source once, it refreshes, and the request is sent again.
func TestSourceReauthorizesAfter401(t *testing.T) {
	w := newWorld(t, 0)
	tok := w.login(t, w.app(t), "alice")
	tn, _ := w.tenantFor(t, tok)
	if err := w.srv.ExpireAccessTokens(); err != nil {
		t.Fatal(err)
	}
	src := w.source(t, tn)
	hooks, err := w.client(t, tn, src).AllWebhooks(context.Background())
	if err != nil || len(hooks) != 0 {
		t.Fatalf("%v, %v", hooks, err)
	}
	if ok, _ := w.refreshes(); ok != 1 {
		t.Errorf("%d refreshes, want 1", ok)
	}
	var statuses []int
	for _, r := range w.srv.Requests() {
		if strings.HasPrefix(r.Path, sandbox.GatewayPath) {
			statuses = append(statuses, r.Status)
		}
	}
	if fmt.Sprint(statuses) != "[401 200]" {
		t.Errorf("gateway answers %v, want [401 200]", statuses)
	}
}

// TestSourceSecondUnauthorizedIsReturned: a token without the webhook
// scope is refused, refreshed once, refused again; the 401 is the answer.
func TestSourceSecondUnauthorizedIsReturned(t *testing.T) {
	w := newWorld(t, 0)
	tok := w.login(t, w.app(t, "read:jira-work", oauth.ScopeOffline), "alice")
	tn, _ := w.tenantFor(t, tok)
	_, err := w.client(t, tn, w.source(t, tn)).AllWebhooks(context.Background())
	var ae *jira.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "scope does not match") {
		t.Fatalf("got %v", err)
	}
	if ok, _ := w.refreshes(); ok != 1 {
		t.Errorf("%d refreshes, want 1", ok)
	}
}

// TestNoTokenInErrorsOrDebug: what the source and the login print (their
// errors, the --debug dump) holds none of the tokens the sandbox issued,
// nor the client secret.
func TestNoTokenInErrorsOrDebug(t *testing.T) {
	w := newWorld(t, 0)
	var dbg strings.Builder
	var mu sync.Mutex
	hc, _ := transport.New(transport.Options{Peer: oauth.Peer, Debug: writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return dbg.Write(p)
	})})
	app := w.app(t)
	app.HTTPClient = hc
	tok := w.login(t, app, "alice")
	if _, err := app.AccessibleResources(context.Background(), tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	tn, r := w.tenantFor(t, tok)
	w.expire(t, tn)
	l, _ := r.OAuth(tn)
	app.ClientSecret = ""
	src := oauth.NewSource(oauth.SourceConfig{Tenant: tn, App: app, Secrets: l.Secrets, Store: r.OAuthStore(tn)})
	hcGateway, _ := transport.New(transport.Options{Authorizer: src, Debug: writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return dbg.Write(p)
	})})
	base, _ := urlpolicy.ParseBaseURL(oauth.GatewayURL(tn.APIURL, tn.CloudID))
	if _, err := jira.NewClient(hcGateway, base).AllWebhooks(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _ = w.srv.Revoke("alice")
	w.expire(t, tn)
	_, err := w.client(t, tn, w.source(t, tn)).AllWebhooks(context.Background())
	if err == nil {
		t.Fatal("no error after the login was revoked")
	}
	out := dbg.String() + err.Error()
	if !strings.Contains(out, "client_secret=[redacted]") || !strings.Contains(out, `"access_token":"[redacted]"`) {
		t.Errorf("the debug dump does not show the redacted exchanges:\n%s", out)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.issued) < 4 {
		t.Fatalf("only %d tokens issued", len(w.issued))
	}
	for _, secret := range append([]string{clientSecret}, w.issued...) {
		if strings.Contains(out, secret) {
			t.Errorf("a secret appears in the output:\n%s", out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// The login's parameters are those the sandbox, like Atlassian, requires:
// a missing audience or an unknown redirect URI gets its 400 page, never a
// redirect.
func TestAuthCodeURLIsAccepted(t *testing.T) {
	w := newWorld(t, 0)
	app := w.app(t)
	u, _ := url.Parse(app.AuthCodeURL("st"))
	q := u.Query()
	q.Del("audience")
	u.RawQuery = q.Encode()
	if _, err := sandbox.Approve(nil, u.String(), "alice"); err == nil {
		t.Error("the sandbox approved a request without audience: the test proves nothing")
	}
	app.RedirectURI = "http://localhost:1/not-registered"
	if _, err := sandbox.Approve(nil, app.AuthCodeURL("st"), "alice"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("unknown redirect URI: %v", err)
	}
}

// TestSourceShortLivedTokens: tokens that live less than the 60 s margin
// are refreshed when a command starts, and the refreshed one serves the
// rest of the command: one refresh per command, not per request.
func TestSourceShortLivedTokens(t *testing.T) {
	w := newWorld(t, 30*time.Second)
	tok := w.login(t, w.app(t), "alice")
	tn, _ := w.tenantFor(t, tok)
	for cmd := 1; cmd <= 2; cmd++ {
		c := w.client(t, tn, w.source(t, tn))
		for range 3 {
			if _, err := c.AllWebhooks(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if ok, refused := w.refreshes(); ok != cmd || refused != 0 {
			t.Fatalf("after command %d: %d refreshes (%d refused), want %d", cmd, ok, refused, cmd)
		}
	}
}
