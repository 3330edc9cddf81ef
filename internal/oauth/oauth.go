// Package oauth is jwh's client of Atlassian's OAuth 2.0 (3LO)
// authorization server, built on golang.org/x/oauth2: the pieces of a
// login (the authorization URL, the loopback callback server or the
// pasted address, the state check, the code exchange, the sites of
// accessible-resources and the choice among them), and the Source that
// authorizes requests to the API gateway with a bearer token and
// refreshes it, across processes, without ever presenting a refresh token
// that another jwh has already rotated.
//
// It knows nothing of where secrets are stored: a Source loads and saves
// its tenant's bundle through a Store, which package tenant implements.
//
// The requests to the authorization server and to accessible-resources go
// through the HTTP client given in App (a transport client without an
// Authorizer: timeouts, --debug with the secrets of the bodies redacted,
// and no second POST of a token request that may have reached the
// server).
package oauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// Atlassian's endpoints and the defaults of jwh tenant login.
const (
	DefaultAuthURL = "https://auth.atlassian.com" // the authorization server
	DefaultAPIURL  = "https://api.atlassian.com"  // the API gateway
	// Audience is the audience parameter Atlassian requires.
	Audience = "api.atlassian.com"
	// ScopeOffline grants a refresh token.
	ScopeOffline = "offline_access"
)

// WebhookScopes are the classic scopes of the dynamic-webhook API: the
// webhooks, and the JQL of their filters.
var WebhookScopes = []string{"manage:jira-webhook", "read:jira-work"}

// DefaultScopes are the scopes jwh asks for: WebhookScopes and a refresh
// token for cron.
var DefaultScopes = append(slices.Clone(WebhookScopes), ScopeOffline)

// Peer names the authorization server in network errors.
const Peer = "the authorization server"

// maxAnswer bounds the bodies read from the authorization server and the
// gateway's accessible-resources.
const maxAnswer = 1 << 20

// An App is one OAuth 2.0 app as its authorization server knows it.
type App struct {
	ClientID     string
	ClientSecret string // never printed (see String)
	AuthURL      string // e.g. https://auth.atlassian.com, no trailing slash
	APIURL       string // e.g. https://api.atlassian.com, no trailing slash
	RedirectURI  string // the login's callback URL
	Scopes       []string
	// HTTPClient sends every request: a transport client without an
	// Authorizer.
	HTTPClient *http.Client
	// Now is the clock of token expiries; nil means time.Now.
	Now func() time.Time
}

// String describes the app without its secret.
func (a App) String() string {
	return fmt.Sprintf("oauth.App{ClientID:%q, ClientSecret:[redacted], AuthURL:%q, APIURL:%q}", a.ClientID, a.AuthURL, a.APIURL)
}

// GoString is String, for %#v.
func (a App) GoString() string { return a.String() }

// Format prints String for every verb.
func (a App) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// TokenURL returns the token endpoint: AUTH/oauth/token.
func (a *App) TokenURL() string { return a.AuthURL + "/oauth/token" }

func (a *App) config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret,
		RedirectURL:  a.RedirectURI,
		Scopes:       a.Scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:  a.AuthURL + "/authorize",
			TokenURL: a.TokenURL(),
			// In the body, as Atlassian documents; never probed, since a
			// second try would present a code or refresh token again.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (a *App) context(ctx context.Context) context.Context {
	if a.HTTPClient == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, a.HTTPClient)
}

// AuthCodeURL returns the authorization URL the user's browser opens:
// AUTH/authorize with Atlassian's parameters (audience, client_id, scope,
// redirect_uri, state, response_type=code, prompt=consent).
func (a *App) AuthCodeURL(state string) string {
	return a.config().AuthCodeURL(state,
		oauth2.SetAuthURLParam("audience", Audience),
		oauth2.SetAuthURLParam("prompt", "consent"))
}

// A Token is what the token endpoint answers. It formats without its
// tokens.
type Token struct {
	AccessToken  string
	RefreshToken string // "" without offline_access
	Expiry       time.Time
	Scopes       []string // granted; the requested ones when the answer names none
}

// String describes the token without its values.
func (t Token) String() string {
	rt := "none"
	if t.RefreshToken != "" {
		rt = "[redacted]"
	}
	return fmt.Sprintf("oauth.Token{AccessToken:[redacted], RefreshToken:%s, Expiry:%s, Scopes:%q}", rt, t.Expiry.UTC().Format(time.RFC3339), t.Scopes)
}

// GoString is String, for %#v.
func (t Token) GoString() string { return t.String() }

// Format prints String for every verb.
func (t Token) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// Exchange trades the code of a login for tokens (grant
// authorization_code, with the app's redirect URI). Its errors are
// *Error or network errors, never the answer's body.
func (a *App) Exchange(ctx context.Context, code string) (*Token, error) {
	start := a.now()
	tok, err := a.config().Exchange(a.context(ctx), code)
	if err != nil {
		return nil, a.exchangeError(err)
	}
	return a.token(tok, start), nil
}

// Refresh trades a refresh token for a new access token and, as Atlassian
// rotates them, a new refresh token (grant refresh_token). The request is
// sent once: a refresh token that reached the server may be rotated
// already. Errors are returned as x/oauth2 and the transport give them;
// Source words them for the tenant.
func (a *App) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	start := a.now()
	tok, err := a.config().TokenSource(a.context(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, err
	}
	return a.token(tok, start), nil
}

// token converts an answer of the token endpoint; start is when the
// request was sent, from which expires_in counts.
func (a *App) token(tok *oauth2.Token, start time.Time) *Token {
	t := &Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	if tok.ExpiresIn > 0 {
		t.Expiry = start.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		t.Scopes = strings.Fields(s)
	} else {
		t.Scopes = slices.Clone(a.Scopes)
	}
	return t
}

// exchangeError words a failed code exchange.
func (a *App) exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("exchange the authorization code: %w", err)
	}
	what := describe(re)
	switch {
	case strings.Contains(strings.ToLower(re.ErrorDescription), "redirect_uri"):
		return &Error{Kind: ErrRedirectURI, Err: err,
			Msg: fmt.Sprintf("the authorization server refused the redirect URI (%s): add %s to the app's callback URLs in the developer console (Authorization → OAuth 2.0 (3LO)), then try again", what, a.RedirectURI)}
	case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client":
		return &Error{Kind: ErrClientRefused, Err: err,
			Msg: fmt.Sprintf("the authorization server refused the client id or secret (%s): check --client-id and the client secret (JWH_CLIENT_SECRET or standard input)", what)}
	case re.ErrorCode == "invalid_grant":
		return &Error{Kind: ErrClientRefused, Err: err,
			Msg: fmt.Sprintf("the authorization server refused the code (%s): a code is good for one exchange within minutes; run jwh tenant login again", what)}
	case re.ErrorCode == "access_denied":
		return deniedError()
	}
	return fmt.Errorf("exchange the authorization code: the authorization server answered %s; try again later", what)
}

// describe says what the token endpoint answered, without its body:
// "invalid_grant: Unknown or invalid refresh token." or "500 Internal
// Server Error".
func describe(re *oauth2.RetrieveError) string {
	if re.ErrorCode != "" {
		if d := oneLine(re.ErrorDescription); d != "" {
			return re.ErrorCode + ": " + d
		}
		return re.ErrorCode
	}
	if re.Response != nil {
		return re.Response.Status
	}
	return "an error"
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "..."
	}
	return s
}

// A Site is one entry of accessible-resources: a site the login covers.
type Site struct {
	ID        string   `json:"id"` // the cloud id
	URL       string   `json:"url"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	AvatarURL string   `json:"avatarUrl"`
}

// AccessibleResources lists the sites an access token covers:
// GET API/oauth/token/accessible-resources.
func (a *App) AccessibleResources(ctx context.Context, accessToken string) ([]Site, error) {
	u := a.APIURL + "/oauth/token/accessible-resources"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("list the sites of the login: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	hc := a.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) {
			err = te // without net/http's repetition of the URL
		}
		return nil, fmt.Errorf("list the sites of the login: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("list the sites of the login: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list the sites of the login: %s answered %s; try again later", u, resp.Status)
	}
	var sites []Site
	if err := json.Unmarshal(data, &sites); err != nil {
		return nil, fmt.Errorf("list the sites of the login: %s answered what is not a list of sites", u)
	}
	return sites, nil
}

// ChooseSite picks the site of a login: the one whose URL or cloud id is
// want, or, when want is "", the only one. Several and none chosen is an
// error that lists them.
func ChooseSite(sites []Site, want string) (*Site, error) {
	if len(sites) == 0 {
		return nil, &Error{Kind: ErrSite, Msg: "this login covers no Jira site: give the app access to a site when you consent, then run jwh tenant login again"}
	}
	if want != "" {
		w := strings.TrimRight(strings.TrimSpace(want), "/")
		for i, s := range sites {
			if s.ID == w || strings.EqualFold(strings.TrimRight(s.URL, "/"), w) {
				return &sites[i], nil
			}
		}
		return nil, &Error{Kind: ErrSite, Msg: fmt.Sprintf("this login does not cover the site %s: it covers %s; choose one of them with --site (URL or cloud id)", want, listSites(sites))}
	}
	if len(sites) == 1 {
		return &sites[0], nil
	}
	return nil, &Error{Kind: ErrSite, Msg: fmt.Sprintf("this login covers %d sites: choose one with --site (URL or cloud id): %s", len(sites), listSites(sites))}
}

func listSites(sites []Site) string {
	parts := make([]string, len(sites))
	for i, s := range sites {
		parts[i] = fmt.Sprintf("%s (cloud id %s)", s.URL, s.ID)
	}
	return strings.Join(parts, ", ")
}

// Endpoints returns the authorization server and the API gateway of OAuth
// tenant t: those it logged in with (--auth-url, --api-url), else
// Atlassian's (a tenant records them only when they are not the defaults).
func Endpoints(t *tenant.Tenant) (authURL, apiURL string) {
	return cmp.Or(t.AuthURL, DefaultAuthURL), cmp.Or(t.APIURL, DefaultAPIURL)
}

// GatewayURL returns the base URL of a site's REST API through the API
// gateway: API/ex/jira/<cloudId>. Paths such as /rest/api/2/webhook are
// appended to it as to a Connect tenant's base URL.
func GatewayURL(apiURL, cloudID string) string {
	return strings.TrimRight(apiURL, "/") + "/ex/jira/" + url.PathEscape(cloudID)
}
