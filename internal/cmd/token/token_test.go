package token_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/cmd/token"
	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

const (
	theSecret = "SECRET-77c1-token-test"
	appKey    = "com.example.app"
)

type harness struct {
	sb   *sandbox.Server
	url  string // the sandbox's root URL: its authorization server and gateway
	base string // http://127.0.0.1:PORT/jira
	env  map[string]string
}

// newHarness runs a sandbox on loopback with the tenant "acme" at /jira
// and a config pointing at it; the secret comes from JWH_SHARED_SECRET.
func newHarness(t *testing.T) *harness {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	if _, err := sb.AddTenant(sandbox.TenantConfig{Name: "acme", AppKey: appKey, BasePath: "/jira", Secret: theSecret}); err != nil {
		t.Fatal(err)
	}
	run, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	h := &harness{sb: sb, url: run.URL(), base: run.BaseURL("acme"), env: map[string]string{
		tenant.EnvConfig: filepath.Join(t.TempDir(), "config.json"),
		tenant.EnvSecret: theSecret,
	}}
	h.seed(t, tenant.Tenant{Name: "acme", BaseURL: h.base, AppKey: appKey})
	return h
}

func (h *harness) seed(t *testing.T, tn tenant.Tenant) {
	t.Helper()
	cfg, err := tenant.LoadConfig(h.env[tenant.EnvConfig])
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := cfg.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	cfg.Put(tn)
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	getenv := func(k string) string { return h.env[k] }
	f := &cmdutil.Factory{
		IOStreams: ios,
		Version:   "test",
		Getenv:    getenv,
		Now:       time.Now,
		Config:    cmdutil.LoadConfigOnce(getenv),
		Secrets:   func() tenant.SecretStore { return tenant.NewMemoryStore() },
	}
	code = app.Run(f, args)
	if strings.Contains(out.String()+errOut.String(), theSecret) {
		t.Error("the shared secret was printed")
	}
	return code, out.String(), errOut.String()
}

// token runs jwh token and returns the one line it printed and stderr.
func (h *harness) token(t *testing.T, args ...string) (tok, stderr string) {
	t.Helper()
	code, out, errOut := h.run(t, append([]string{"token"}, args...)...)
	if code != 0 {
		t.Fatalf("jwh token %q: exit %d, stderr %s", args, code, errOut)
	}
	tok, ok := strings.CutSuffix(out, "\n")
	if !ok || tok == "" || strings.ContainsAny(tok, "\n ") || strings.Count(tok, ".") != 2 {
		t.Fatalf("jwh token printed %q, want one JWT on one line", out)
	}
	return tok, errOut
}

func verify(t *testing.T, tok, method, rawURL string) *connectjwt.Verified {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	v, err := connectjwt.Verify(tok, connectjwt.VerifyOptions{
		Method: method, URL: u, BasePath: "/jira",
		Secret: func(iss string) ([]byte, bool) { return []byte(theSecret), iss == appKey },
		Leeway: 30 * time.Second,
	})
	if err != nil {
		t.Fatalf("token for %s %s: %v", method, rawURL, err)
	}
	return v
}

// send makes the request as curl would, with the token in the header, and
// returns the sandbox's log entry for it.
func (h *harness) send(t *testing.T, tok, method, rawURL string) sandbox.Request {
	t.Helper()
	h.sb.ResetRequests()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "JWT "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := h.sb.Requests()
	if len(reqs) != 1 {
		t.Fatalf("the sandbox saw %d requests", len(reqs))
	}
	return reqs[0]
}

func TestTokenForMyself(t *testing.T) {
	h := newHarness(t)
	tok, stderr := h.token(t, "GET", "/rest/api/2/myself")
	if stderr != "" {
		t.Errorf("stderr %q", stderr)
	}
	v := verify(t, tok, "GET", h.base+"/rest/api/2/myself")
	if v.Issuer != appKey || v.Canonical != "GET&/rest/api/2/myself&" {
		t.Errorf("claims %+v", v)
	}
	if ttl := v.ExpiresAt.Sub(v.IssuedAt); ttl != 3*time.Minute {
		t.Errorf("lifetime %s, want the default 3m", ttl)
	}
	if r := h.send(t, tok, "GET", h.base+"/rest/api/2/myself"); !r.Verified || r.Status != 200 {
		t.Errorf("curl-style request: %+v", r)
	}
	// The token is for that request only.
	if r := h.send(t, tok, "GET", h.base+"/rest/api/2/webhook"); r.Verified || r.Check != connectjwt.CheckQSH {
		t.Errorf("token accepted for another path: %+v", r)
	}
}

func TestTokenWithQueryAndMethodDefault(t *testing.T) {
	h := newHarness(t)
	tok, _ := h.token(t, `/rest/api/2/search?jql=project = "A B"&fields=summary,key`)
	// curl sends the same parameters, encoded its own way, in another order.
	target := h.base + "/rest/api/2/search?fields=summary%2Ckey&jql=project+%3D+%22A+B%22"
	verify(t, tok, "GET", target)
	if r := h.send(t, tok, "GET", target); !r.Verified {
		t.Errorf("not verified: %s (%s)", r.Reason, r.Check)
	}
}

// A ';' in the query is signed as atlassian-jwt signs it: part of the value
// (a=1;b=2 is the parameter a with the value 1;b=2), and the sandbox, which
// checks the qsh as Jira does, accepts the token.
func TestTokenWithSemicolon(t *testing.T) {
	h := newHarness(t)
	tok, _ := h.token(t, "GET", "/rest/api/2/myself?a=1;b=2")
	target := h.base + "/rest/api/2/myself?a=1;b=2"
	if v := verify(t, tok, "GET", target); v.Canonical != "GET&/rest/api/2/myself&a=1%3Bb%3D2" {
		t.Errorf("canonical %q", v.Canonical)
	}
	if r := h.send(t, tok, "GET", target); !r.Verified || r.Status != 200 || r.RawQuery != "a=1;b=2" {
		t.Errorf("curl-style request: %+v", r)
	}
}

func TestTokenForFullURLAndTTL(t *testing.T) {
	h := newHarness(t)
	target := h.base + "/rest/api/2/webhook?startAt=0&maxResults=7"
	tok, stderr := h.token(t, "--ttl", "10m", "delete", target+"#ignored")
	if want := "warning: ignoring the fragment \"#ignored\": it is never sent to a server, so it is not signed\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	v := verify(t, tok, "DELETE", target)
	if ttl := v.ExpiresAt.Sub(v.IssuedAt); ttl != 10*time.Minute {
		t.Errorf("lifetime %s, want 10m", ttl)
	}
	if v.Canonical != "DELETE&/rest/api/2/webhook&maxResults=7&startAt=0" {
		t.Errorf("canonical %q", v.Canonical)
	}
}

func TestTokenJSON(t *testing.T) {
	h := newHarness(t)
	code, out, errOut := h.run(t, "token", "-o", "json", "POST", "/rest/api/2/webhook")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var got struct {
		Token, Method, URL, CanonicalRequest, QSH, Issuer string
		IssuedAt, ExpiresAt                               int64
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	v := verify(t, got.Token, "POST", h.base+"/rest/api/2/webhook")
	if got.Method != "POST" || got.URL != h.base+"/rest/api/2/webhook" || got.CanonicalRequest != "POST&/rest/api/2/webhook&" ||
		got.QSH != v.QSH || got.Issuer != appKey || got.IssuedAt != v.IssuedAt.Unix() || got.ExpiresAt != v.ExpiresAt.Unix() {
		t.Errorf("JSON %+v, claims %+v", got, v)
	}
}

func TestTokenDebugShowsCanonicalRequest(t *testing.T) {
	h := newHarness(t)
	code, out, errOut := h.run(t, "token", "--debug", "/rest/api/2/webhook?b=2&a=1")
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, "* canonical request: GET&/rest/api/2/webhook&a=1&b=2\n") {
		t.Errorf("stderr %s", errOut)
	}
}

func TestTokenErrors(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token", "http://127.0.0.1:1/jira/rest/api/2/myself"}, 2, "is not under the tenant's base URL"},
		{[]string{"token", strings.Replace(h.base, "/jira", "/jirafoo", 1) + "/rest"}, 2, "is not under the tenant's base URL"},
		{[]string{"token", "https://acme.atlassian.net/jira/rest/api/2/myself"}, 2, "is not under the tenant's base URL"},
		{[]string{"token", "GET"}, 2, "missing PATH_OR_URL after GET"},
		{[]string{"token"}, 2, "missing PATH_OR_URL"},
		{[]string{"token", "YANK", "/x"}, 2, `unknown HTTP method "YANK"`},
		{[]string{"token", "--ttl", "0s", "/x"}, 2, "invalid --ttl 0s"},
		{[]string{"token", "--ttl", "48h", "/x"}, 2, "invalid --ttl 48h0m0s"},
		{[]string{"token", "--ttl", "61m", "/x"}, 2, "invalid --ttl 1h1m0s: use a duration above 0s and at most 1h0m0s, e.g. 3m"},
		{[]string{"token", "-t", "nope", "/x"}, 3, `no such tenant`},
	} {
		code, out, errOut := h.run(t, tc.args...)
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, tc.code, tc.want)
		}
	}

	h.seed(t, tenant.Tenant{Name: "acme", BaseURL: "ftp://jira.example.com", AppKey: appKey})
	code, out, errOut := h.run(t, "token", "/rest/api/2/myself")
	if want := "jwh: tenant acme: base URL \"ftp://jira.example.com\": scheme \"ftp\" is not supported: use https: fix it with 'jwh tenant add acme --base-url URL'\n"; code != 2 || out != "" || errOut != want {
		t.Errorf("bad base URL: exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, want)
	}

	h.seed(t, tenant.Tenant{Name: "acme", BaseURL: "http://jira.example.com", AppKey: appKey})
	code, out, errOut = h.run(t, "token", "/rest/api/2/myself")
	if code != 2 || out != "" || !strings.Contains(errOut, `base URL "http://jira.example.com": plain http is allowed only for loopback hosts`) {
		t.Errorf("plain http: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestNewCmdToken(t *testing.T) {
	const ttl = connectjwt.DefaultTTL
	cmdtest.Flags(t, token.NewCmdToken, []cmdtest.Case[token.Options]{
		{Args: "/rest/api/2/myself", Want: token.Options{Method: "GET", Ref: "/rest/api/2/myself", TTL: ttl}},
		{Args: "post /rest/api/2/webhook -o json --debug --ttl 10m",
			Want: token.Options{Method: "POST", Ref: "/rest/api/2/webhook", TTL: 10 * time.Minute, TTLGiven: true, JSON: true, Debug: true}},
		{Args: "'/rest/api/2/search?jql=a#frag'", Want: token.Options{Method: "GET", Ref: "/rest/api/2/search?jql=a", TTL: ttl}},
		// An OAuth tenant needs neither; a Connect one is told when the
		// command runs (TestTokenErrors).
		{Args: "", Want: token.Options{TTL: ttl}},
		{Args: "GET", Want: token.Options{Method: "GET", TTL: ttl}},
		{Args: "--ttl 1m", Want: token.Options{TTL: time.Minute, TTLGiven: true}},
		{Args: "--ttl 0s /x", WantErr: "invalid --ttl 0s: use a duration above 0s and at most 1h0m0s, e.g. 3m"},
		{Args: "GET /x extra", WantErr: `unexpected argument "extra"`},
	})
}

// TestTokenOAuth: on an OAuth tenant, jwh token prints its access token,
// with or without METHOD and PATH, which the gateway takes for any
// request of the site (as curl -H "Authorization: Bearer $(jwh token)"
// sends it); an expired one is refreshed first, once.
func TestTokenOAuth(t *testing.T) {
	h := newHarness(t)
	cmdtest.OAuthLogin(t, h.sb, h.url, h.env[tenant.EnvConfig], "work", "acme", "alice")
	gateway := h.url + "/ex/jira/" + mustTenant(t, h.sb, "acme").CloudID()
	get := func(tok, path string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", gateway+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	first := h.bearer(t, "-t", "work")
	for _, args := range [][]string{{"-t", "work", "/rest/api/2/webhook"}, {"-t", "work", "DELETE", "/rest/api/2/webhook"}, {"-t", "work", "GET"}} {
		if tok := h.bearer(t, args...); tok != first {
			t.Errorf("jwh token %q printed another token than jwh token alone", args)
		}
	}
	for _, path := range []string{"/rest/api/2/myself", "/rest/api/2/webhook"} {
		if status := get(first, path); status != 200 {
			t.Errorf("GET %s with the token: %d", path, status)
		}
	}
	if n := len(h.sb.TokenRequests()); n != 1 {
		t.Errorf("%d token requests, want the login's exchange only", n)
	}

	code, out, errOut := h.run(t, "-t", "work", "token", "-o", "json", "/rest/api/2/myself")
	var got struct {
		Token, Type, BaseURL, URL string
		ExpiresAt                 int64
	}
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("-o json: exit %d, %v: %s %s", code, err, out, errOut)
	}
	if got.Token != first || got.Type != "Bearer" || got.BaseURL != gateway || got.URL != gateway+"/rest/api/2/myself" ||
		time.Until(time.Unix(got.ExpiresAt, 0)) < 50*time.Minute {
		t.Errorf("-o json: %+v", got)
	}

	// Expired: refreshed once, and the new token works.
	if err := h.sb.ExpireAccessTokens(); err != nil {
		t.Fatal(err)
	}
	if status := get(first, "/rest/api/2/myself"); status != 401 {
		t.Fatalf("the expired token got %d", status)
	}
	fresh := expire(t, h)
	if fresh == first || get(fresh, "/rest/api/2/myself") != 200 {
		t.Error("the refreshed token does not work")
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-t", "work", "token", "--ttl", "5m"}, 2, "jwh: --ttl applies to Connect tokens: an OAuth 2.0 access token lives as long as the authorization server says (an hour)\n"},
		{[]string{"-t", "work", "token", "https://example.com/rest"}, 2, "is not under the tenant's base URL"},
		{[]string{"-t", "acme", "token"}, 2, "jwh: missing PATH_OR_URL: e.g. jwh token GET /rest/api/2/myself\n"},
	} {
		code, out, errOut := h.run(t, tc.args...)
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, tc.code, tc.want)
		}
	}

	// A revoked login: exit 3, with the command that logs in again.
	if _, err := h.sb.Revoke("alice"); err != nil {
		t.Fatal(err)
	}
	if err := h.sb.ExpireAccessTokens(); err != nil {
		t.Fatal(err)
	}
	h.expireStored(t, "work")
	code, out, errOut = h.run(t, "-t", "work", "token")
	if want := "jwh: the login of tenant work has expired or was revoked; run: jwh tenant login work --client-id " + h.sb.OAuthApp().ClientID + " --no-keyring\n"; code != 3 || out != "" || errOut != want {
		t.Errorf("revoked: exit %d, stdout %q, stderr %q; want exit 3 and %q", code, out, errOut, want)
	}
}

// bearer runs jwh token on an OAuth tenant and returns the one line it
// printed: an access token, and nothing on standard error.
func (h *harness) bearer(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := h.run(t, append([]string{"token"}, args...)...)
	tok, ok := strings.CutSuffix(out, "\n")
	if code != 0 || !ok || tok == "" || strings.ContainsAny(tok, "\n ") || errOut != "" {
		t.Fatalf("jwh token %q: exit %d, stdout %q, stderr %q; want one access token", args, code, out, errOut)
	}
	return tok
}

// expire makes the stored access token of tenant work expire, so that
// jwh token refreshes it, and returns what jwh token then prints.
func expire(t *testing.T, h *harness) string {
	t.Helper()
	h.expireStored(t, "work")
	before := len(h.sb.TokenRequests())
	tok := h.bearer(t, "-t", "work")
	if n := len(h.sb.TokenRequests()) - before; n != 1 {
		t.Errorf("%d token requests for an expired token, want 1 refresh", n)
	}
	return tok
}

// expireStored sets the stored access token of tenant name to expire now.
func (h *harness) expireStored(t *testing.T, name string) {
	t.Helper()
	cfg, err := tenant.LoadConfig(h.env[tenant.EnvConfig])
	if err != nil {
		t.Fatal(err)
	}
	tn, err := cfg.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Resolver(nil, nil, "")
	login, err := r.OAuth(tn)
	if err != nil {
		t.Fatal(err)
	}
	login.Secrets.AccessExpiry = time.Now()
	if err := r.SaveOAuth(tn, login.Secrets); err != nil {
		t.Fatal(err)
	}
}

func mustTenant(t *testing.T, sb *sandbox.Server, name string) *sandbox.Tenant {
	t.Helper()
	st, ok := sb.Tenant(name)
	if !ok {
		t.Fatalf("no sandbox tenant %q", name)
	}
	return st
}

// TestOAuthLoginEndsSoon: in the last 14 days of a login (365 days after
// the consent), a command on the tenant warns once on standard error,
// however many requests it sends, and goes on.
func TestOAuthLoginEndsSoon(t *testing.T) {
	h := newHarness(t)
	cmdtest.OAuthLogin(t, h.sb, h.url, h.env[tenant.EnvConfig], "work", "acme", "alice")
	cfg, err := tenant.LoadConfig(h.env[tenant.EnvConfig])
	if err != nil {
		t.Fatal(err)
	}
	tn, _ := cfg.Get("work")
	r := cfg.Resolver(nil, nil, "")
	login, err := r.OAuth(tn)
	if err != nil {
		t.Fatal(err)
	}
	login.Secrets.LoginAt = time.Now().Add(-355 * 24 * time.Hour)
	if err := r.SaveOAuth(tn, login.Secrets); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-t", "work", "token"},
		{"-t", "work", "register", "--url", "https://app.example.com/hook", "--jql", "project = W", "--event", "jira:issue_updated"},
		{"-t", "work", "extend", "--all"}, // two requests
	} {
		code, _, errOut := h.run(t, args...)
		want := "warning: the login of tenant work ends on "
		if code != 0 || strings.Count(errOut, want) != 1 || !strings.Contains(errOut, "log in again before then: jwh tenant login work --client-id ") {
			t.Errorf("jwh %q: exit %d, stderr %q; want one warning", args, code, errOut)
		}
	}
}
