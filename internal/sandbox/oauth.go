package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// The OAuth 2.0 (3LO) side of the sandbox plays auth.atlassian.com and
// api.atlassian.com for one OAuth app: the authorization endpoint (a
// consent page, or approval without a page), the token endpoint with
// rotating refresh tokens, accessible-resources, and the gateway
// (gateway.go) through which the app reaches each site's webhook API with
// a user's access token. Every tenant of the sandbox is a site; one
// consent covers them all.

// Atlassian's OAuth defaults and limits, as the sandbox plays them.
const (
	// Audience is the audience an authorization request must ask for.
	Audience = "api.atlassian.com"
	// DefaultCallbackURL is the callback URL every sandbox app has: jwh
	// tenant login's default redirect URI.
	DefaultCallbackURL = "http://localhost:8976/callback"
	// DefaultAccessTokenTTL is the lifetime of access tokens, Atlassian's.
	DefaultAccessTokenTTL = time.Hour
	// DefaultRefreshReuseInterval is how long a rotated refresh token
	// stays usable: Atlassian's 10-minute leeway.
	DefaultRefreshReuseInterval = 10 * time.Minute
	// RefreshInactivity is how long a refresh token lives unused.
	RefreshInactivity = 90 * 24 * time.Hour
	// RefreshAbsoluteExpiry is how long a login's refresh tokens live,
	// however often they are used: then the user must consent again.
	RefreshAbsoluteExpiry = 365 * 24 * time.Hour
	// CodeLifetime is how long an authorization code can be exchanged.
	CodeLifetime = 10 * time.Minute
	// DefaultUser is the user the consent page suggests.
	DefaultUser = "alice"
	// OAuthAppName is the name of the sandbox's OAuth app.
	OAuthAppName = "jwh sandbox app"

	// pageLifetime is how long a consent page can be answered.
	pageLifetime = 10 * time.Minute
	// maxPending bounds the consent pages and codes waiting for an
	// answer, so that a loop of GETs cannot fill the sandbox's memory.
	maxPending = 1000
	// maxRotated is how many rotated refresh tokens of one login the
	// sandbox remembers (to revoke the login when one comes back); older
	// ones are forgotten, and then refused as unknown.
	maxRotated = 100
	// accessGrace is how long an expired or revoked access token is
	// remembered, and loginGrace how long a login past its absolute
	// expiry, so that the request log says why they were refused.
	accessGrace = 24 * time.Hour
	loginGrace  = 30 * 24 * time.Hour
	// maxTokenBody is the largest token request body the sandbox reads.
	maxTokenBody = 64 << 10
)

// The paths of the OAuth side, on the sandbox's root URL (so the root URL
// is both the --auth-url and the --api-url of jwh tenant login).
const (
	AuthorizePath = "/authorize"
	TokenPath     = "/oauth/token"
	ResourcesPath = "/oauth/token/accessible-resources"
	// GatewayPath is followed by a site's cloud id and then the site's
	// own API path: /ex/jira/{cloudId}/rest/api/2/webhook.
	GatewayPath = "/ex/jira/"
)

// The kinds of app, in Request.Kind and DeliveryResult.App.
const (
	KindConnect = "connect"
	KindOAuth   = "oauth"
)

// OAuthOptions configure the sandbox's OAuth app. The zero value behaves
// like Atlassian.
type OAuthOptions struct {
	// ClientID and ClientSecret are the app's credentials when the sandbox
	// creates the app (a new sandbox, or a state file without one);
	// empty means random. Tests fix them.
	ClientID, ClientSecret string
	// AccessTokenTTL is the lifetime of access tokens; 0 means
	// DefaultAccessTokenTTL. Tests make it short to force refreshes.
	AccessTokenTTL time.Duration
	// RefreshReuseInterval is how long a rotated refresh token can still
	// be exchanged (for a new pair); presenting it later revokes the whole
	// login. 0 means DefaultRefreshReuseInterval; a negative value means
	// none: a rotated token is never accepted again.
	RefreshReuseInterval time.Duration
	// OnIssue, when set, is called with every access token and refresh
	// token ("" when none) the token endpoint issues, before it answers:
	// tests use it to check that no token shows where it must not. It is
	// called with the sandbox locked, so it must not call the Server. The
	// sandbox itself keeps no token, only its SHA-256.
	OnIssue func(accessToken, refreshToken string)
}

// OAuthApp is the sandbox's OAuth 2.0 (3LO) app, as Atlassian's developer
// console shows it. It formats without its secret.
type OAuthApp struct {
	Name         string
	ClientID     string
	ClientSecret string
	CallbackURLs []string
}

// String describes a without its secret.
func (a OAuthApp) String() string {
	return fmt.Sprintf("sandbox.OAuthApp{Name:%q, ClientID:%q, CallbackURLs:%q, ClientSecret:[redacted]}", a.Name, a.ClientID, a.CallbackURLs)
}

// GoString is String, so that %#v does not print the secret either.
func (a OAuthApp) GoString() string { return a.String() }

// oauthApp is the state of the OAuth side, guarded by Server.mu. Tokens
// are kept by their SHA-256 (tokenKey), so neither memory dumps of the
// maps nor the state file hold a usable token.
type oauthApp struct {
	clientID, clientSecret string
	callbacks              []string
	accessTTL, reuse       time.Duration // reuse < 0: none
	onIssue                func(access, refresh string)

	families map[string]family       // logins, by id
	refresh  map[string]refreshToken // by tokenKey
	access   map[string]accessToken  // by tokenKey
	codes    map[string]*authCode    // by tokenKey; memory only
	pages    map[string]*consentPage // consent pages, by tokenKey of their form token; memory only
}

// family is one login: a user's consent, and the tokens issued from it.
type family struct {
	user    string
	scopes  []string
	loginAt time.Time // the consent: the start of the absolute expiry
}

type refreshToken struct {
	family  string
	issued  time.Time
	rotated time.Time // when it was first exchanged; zero while current
}

type accessToken struct {
	family  string
	expires time.Time
	revoked bool // its login was revoked; kept for the log's reason
}

// authRequest is a checked authorization request.
type authRequest struct {
	redirectURI string
	scopes      []string
	state       string
}

type authCode struct {
	req     authRequest
	user    string
	expires time.Time
	family  string // the login it made, once exchanged
}

type consentPage struct {
	req     authRequest
	expires time.Time
}

func newOAuthApp(opts OAuthOptions) oauthApp {
	a := oauthApp{
		clientID: opts.ClientID, clientSecret: opts.ClientSecret,
		callbacks: []string{DefaultCallbackURL},
		accessTTL: opts.AccessTokenTTL, reuse: opts.RefreshReuseInterval, onIssue: opts.OnIssue,
		families: map[string]family{}, refresh: map[string]refreshToken{}, access: map[string]accessToken{},
		codes: map[string]*authCode{}, pages: map[string]*consentPage{},
	}
	if a.clientID == "" {
		a.clientID = randomClientID()
	}
	if a.clientSecret == "" {
		a.clientSecret = randomToken(48)
	}
	if a.accessTTL <= 0 {
		a.accessTTL = DefaultAccessTokenTTL
	}
	if a.reuse == 0 {
		a.reuse = DefaultRefreshReuseInterval
	}
	return a
}

// randomClientID returns 32 letters and digits, the shape of Atlassian's
// client ids.
func randomClientID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := randomBytes(32)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }

// tokenKey is how a token, code or form token is kept: its SHA-256.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// OAuthApp returns the sandbox's OAuth app.
func (s *Server) OAuthApp() OAuthApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return OAuthApp{Name: OAuthAppName, ClientID: s.oauth.clientID, ClientSecret: s.oauth.clientSecret, CallbackURLs: slices.Clone(s.oauth.callbacks)}
}

// AddCallbackURL adds u to the app's callback URLs, as the developer
// console does; an authorization request's redirect_uri must equal one of
// them, character for character. The error is for a URL that
// urlpolicy.CheckCallbackURL refuses (https, or plain http to loopback,
// without user information or fragment), or from saving the state.
func (s *Server) AddCallbackURL(u string) error {
	if err := urlpolicy.CheckCallbackURL(u); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.oauth.callbacks, u) {
		return nil
	}
	old := s.oauth.callbacks
	s.oauth.callbacks = append(slices.Clone(old), u)
	if err := s.persistLocked(); err != nil {
		s.oauth.callbacks = old
		return err
	}
	return nil
}

// AccountID returns the Atlassian account id of the sandbox user called
// user: 24 hex digits derived from the name, so that it is stable across
// restarts and sandboxes.
func AccountID(user string) string {
	sum := sha256.Sum256([]byte("jwh-sandbox-user\x00" + user))
	return hex.EncodeToString(sum[:12])
}

// checkUser reports what is wrong with a user name, "" when nothing.
func checkUser(user string) string {
	if user == "" {
		return "a user name is required"
	}
	if len(user) > 64 {
		return fmt.Sprintf("the user name %q is longer than 64 characters", user)
	}
	for _, c := range []byte(user) {
		if !isNameByte(c) && c != '@' {
			return fmt.Sprintf("the user name %q may hold only letters, digits, '.', '_', '-' and '@'", user)
		}
	}
	return ""
}

// Revoke revokes every login of user, as when the user removes the app's
// access in their Atlassian account: their refresh and access tokens stop
// working at once. It returns how many logins it revoked; the error is
// from saving the state.
func (s *Server) Revoke(user string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	undo := s.oauthSnapshotLocked()
	n := 0
	for id, f := range s.oauth.families {
		if f.user == user {
			s.revokeLocked(id)
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	if err := s.persistLocked(); err != nil {
		s.oauth = undo
		return 0, err
	}
	return n, nil
}

// ExpireAccessTokens makes every access token issued so far expire now,
// while the refresh tokens stay valid: a client's next request with a
// cached token gets 401, as when Atlassian ends a token early. The error
// is from saving the state.
func (s *Server) ExpireAccessTokens() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	undo := s.oauthSnapshotLocked()
	now := s.now()
	for k, a := range s.oauth.access {
		if a.expires.After(now) {
			a.expires = now
			s.oauth.access[k] = a
		}
	}
	if err := s.persistLocked(); err != nil {
		s.oauth = undo
		return err
	}
	return nil
}

// TokenRequests returns the requests to the token endpoint in the request
// log, oldest first: Grant and GrantError say what each asked and got.
func (s *Server) TokenRequests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.loggedLocked() {
		if r.Path == TokenPath {
			out = append(out, r)
		}
	}
	return out
}

// oauthSnapshotLocked copies what a change of the OAuth side may change.
func (s *Server) oauthSnapshotLocked() oauthApp {
	a := s.oauth
	a.callbacks = slices.Clone(a.callbacks)
	a.families = maps.Clone(a.families)
	a.refresh = maps.Clone(a.refresh)
	a.access = maps.Clone(a.access)
	return a // codes and pages: pointers, changed only with the maps above saved
}

// revokeLocked ends a login: its refresh tokens are forgotten and its
// access tokens refused.
func (s *Server) revokeLocked(id string) {
	delete(s.oauth.families, id)
	for k, r := range s.oauth.refresh {
		if r.family == id {
			delete(s.oauth.refresh, k)
		}
	}
	for k, a := range s.oauth.access {
		if a.family == id {
			a.revoked = true
			s.oauth.access[k] = a
		}
	}
}

// pruneLocked forgets what can no longer be used: expired codes and
// consent pages, access tokens and logins past their expiry and grace,
// and the oldest rotated refresh tokens of a login beyond maxRotated.
func (s *Server) pruneLocked(now time.Time) {
	a := &s.oauth
	for k, c := range a.codes {
		if !now.Before(c.expires) {
			delete(a.codes, k)
		}
	}
	for k, p := range a.pages {
		if !now.Before(p.expires) {
			delete(a.pages, k)
		}
	}
	for k, t := range a.access {
		if !now.Before(t.expires.Add(accessGrace)) {
			delete(a.access, k)
		}
	}
	for id, f := range a.families {
		// Its access tokens, issued before the absolute expiry, have
		// expired by then.
		if !now.Before(f.loginAt.Add(RefreshAbsoluteExpiry + loginGrace)) {
			s.revokeLocked(id)
		}
	}
	rotated := map[string][]string{}
	for k, r := range a.refresh {
		if !r.rotated.IsZero() {
			rotated[r.family] = append(rotated[r.family], k)
		}
	}
	for _, keys := range rotated {
		if len(keys) <= maxRotated {
			continue
		}
		slices.SortFunc(keys, func(x, y string) int { return a.refresh[x].rotated.Compare(a.refresh[y].rotated) })
		for _, k := range keys[:len(keys)-maxRotated] {
			delete(a.refresh, k)
		}
	}
}

// serveOAuth serves the OAuth side's paths, and reports whether the path
// was one of them.
func (s *Server) serveOAuth(r *http.Request, rec *Request) (response, bool) {
	p := rec.Path
	switch {
	case p == AuthorizePath:
		rec.Kind = KindOAuth
		return s.authorize(r, rec), true
	case p == TokenPath:
		rec.Kind = KindOAuth
		return s.token(r, rec), true
	case p == ResourcesPath:
		rec.Kind = KindOAuth
		return s.resources(r, rec), true
	case strings.HasPrefix(p, GatewayPath):
		rec.Kind = KindOAuth
		return s.gateway(r, rec), true
	}
	return response{}, false
}

// checkAuthRequest checks an authorization request's parameters as
// Atlassian does before it shows a consent page: a problem is answered
// with an error page, never a redirect, so it returns a title and a
// sentence.
func (s *Server) checkAuthRequest(q url.Values) (authRequest, string, string) {
	s.mu.Lock()
	clientID, callbacks := s.oauth.clientID, slices.Clone(s.oauth.callbacks)
	s.mu.Unlock()
	ar := authRequest{redirectURI: q.Get("redirect_uri"), state: q.Get("state")}
	switch id := q.Get("client_id"); {
	case id == "":
		return ar, "Missing client_id", "The authorization request has no client_id: it must be the client id of the app (" + clientID + ")."
	case id != clientID:
		return ar, "Unknown client", fmt.Sprintf("No app has the client id %q: the sandbox's app has the client id %s.", id, clientID)
	}
	switch {
	case ar.redirectURI == "":
		return ar, "Missing redirect_uri", "The authorization request has no redirect_uri: it must be one of the app's callback URLs: " + strings.Join(callbacks, ", ") + "."
	case !slices.Contains(callbacks, ar.redirectURI):
		return ar, "Redirect URI not registered", fmt.Sprintf(
			"The redirect_uri %s is not one of the app's callback URLs (%s). Add it to the app's callback URLs (jwh sandbox --oauth-callback %s), or use a registered one.",
			ar.redirectURI, strings.Join(callbacks, ", "), ar.redirectURI)
	}
	if rt := q.Get("response_type"); rt != "code" {
		return ar, "Unsupported response_type", fmt.Sprintf("The response_type %q is not supported: use response_type=code.", rt)
	}
	if aud := q.Get("audience"); aud != Audience {
		return ar, "Wrong audience", fmt.Sprintf("The audience %q is not supported: use audience=%s.", aud, Audience)
	}
	for _, sc := range strings.Fields(q.Get("scope")) {
		if !slices.Contains(ar.scopes, sc) {
			ar.scopes = append(ar.scopes, sc)
		}
	}
	if len(ar.scopes) == 0 {
		return ar, "Missing scope", "The authorization request asks for no scope: list the scopes, separated by spaces, such as \"manage:jira-webhook read:jira-work offline_access\"."
	}
	return ar, "", ""
}

// authorize serves the authorization endpoint: GET shows the consent page
// (or, with approve=USER or deny=1, answers at once), POST is the page's
// answer.
func (s *Server) authorize(r *http.Request, rec *Request) response {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		return s.consentAnswer(r, rec)
	default:
		resp := htmlError(http.StatusMethodNotAllowed, "Method not allowed", "Use GET for the authorization request.")
		resp.header.Set("Allow", "GET, POST")
		return resp
	}
	q := r.URL.Query()
	ar, title, problem := s.checkAuthRequest(q)
	if problem != "" {
		rec.Reason = problem
		return htmlError(http.StatusBadRequest, title, problem)
	}
	approve, deny := q.Get("approve"), q.Get("deny")
	switch {
	case approve != "" && deny != "":
		rec.Reason = "both approve and deny"
		return htmlError(http.StatusBadRequest, "Approve or deny", "The request says both approve and deny: say one.")
	case deny != "":
		rec.Reason = "denied without a page"
		return denyRedirect(ar)
	case approve != "":
		if problem := checkUser(approve); problem != "" {
			rec.Reason = problem
			return htmlError(http.StatusBadRequest, "Unknown user", "approve="+approve+": "+problem+".")
		}
		rec.User, rec.Verified = approve, true
		return s.approve(ar, approve)
	}
	return s.showConsent(ar, DefaultUser, "")
}

// approve issues a code for the request and redirects to its callback.
func (s *Server) approve(ar authRequest, user string) response {
	code := randomToken(32)
	s.mu.Lock()
	now := s.now()
	s.pruneLocked(now)
	if len(s.oauth.codes) >= maxPending {
		s.mu.Unlock()
		return tooMany("authorization codes are waiting to be exchanged", CodeLifetime)
	}
	s.oauth.codes[tokenKey(code)] = &authCode{req: ar, user: user, expires: now.Add(CodeLifetime)}
	s.mu.Unlock()
	return redirectTo(ar, url.Values{"code": {code}})
}

// tooMany is the answer when maxPending of what are waiting: the oldest
// expire within lifetime.
func tooMany(what string, lifetime time.Duration) response {
	return htmlError(http.StatusServiceUnavailable, "Too many logins under way",
		fmt.Sprintf("%d %s: try again within %s.", maxPending, what, lifetime))
}

func denyRedirect(ar authRequest) response {
	return redirectTo(ar, url.Values{"error": {"access_denied"}, "error_description": {"User did not authorize the request"}})
}

// redirectTo answers 302 to the request's redirect URI with params and
// its state added to the query.
func redirectTo(ar authRequest, params url.Values) response {
	u, err := url.Parse(ar.redirectURI) // a registered callback URL: parsed before
	if err != nil {
		return htmlError(http.StatusInternalServerError, "Bad callback URL", err.Error())
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	u.RawQuery = q.Encode()
	return response{status: http.StatusFound, header: http.Header{
		"Location":        {u.String()},
		"Cache-Control":   {"no-store"},
		"Referrer-Policy": {"no-referrer"},
	}}
}

// tokenParams are the parameters of a token request.
type tokenParams struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Code         string `json:"code"`
	RedirectURI  string `json:"redirect_uri"`
	RefreshToken string `json:"refresh_token"`
}

// readTokenParams reads a token request's parameters from a JSON or
// form-encoded body (Atlassian documents JSON; golang.org/x/oauth2 sends
// a form), and the client's credentials from HTTP basic authentication
// when it is used.
func readTokenParams(r *http.Request) (tokenParams, error) {
	var p tokenParams
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "application/x-www-form-urlencoded" {
		return p, fmt.Errorf("send the parameters as application/json or application/x-www-form-urlencoded, not %q", r.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBody+1))
	if err != nil {
		return p, fmt.Errorf("cannot read the body: %v", err)
	}
	if len(b) > maxTokenBody {
		return p, fmt.Errorf("the body is larger than %d bytes", maxTokenBody)
	}
	if mt == "application/json" {
		if err := json.Unmarshal(b, &p); err != nil {
			return p, errors.New("the body is not a JSON object whose parameters are strings")
		}
	} else {
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return p, errors.New("the body is not form-encoded")
		}
		for k, v := range form {
			if len(v) > 1 {
				return p, fmt.Errorf("the parameter %s is given %d times", k, len(v))
			}
		}
		p = tokenParams{
			GrantType: form.Get("grant_type"), ClientID: form.Get("client_id"), ClientSecret: form.Get("client_secret"),
			Code: form.Get("code"), RedirectURI: form.Get("redirect_uri"), RefreshToken: form.Get("refresh_token"),
		}
	}
	if user, pass, ok := r.BasicAuth(); ok {
		// RFC 6749 2.3.1: both are form-encoded before base64.
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		switch {
		case err1 != nil || err2 != nil:
			return p, errors.New("the Authorization header's client credentials are not form-encoded")
		case p.ClientSecret != "":
			return p, errors.New("the client authenticates twice, in the Authorization header and the body: use one")
		case p.ClientID != "" && p.ClientID != id:
			return p, errors.New("the client_id in the body differs from the one in the Authorization header")
		}
		p.ClientID, p.ClientSecret = id, secret
	}
	return p, nil
}

// tokenAnswer is the token endpoint's answer.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// oauthError is an error answer of the token endpoint, in Atlassian's
// shape; reason (never a secret) goes to the request log.
func oauthError(rec *Request, status int, code, description, reason string) response {
	rec.GrantError, rec.Reason = code, reason
	resp := jsonResponse(status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
	resp.header = http.Header{"Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
	if status == http.StatusUnauthorized {
		resp.header.Set("Www-Authenticate", `Basic realm="jwh-sandbox"`)
	}
	return resp
}

// invalidGrant is Atlassian's answer to a code or refresh token it does
// not take: 403, as Auth0 (behind auth.atlassian.com) answers.
func invalidGrant(rec *Request, description, reason string) response {
	return oauthError(rec, http.StatusForbidden, "invalid_grant", description, reason)
}

// token serves the token endpoint.
func (s *Server) token(r *http.Request, rec *Request) response {
	if r.Method != http.MethodPost {
		resp := oauthError(rec, http.StatusMethodNotAllowed, "invalid_request", "Use POST.", "method "+r.Method)
		resp.header.Set("Allow", "POST")
		return resp
	}
	p, err := readTokenParams(r)
	if err != nil {
		return oauthError(rec, http.StatusBadRequest, "invalid_request", err.Error()+".", err.Error())
	}
	rec.Grant = p.GrantType
	switch p.GrantType {
	case "":
		return oauthError(rec, http.StatusBadRequest, "invalid_request", "Missing required parameter: grant_type.", "no grant_type")
	case "authorization_code", "refresh_token":
	default:
		return oauthError(rec, http.StatusBadRequest, "unsupported_grant_type",
			fmt.Sprintf("Unsupported grant type: %s.", p.GrantType), "grant_type "+p.GrantType)
	}
	if p.ClientID == "" {
		return oauthError(rec, http.StatusBadRequest, "invalid_request", "Missing required parameter: client_id.", "no client_id")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case p.ClientID != s.oauth.clientID:
		return oauthError(rec, http.StatusUnauthorized, "invalid_client", "Unknown client.", fmt.Sprintf("unknown client_id %q", p.ClientID))
	case p.ClientSecret == "":
		return oauthError(rec, http.StatusUnauthorized, "invalid_client", "Client authentication failed.", "no client_secret")
	case subtle.ConstantTimeCompare([]byte(p.ClientSecret), []byte(s.oauth.clientSecret)) != 1:
		return oauthError(rec, http.StatusUnauthorized, "invalid_client", "Client authentication failed.", "wrong client_secret")
	}
	now := s.now()
	s.pruneLocked(now)
	undo := s.oauthSnapshotLocked()
	var resp response
	if p.GrantType == "authorization_code" {
		resp = s.exchangeLocked(p, rec, now)
	} else {
		resp = s.refreshLocked(p, rec, now)
	}
	if err := s.persistLocked(); err != nil {
		s.oauth = undo
		return oauthError(rec, http.StatusInternalServerError, "server_error", "The sandbox could not save its state, so nothing changed.", err.Error())
	}
	return resp
}

// exchangeLocked exchanges an authorization code for a new login's tokens.
func (s *Server) exchangeLocked(p tokenParams, rec *Request, now time.Time) response {
	switch {
	case p.Code == "":
		return oauthError(rec, http.StatusBadRequest, "invalid_request", "Missing required parameter: code.", "no code")
	case p.RedirectURI == "":
		return oauthError(rec, http.StatusBadRequest, "invalid_request", "Missing required parameter: redirect_uri.", "no redirect_uri")
	}
	c, ok := s.oauth.codes[tokenKey(p.Code)]
	switch {
	case !ok:
		return invalidGrant(rec, "Invalid authorization code.", "unknown or expired authorization code")
	case c.family != "":
		// RFC 6749 4.1.2: a code used twice revokes what it gave.
		rec.User = c.user
		s.revokeLocked(c.family)
		return invalidGrant(rec, "Invalid authorization code.", "authorization code used twice: the login it made is revoked")
	case p.RedirectURI != c.req.redirectURI:
		rec.User = c.user
		return invalidGrant(rec, "The redirect_uri does not match the redirect_uri of the authorization request.",
			fmt.Sprintf("redirect_uri %s, but the authorization request's was %s", p.RedirectURI, c.req.redirectURI))
	}
	rec.User = c.user
	id := newUUID()
	c.family = id
	s.oauth.families[id] = family{user: c.user, scopes: slices.Clone(c.req.scopes), loginAt: now}
	return s.issueLocked(id, rec, now)
}

// refreshLocked exchanges a refresh token for a new pair, rotating it.
func (s *Server) refreshLocked(p tokenParams, rec *Request, now time.Time) response {
	if p.RefreshToken == "" {
		return oauthError(rec, http.StatusBadRequest, "invalid_request", "Missing required parameter: refresh_token.", "no refresh_token")
	}
	const unknown = "Unknown or invalid refresh token."
	key := tokenKey(p.RefreshToken)
	t, ok := s.oauth.refresh[key]
	if !ok {
		return invalidGrant(rec, unknown, "unknown refresh token (never issued, forgotten, or its login was revoked)")
	}
	f := s.oauth.families[t.family]
	rec.User = f.user
	reuse := s.oauth.reuse
	switch {
	case !now.Before(f.loginAt.Add(RefreshAbsoluteExpiry)):
		return invalidGrant(rec, unknown, "the login is more than 365 days old (absolute expiry): the user must log in again")
	case !t.rotated.IsZero() && (reuse < 0 || !now.Before(t.rotated.Add(reuse))):
		s.revokeLocked(t.family)
		return invalidGrant(rec, unknown, "refresh token presented again after it was rotated, past the reuse interval: every token of the login is revoked")
	case t.rotated.IsZero() && !now.Before(t.issued.Add(RefreshInactivity)):
		return invalidGrant(rec, unknown, "refresh token unused for 90 days")
	}
	if t.rotated.IsZero() {
		t.rotated = now
		s.oauth.refresh[key] = t
	}
	return s.issueLocked(t.family, rec, now)
}

// issueLocked issues an access token, and a refresh token when the login
// has offline_access, and answers with them.
func (s *Server) issueLocked(id string, rec *Request, now time.Time) response {
	f := s.oauth.families[id]
	at := randomToken(32)
	s.oauth.access[tokenKey(at)] = accessToken{family: id, expires: now.Add(s.oauth.accessTTL)}
	ans := tokenAnswer{
		AccessToken: at, TokenType: "Bearer",
		ExpiresIn: int64((s.oauth.accessTTL + time.Second - 1) / time.Second),
		Scope:     strings.Join(f.scopes, " "),
	}
	if slices.Contains(f.scopes, "offline_access") {
		rt := randomToken(32)
		s.oauth.refresh[tokenKey(rt)] = refreshToken{family: id, issued: now}
		ans.RefreshToken = rt
	}
	if s.oauth.onIssue != nil {
		s.oauth.onIssue(ans.AccessToken, ans.RefreshToken)
	}
	rec.Verified = true
	resp := jsonResponse(http.StatusOK, ans)
	resp.header = http.Header{"Cache-Control": {"no-store"}, "Pragma": {"no-cache"}}
	return resp
}

// grant is what a valid access token lets its bearer do.
type grant struct {
	user   string
	scopes []string
}

// bearer checks the request's access token; reason says why it is
// refused ("" when it is not).
func (s *Server) bearer(r *http.Request) (grant, string) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case scheme == "":
		return grant{}, "no Authorization header: send Authorization: Bearer ACCESS_TOKEN"
	case strings.EqualFold(scheme, "JWT"):
		return grant{}, "a Connect JWT where an OAuth access token is needed (Authorization: Bearer)"
	case !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "":
		return grant{}, "the Authorization header is not Bearer ACCESS_TOKEN"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.oauth.access[tokenKey(strings.TrimSpace(tok))]
	switch {
	case !ok:
		return grant{}, "unknown access token"
	case a.revoked:
		return grant{}, "access token revoked (its login was revoked)"
	case !s.now().Before(a.expires):
		return grant{}, "access token expired at " + a.expires.UTC().Format(time.RFC3339)
	}
	f := s.oauth.families[a.family]
	return grant{user: f.user, scopes: f.scopes}, ""
}

// unauthorized is the gateway's answer to a request without a usable
// access token, in the gateway's own error shape.
func unauthorized(message string) response {
	resp := jsonResponse(http.StatusUnauthorized, struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{http.StatusUnauthorized, message})
	resp.header = http.Header{"Www-Authenticate": {`Bearer realm="jwh-sandbox", error="invalid_token"`}}
	return resp
}

// avatarURL is the avatarUrl of every site: a small image inline, so that
// nothing is fetched from elsewhere.
const avatarURL = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1'%3E%3Crect width='1' height='1' fill='%230052cc'/%3E%3C/svg%3E"

// resources serves accessible-resources: every site, since a consent
// covers them all.
func (s *Server) resources(r *http.Request, rec *Request) response {
	if r.Method != http.MethodGet {
		return methodNotAllowed(r, "GET")
	}
	g, reason := s.bearer(r)
	if reason != "" {
		rec.Reason = reason
		return unauthorized("Unauthorized")
	}
	rec.User, rec.Verified = g.user, true
	scopes := slices.DeleteFunc(slices.Clone(g.scopes), func(sc string) bool { return sc == "offline_access" })
	type site struct {
		ID        string   `json:"id"`
		URL       string   `json:"url"`
		Name      string   `json:"name"`
		Scopes    []string `json:"scopes"`
		AvatarURL string   `json:"avatarUrl"`
	}
	out := []site{}
	for _, t := range s.Tenants() {
		out = append(out, site{ID: t.cloudID, URL: t.BaseURL(), Name: t.name, Scopes: scopes, AvatarURL: avatarURL})
	}
	return jsonResponse(http.StatusOK, out)
}

// ApproveURL returns authorizeURL (an authorization request, as a client
// such as jwh tenant login makes it) with approve=user added: the sandbox
// answers it at once with the redirect to the callback, as if user had
// approved on the consent page. deny=1 instead denies.
func ApproveURL(authorizeURL, user string) (string, error) {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return "", fmt.Errorf("sandbox: authorization URL: %w", err)
	}
	q := u.Query()
	q.Set("approve", user)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Approve plays the browser of a user who approves: it sends the
// authorization request authorizeURL with approve=user through client
// (nil: one with a 30-second timeout) and returns where the sandbox
// redirects, the callback URL with code and state, without following it.
func Approve(client *http.Client, authorizeURL, user string) (*url.URL, error) {
	target, err := ApproveURL(authorizeURL, user)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(target)
	if err != nil {
		return nil, fmt.Errorf("sandbox: approving: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("sandbox: approving: %s: %s", resp.Status, pageText(b))
	}
	loc, err := resp.Location()
	if err != nil {
		return nil, fmt.Errorf("sandbox: approving: %w", err)
	}
	return loc, nil
}
