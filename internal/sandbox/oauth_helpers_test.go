package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The OAuth app of the OAuth fixtures.
const (
	testClientID     = "test-client-id-0123456789abcdef"
	testClientSecret = "test-client-secret-never-printed"
	testRedirect     = DefaultCallbackURL
	allScopes        = "manage:jira-webhook read:jira-work offline_access"
)

// startOAuth runs a sandbox with the test app's credentials, the fake
// clock and tenants "acme" and "beta" (cloud ids "cloud-acme" and
// "cloud-beta"); the fixture's tenant is acme.
func startOAuth(t *testing.T, opts Options) *fixture {
	t.Helper()
	opts.OAuth.ClientID, opts.OAuth.ClientSecret = testClientID, testClientSecret
	clock := newClock()
	opts.Clock = clock.Now
	if opts.RetryScale == 0 {
		opts.RetryScale = fast
	}
	s := New(opts)
	acme, err := s.AddTenant(TenantConfig{Name: "acme", CloudID: "cloud-acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddTenant(TenantConfig{Name: "beta", CloudID: "cloud-beta"}); err != nil {
		t.Fatal(err)
	}
	return listen(t, s, acme, clock)
}

// authorizeQuery is a valid authorization request's query, changed by
// the pairs given ("" as a value removes the parameter).
func authorizeQuery(pairs ...string) url.Values {
	q := url.Values{
		"audience": {Audience}, "client_id": {testClientID}, "scope": {allScopes},
		"redirect_uri": {testRedirect}, "state": {"st4te"}, "response_type": {"code"}, "prompt": {"consent"},
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			q.Del(pairs[i])
		} else {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q
}

// noRedirects is a client that shows redirects instead of following them.
func (f *fixture) noRedirects() *http.Client {
	c := *f.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// get sends an unsigned GET of target (a path and query on the root URL)
// without following redirects.
func (f *fixture) get(target string) reply {
	f.t.Helper()
	req, err := http.NewRequest("GET", f.run.URL()+target, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.sendWith(f.noRedirects(), req)
}

// sendWith is send with another client.
func (f *fixture) sendWith(c *http.Client, req *http.Request) reply {
	f.t.Helper()
	saved := f.client
	f.client = c
	defer func() { f.client = saved }()
	return f.send(req)
}

// callback decodes a redirect to the test callback.
func (f *fixture) callback(r reply) url.Values {
	f.t.Helper()
	if r.status != http.StatusFound {
		f.t.Fatalf("status %d, want a 302 redirect; body %s", r.status, r.body)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		f.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
		f.t.Fatalf("redirected to %s, want %s", loc, testRedirect)
	}
	return loc.Query()
}

// code approves an authorization request for user without a page and
// returns the code.
func (f *fixture) code(user, scopes string) string {
	f.t.Helper()
	q := f.callback(f.get(AuthorizePath + "?" + authorizeQuery("scope", scopes, "approve", user).Encode()))
	if q.Get("state") != "st4te" || q.Get("code") == "" {
		f.t.Fatalf("callback query %v", q)
	}
	return q.Get("code")
}

// tokens is a decoded token answer, or error answer.
type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	status       int
}

// tokenForm posts a form-encoded token request.
func (f *fixture) tokenForm(form url.Values) tokens {
	f.t.Helper()
	req, err := http.NewRequest("POST", f.run.URL()+TokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.tokenAnswer(req)
}

// tokenJSON posts a JSON token request, as Atlassian documents it.
func (f *fixture) tokenJSON(params map[string]string) tokens {
	f.t.Helper()
	b, _ := json.Marshal(params)
	req, err := http.NewRequest("POST", f.run.URL()+TokenPath, strings.NewReader(string(b)))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return f.tokenAnswer(req)
}

func (f *fixture) tokenAnswer(req *http.Request) tokens {
	f.t.Helper()
	r := f.send(req)
	var tk tokens
	if err := json.Unmarshal([]byte(r.body), &tk); err != nil {
		f.t.Fatalf("token answer %d %q: %v", r.status, r.body, err)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.t.Errorf("token answer Content-Type %q", ct)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		f.t.Errorf("token answer without Cache-Control: no-store")
	}
	tk.status = r.status
	return tk
}

// ok fails unless tk is a successful answer.
func (tk tokens) ok(t *testing.T) tokens {
	t.Helper()
	if tk.status != 200 || tk.AccessToken == "" || tk.TokenType != "Bearer" {
		t.Fatalf("token answer %d %+v, want tokens", tk.status, tk)
	}
	return tk
}

// fails fails unless tk is an error answer with status and code.
func (tk tokens) fails(t *testing.T, status int, code string) tokens {
	t.Helper()
	if tk.status != status || tk.Error != code || tk.AccessToken != "" {
		t.Fatalf("token answer %d %+v, want %d %s", tk.status, tk, status, code)
	}
	return tk
}

func exchangeForm(code string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "client_id": {testClientID}, "client_secret": {testClientSecret},
		"code": {code}, "redirect_uri": {testRedirect},
	}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "client_secret": {testClientSecret}, "refresh_token": {rt}}
}

// login logs user in with scopes and returns the tokens.
func (f *fixture) login(user, scopes string) tokens {
	f.t.Helper()
	return f.tokenForm(exchangeForm(f.code(user, scopes))).ok(f.t)
}

// refresh exchanges a refresh token.
func (f *fixture) refresh(rt string) tokens {
	f.t.Helper()
	return f.tokenForm(refreshForm(rt))
}

// gw sends a request through the gateway to the site with cloudID, with
// the access token (none when "").
func (f *fixture) gw(token, method, cloudID, path, body string) reply {
	f.t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	target := f.run.URL() + GatewayPath + cloudID + path
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequest(method, target, rd)
	} else {
		req, err = http.NewRequest(method, target, nil)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.send(req)
}

// gwRegister registers webhooks through the gateway on acme.
func (f *fixture) gwRegister(token, body string) registration {
	f.t.Helper()
	r := f.gw(token, "POST", "cloud-acme", "/rest/api/2/webhook", body)
	r.want(f.t, 200, "")
	var reg registration
	if err := json.Unmarshal([]byte(r.body), &reg); err != nil {
		f.t.Fatal(err)
	}
	return reg
}

// gwList lists the token's user's webhooks on acme.
func (f *fixture) gwList(token string) page {
	f.t.Helper()
	r := f.gw(token, "GET", "cloud-acme", "/rest/api/2/webhook", "")
	r.want(f.t, 200, "")
	var p page
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// ids returns the ids of a page.
func (p page) ids() []int64 {
	var out []int64
	for _, v := range p.Values {
		out = append(out, v.ID)
	}
	return out
}

// created returns the ids a registration created, and how many webhooks
// it refused.
func (r registration) created() (ids []int64, refused int) {
	for _, res := range r.Results {
		if res.CreatedWebhookID != nil {
			ids = append(ids, *res.CreatedWebhookID)
		} else {
			refused++
		}
	}
	return ids, refused
}

// lastRequest returns the last request the sandbox logged.
func (f *fixture) lastRequest() Request {
	f.t.Helper()
	log := f.s.Requests()
	if len(log) == 0 {
		f.t.Fatal("the request log is empty")
	}
	return log[len(log)-1]
}
