package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var formToken = regexp.MustCompile(`name="consent" value="([^"]+)"`)

// consentForm gets the consent page of a valid authorization request
// and returns the form token it carries.
func (f *fixture) consentForm() string {
	f.t.Helper()
	r := f.get(AuthorizePath + "?" + authorizeQuery().Encode())
	r.want(f.t, 200, "")
	m := formToken.FindStringSubmatch(r.body)
	if m == nil {
		f.t.Fatalf("no form token on the consent page:\n%s", r.body)
	}
	return m[1]
}

// answer posts the consent page's form.
func (f *fixture) answer(form url.Values, header ...string) reply {
	f.t.Helper()
	req, err := http.NewRequest("POST", f.run.URL()+AuthorizePath, strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return f.sendWith(f.noRedirects(), req)
}

func TestConsentPage(t *testing.T) {
	f := startOAuth(t, Options{})
	r := f.get(AuthorizePath + "?" + authorizeQuery().Encode())
	r.want(t, 200, "")
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, want := range []string{
		OAuthAppName, testClientID, "manage:jira-webhook", "Manage Jira webhooks", "offline_access",
		"acme", "beta", f.ten.BaseURL(), `name="user" value="alice"`, `value="approve"`, `value="deny"`,
		`method="post" action="/authorize"`, testRedirect,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the consent page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://"} {
		body := strings.ReplaceAll(strings.ReplaceAll(r.body, f.run.URL(), ""), testRedirect, "")
		if bad != "<script" {
			body = strings.ReplaceAll(body, "http://www.w3.org", "")
		}
		if strings.Contains(body, bad) {
			t.Errorf("the consent page holds %q: it must load nothing from elsewhere", bad)
		}
	}
}

func TestConsentApprove(t *testing.T) {
	f := startOAuth(t, Options{})
	tok := f.consentForm()
	// A bad user name shows the page again, and the page stays usable.
	r := f.answer(url.Values{"consent": {tok}, "action": {"approve"}, "user": {"no spaces"}})
	r.want(t, 400, "")
	if !strings.Contains(r.body, "may hold only letters") || !strings.Contains(r.body, tok) {
		t.Errorf("bad user: the page does not say why or lost its token:\n%s", r.body)
	}
	q := f.callback(f.answer(url.Values{"consent": {tok}, "action": {"approve"}, "user": {"bob"}}))
	if q.Get("state") != "st4te" || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	if rec := f.lastRequest(); rec.User != "bob" || rec.Kind != KindOAuth {
		t.Errorf("logged %+v", rec)
	}
	tk := f.tokenForm(exchangeForm(q.Get("code"))).ok(t)
	me := f.gw(tk.AccessToken, "GET", "cloud-acme", "/rest/api/2/myself", "")
	me.want(t, 200, "")
	if !strings.Contains(me.body, `"displayName":"bob"`) || !strings.Contains(me.body, AccountID("bob")) {
		t.Errorf("myself after approving as bob: %s", me.body)
	}
	// A page is answered once.
	r = f.answer(url.Values{"consent": {tok}, "action": {"approve"}, "user": {"bob"}})
	r.want(t, 400, "")
	if r.header.Get("Location") != "" || !strings.Contains(r.body, "expired or was already answered") {
		t.Errorf("second answer: %d %v %s", r.status, r.header, r.body)
	}
}

func TestConsentDeny(t *testing.T) {
	f := startOAuth(t, Options{})
	q := f.callback(f.answer(url.Values{"consent": {f.consentForm()}, "action": {"deny"}, "user": {"alice"}}))
	if q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("state") != "st4te" || q.Has("code") {
		t.Errorf("denied: callback %v", q)
	}
}

func TestConsentForgery(t *testing.T) {
	f := startOAuth(t, Options{})
	tok := f.consentForm()
	for _, tc := range []struct {
		name   string
		form   url.Values
		header []string
		status int
		want   string
	}{
		{"no form token", url.Values{"action": {"approve"}, "user": {"mallory"}}, nil, 400, "expired or was already answered"},
		{"made-up form token", url.Values{"consent": {"guess"}, "action": {"approve"}, "user": {"mallory"}}, nil, 400, "expired or was already answered"},
		{"other origin", url.Values{"consent": {tok}, "action": {"approve"}, "user": {"mallory"}}, []string{"Origin", "https://evil.example"}, 403, "posted from another site"},
		{"cross-site fetch", url.Values{"consent": {tok}, "action": {"approve"}, "user": {"mallory"}}, []string{"Sec-Fetch-Site", "cross-site"}, 403, "posted from another site"},
		{"neither approve nor deny", url.Values{"consent": {tok}, "user": {"mallory"}}, nil, 400, "Accept or Deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.answer(tc.form, tc.header...)
			r.want(t, tc.status, "")
			if r.header.Get("Location") != "" || !strings.Contains(r.body, tc.want) {
				t.Errorf("%d %v\n%s", r.status, r.header, r.body)
			}
		})
	}
	// None of them used up the page.
	f.callback(f.answer(url.Values{"consent": {tok}, "action": {"approve"}, "user": {"alice"}}))
}

func TestConsentPageExpires(t *testing.T) {
	f := startOAuth(t, Options{})
	tok := f.consentForm()
	f.clock.Advance(pageLifetime)
	f.answer(url.Values{"consent": {tok}, "action": {"approve"}, "user": {"alice"}}).want(t, 400, "")
}

// TestAuthorizeRefusals: a request the sandbox cannot trust is answered
// with a page that says what is wrong, never with a redirect.
func TestAuthorizeRefusals(t *testing.T) {
	f := startOAuth(t, Options{})
	for _, tc := range []struct {
		name  string
		query url.Values
		want  string
	}{
		{"no client id", authorizeQuery("client_id", ""), "has no client_id"},
		{"unknown client id", authorizeQuery("client_id", "someone-else"), `No app has the client id &#34;someone-else&#34;`},
		{"no redirect uri", authorizeQuery("redirect_uri", ""), "has no redirect_uri"},
		{"redirect uri not registered", authorizeQuery("redirect_uri", "http://localhost:9999/callback"),
			"The redirect_uri http://localhost:9999/callback is not one of the app&#39;s callback URLs (" + DefaultCallbackURL + ")"},
		{"redirect uri differs by a slash", authorizeQuery("redirect_uri", DefaultCallbackURL+"/"), "is not one of the app&#39;s callback URLs"},
		{"response type token", authorizeQuery("response_type", "token"), `The response_type &#34;token&#34; is not supported`},
		{"no audience", authorizeQuery("audience", ""), "use audience=api.atlassian.com"},
		{"no scope", authorizeQuery("scope", ""), "asks for no scope"},
		{"approve and deny", authorizeQuery("approve", "alice", "deny", "1"), "both approve and deny"},
		{"approve as nobody", authorizeQuery("approve", "a b"), "may hold only letters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.get(AuthorizePath + "?" + tc.query.Encode())
			r.want(t, 400, "")
			if r.header.Get("Location") != "" {
				t.Errorf("redirected to %s", r.header.Get("Location"))
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, tc.want) {
				t.Errorf("page lacks %q:\n%s", tc.want, r.body)
			}
		})
	}
}

func TestAuthorizeShortcuts(t *testing.T) {
	f := startOAuth(t, Options{})
	q := f.callback(f.get(AuthorizePath + "?" + authorizeQuery("deny", "1").Encode()))
	if q.Get("error") != "access_denied" || q.Get("state") != "st4te" {
		t.Errorf("deny=1: %v", q)
	}
	q = f.callback(f.get(AuthorizePath + "?" + authorizeQuery("approve", "carol", "state", "").Encode()))
	if q.Get("code") == "" || q.Has("state") {
		t.Errorf("approve without state: %v", q)
	}

	// Approve is the same shortcut for Go callers.
	authURL := f.run.URL() + AuthorizePath + "?" + authorizeQuery().Encode()
	loc, err := Approve(nil, authURL, "dave")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("code") == "" || loc.Query().Get("state") != "st4te" {
		t.Errorf("Approve: %s", loc)
	}
	_, err = Approve(nil, f.run.URL()+AuthorizePath+"?"+authorizeQuery("redirect_uri", "http://localhost:1/x").Encode(), "dave")
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request: The redirect_uri http://localhost:1/x is not one of the app's callback URLs") {
		t.Errorf("Approve with an unregistered redirect URI: %v", err)
	}
}

func TestAddCallbackURL(t *testing.T) {
	f := startOAuth(t, Options{})
	other := "http://127.0.0.1:9000/cb?x=1"
	if err := f.s.AddCallbackURL(other); err != nil {
		t.Fatal(err)
	}
	if got := f.s.OAuthApp().CallbackURLs; !slices.Equal(got, []string{DefaultCallbackURL, other}) {
		t.Errorf("CallbackURLs %v", got)
	}
	r := f.get(AuthorizePath + "?" + authorizeQuery("redirect_uri", other, "approve", "alice").Encode())
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != 302 || loc.Query().Get("x") != "1" || loc.Query().Get("code") == "" || loc.Host != "127.0.0.1:9000" {
		t.Errorf("redirect to a callback with a query: %d %s", r.status, loc)
	}
	for _, bad := range []string{"ftp://x/cb", "/cb", "https://x/cb#frag", "https://u:p@x/cb", "http://app.example.com/cb"} {
		if err := f.s.AddCallbackURL(bad); err == nil {
			t.Errorf("AddCallbackURL(%q) accepted", bad)
		}
	}
}

func TestOAuthAppFormatsWithoutSecret(t *testing.T) {
	app := New(Options{OAuth: OAuthOptions{ClientSecret: "hush-hush"}}).OAuthApp()
	if app.ClientSecret != "hush-hush" || len(app.ClientID) != 32 {
		t.Errorf("app %v", app)
	}
	for _, s := range []string{fmt.Sprint(app), fmt.Sprintf("%v %+v %#v %s", app, app, app, app)} {
		if strings.Contains(s, "hush-hush") {
			t.Errorf("formatted app holds the secret: %s", s)
		}
	}
	// Without fixed credentials each sandbox has its own.
	a, b := New(Options{}).OAuthApp(), New(Options{}).OAuthApp()
	if a.ClientID == b.ClientID || a.ClientSecret == b.ClientSecret || len(a.ClientSecret) < 32 {
		t.Errorf("two sandboxes' apps: %v %v", a, b)
	}
}

func TestCodeExchange(t *testing.T) {
	f := startOAuth(t, Options{})
	code := f.code("alice", allScopes)
	tk := f.tokenForm(exchangeForm(code)).ok(t)
	if tk.ExpiresIn != 3600 || tk.Scope != allScopes || tk.RefreshToken == "" || tk.RefreshToken == tk.AccessToken {
		t.Errorf("tokens %+v", tk)
	}
	f.gw(tk.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 200, "")
	if rec := f.s.TokenRequests(); len(rec) != 1 || rec[0].Grant != "authorization_code" || rec[0].GrantError != "" || rec[0].User != "alice" || !rec[0].Verified {
		t.Errorf("token log %+v", rec)
	}

	// A code is single use, and using it twice revokes what it gave.
	f.tokenForm(exchangeForm(code)).fails(t, 403, "invalid_grant")
	if r := f.s.TokenRequests()[1]; !strings.Contains(r.Reason, "used twice") {
		t.Errorf("reason %q", r.Reason)
	}
	f.gw(tk.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 401, "")
	f.refresh(tk.RefreshToken).fails(t, 403, "invalid_grant")

	// JSON works as well as a form; so does HTTP basic authentication.
	f.tokenJSON(map[string]string{
		"grant_type": "authorization_code", "client_id": testClientID, "client_secret": testClientSecret,
		"code": f.code("alice", allScopes), "redirect_uri": testRedirect,
	}).ok(t)
	form := exchangeForm(f.code("alice", allScopes))
	form.Del("client_secret")
	form.Del("client_id")
	req, _ := http.NewRequest("POST", f.run.URL()+TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(testClientID), url.QueryEscape(testClientSecret))
	f.tokenAnswer(req).ok(t)
}

func TestCodeExchangeRefusals(t *testing.T) {
	f := startOAuth(t, Options{})
	with := func(code string, pairs ...string) url.Values {
		form := exchangeForm(code)
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i+1] == "" {
				form.Del(pairs[i])
			} else {
				form.Set(pairs[i], pairs[i+1])
			}
		}
		return form
	}
	for _, tc := range []struct {
		name   string
		form   func(code string) url.Values
		status int
		error  string
		desc   string
	}{
		{"wrong secret", func(c string) url.Values { return with(c, "client_secret", "guess") }, 401, "invalid_client", "Client authentication failed."},
		{"no secret", func(c string) url.Values { return with(c, "client_secret", "") }, 401, "invalid_client", "Client authentication failed."},
		{"unknown client", func(c string) url.Values { return with(c, "client_id", "other") }, 401, "invalid_client", "Unknown client."},
		{"no client", func(c string) url.Values { return with(c, "client_id", "") }, 400, "invalid_request", "Missing required parameter: client_id."},
		{"no grant type", func(c string) url.Values { return with(c, "grant_type", "") }, 400, "invalid_request", "Missing required parameter: grant_type."},
		{"password grant", func(c string) url.Values { return with(c, "grant_type", "password") }, 400, "unsupported_grant_type", "Unsupported grant type: password."},
		{"no code", func(c string) url.Values { return with(c, "code", "") }, 400, "invalid_request", "Missing required parameter: code."},
		{"unknown code", func(c string) url.Values { return with(c, "code", "made-up") }, 403, "invalid_grant", "Invalid authorization code."},
		{"no redirect uri", func(c string) url.Values { return with(c, "redirect_uri", "") }, 400, "invalid_request", "Missing required parameter: redirect_uri."},
		{"other redirect uri", func(c string) url.Values { return with(c, "redirect_uri", "http://localhost:8976/other") }, 403, "invalid_grant",
			"The redirect_uri does not match the redirect_uri of the authorization request."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := f.code("alice", allScopes)
			tk := f.tokenForm(tc.form(code)).fails(t, tc.status, tc.error)
			if tk.Description != tc.desc {
				t.Errorf("error_description %q, want %q", tk.Description, tc.desc)
			}
			if r := f.s.TokenRequests(); r[len(r)-1].GrantError != tc.error || r[len(r)-1].Reason == "" {
				t.Errorf("logged %+v", r[len(r)-1])
			}
			// A refused exchange leaves a valid code usable.
			if tc.error != "invalid_grant" || tc.name == "other redirect uri" {
				f.tokenForm(exchangeForm(code)).ok(t)
			}
		})
	}

	// Bodies the endpoint cannot read.
	for _, tc := range []struct{ name, ct, body string }{
		{"text body", "text/plain", "grant_type=authorization_code"},
		{"JSON with a number", "application/json", `{"grant_type":"authorization_code","client_id":7}`},
		{"repeated parameter", "application/x-www-form-urlencoded", "grant_type=refresh_token&grant_type=authorization_code"},
		{"secret twice", "application/x-www-form-urlencoded", "basic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == "basic" {
				body = exchangeForm("x").Encode()
			}
			req, _ := http.NewRequest("POST", f.run.URL()+TokenPath, strings.NewReader(body))
			req.Header.Set("Content-Type", tc.ct)
			if tc.body == "basic" {
				req.SetBasicAuth(testClientID, testClientSecret)
			}
			f.tokenAnswer(req).fails(t, 400, "invalid_request")
		})
	}
	f.tokenAnswer(mustRequest(t, "GET", f.run.URL()+TokenPath)).fails(t, 405, "invalid_request")
}

func mustRequest(t *testing.T, method, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestCodeExpires(t *testing.T) {
	f := startOAuth(t, Options{})
	code := f.code("alice", allScopes)
	f.clock.Advance(CodeLifetime - time.Second)
	f.tokenForm(exchangeForm(code)).ok(t)
	code = f.code("alice", allScopes)
	f.clock.Advance(CodeLifetime)
	f.tokenForm(exchangeForm(code)).fails(t, 403, "invalid_grant")
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	f := startOAuth(t, Options{})
	tk := f.login("alice", "manage:jira-webhook read:jira-work")
	if tk.RefreshToken != "" || tk.Scope != "manage:jira-webhook read:jira-work" {
		t.Errorf("tokens without offline_access: %+v", tk)
	}
	if strings.Contains(f.s.Requests()[len(f.s.Requests())-1].Reason, tk.AccessToken) {
		t.Error("the log holds the access token")
	}
}

func TestRefreshRotates(t *testing.T) {
	f := startOAuth(t, Options{})
	first := f.login("alice", allScopes)
	f.clock.Advance(time.Minute)
	second := f.refresh(first.RefreshToken).ok(t)
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatalf("refresh did not rotate: %+v", second)
	}
	// The earlier access token lives on until it expires.
	f.gw(first.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 200, "")
	f.gw(second.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 200, "")

	// Within the reuse interval the rotated token still gives a new pair.
	f.clock.Advance(DefaultRefreshReuseInterval - 2*time.Minute)
	third := f.refresh(first.RefreshToken).ok(t)
	if third.RefreshToken == second.RefreshToken {
		t.Errorf("reuse gave the same refresh token")
	}
	// JSON refreshes too.
	fourth := f.tokenJSON(map[string]string{"grant_type": "refresh_token", "client_id": testClientID,
		"client_secret": testClientSecret, "refresh_token": third.RefreshToken}).ok(t)

	// Past it, the rotated token revokes the whole login.
	f.clock.Advance(2 * time.Minute)
	f.refresh(first.RefreshToken).fails(t, 403, "invalid_grant")
	if tk := f.s.TokenRequests(); !strings.Contains(tk[len(tk)-1].Reason, "every token of the login is revoked") {
		t.Errorf("reason %q", tk[len(tk)-1].Reason)
	}
	f.refresh(fourth.RefreshToken).fails(t, 403, "invalid_grant")
	for _, at := range []string{first.AccessToken, second.AccessToken, fourth.AccessToken} {
		f.gw(at, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 401, "")
	}
	if r := f.lastRequest(); r.Reason != "access token revoked (its login was revoked)" {
		t.Errorf("reason %q", r.Reason)
	}
	// Another login of the same user is not touched.
	other := f.login("alice", allScopes)
	f.refresh(other.RefreshToken).ok(t)
	if desc := f.refresh(first.RefreshToken).Description; desc != "Unknown or invalid refresh token." {
		t.Errorf("error_description %q", desc)
	}
}

func TestRefreshWithoutReuseInterval(t *testing.T) {
	f := startOAuth(t, Options{OAuth: OAuthOptions{RefreshReuseInterval: -1}})
	first := f.login("alice", allScopes)
	second := f.refresh(first.RefreshToken).ok(t)
	f.refresh(first.RefreshToken).fails(t, 403, "invalid_grant") // at once, on the same clock tick
	f.refresh(second.RefreshToken).fails(t, 403, "invalid_grant")
	grants := 0
	for _, r := range f.s.TokenRequests() {
		if r.Grant == "refresh_token" && r.GrantError == "" {
			grants++
		}
	}
	if grants != 1 {
		t.Errorf("%d successful refreshes, want 1", grants)
	}
}

func TestRefreshInactivity(t *testing.T) {
	f := startOAuth(t, Options{})
	tk := f.login("alice", allScopes)
	f.clock.Advance(RefreshInactivity - time.Second)
	tk = f.refresh(tk.RefreshToken).ok(t)
	f.clock.Advance(RefreshInactivity)
	f.refresh(tk.RefreshToken).fails(t, 403, "invalid_grant")
	if r := f.s.TokenRequests(); !strings.Contains(r[len(r)-1].Reason, "unused for 90 days") {
		t.Errorf("reason %q", r[len(r)-1].Reason)
	}
}

func TestRefreshAbsoluteExpiry(t *testing.T) {
	f := startOAuth(t, Options{})
	tk := f.login("alice", allScopes)
	for range 12 { // a cron job refreshing monthly
		f.clock.Advance(30 * 24 * time.Hour)
		tk = f.refresh(tk.RefreshToken).ok(t)
	}
	f.clock.Advance(5*24*time.Hour - 30*time.Minute)
	tk = f.refresh(tk.RefreshToken).ok(t)
	f.clock.Advance(30*time.Minute + time.Second) // 365 days and a second
	f.refresh(tk.RefreshToken).fails(t, 403, "invalid_grant")
	if r := f.s.TokenRequests(); !strings.Contains(r[len(r)-1].Reason, "365 days") {
		t.Errorf("reason %q", r[len(r)-1].Reason)
	}
	// The last access token lives out its hour.
	f.gw(tk.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 200, "")
}

func TestAccessTokenLifetime(t *testing.T) {
	f := startOAuth(t, Options{OAuth: OAuthOptions{AccessTokenTTL: 30 * time.Second}})
	tk := f.login("alice", allScopes)
	if tk.ExpiresIn != 30 {
		t.Errorf("expires_in %d, want 30", tk.ExpiresIn)
	}
	f.clock.Advance(29 * time.Second)
	f.gw(tk.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 200, "")
	f.clock.Advance(time.Second)
	r := f.gw(tk.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "")
	r.want(t, 401, `{"code":401,"message":"Unauthorized"}`)
	if rec := f.lastRequest(); rec.Reason != "access token expired at 2019-06-01T12:43:00Z" || rec.Verified {
		t.Errorf("logged %+v", rec)
	}
	f.gw(f.refresh(tk.RefreshToken).ok(t).AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 200, "")
}

func TestExpireAccessTokensAndRevoke(t *testing.T) {
	f := startOAuth(t, Options{})
	alice, bob := f.login("alice", allScopes), f.login("bob", allScopes)
	if err := f.s.ExpireAccessTokens(); err != nil {
		t.Fatal(err)
	}
	f.gw(alice.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 401, "")
	alice = f.refresh(alice.RefreshToken).ok(t)
	f.gw(alice.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 200, "")

	if n, err := f.s.Revoke("alice"); err != nil || n != 1 {
		t.Fatalf("Revoke: %d, %v", n, err)
	}
	f.gw(alice.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 401, "")
	f.refresh(alice.RefreshToken).fails(t, 403, "invalid_grant")
	f.refresh(bob.RefreshToken).ok(t)
}

func TestAccessibleResources(t *testing.T) {
	f := startOAuth(t, Options{})
	tk := f.login("alice", allScopes)
	req := mustRequest(t, "GET", f.run.URL()+ResourcesPath)
	req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
	r := f.send(req)
	r.want(t, 200, "")
	var sites []struct {
		ID, URL, Name, AvatarURL string
		Scopes                   []string
	}
	if err := json.Unmarshal([]byte(r.body), &sites); err != nil {
		t.Fatal(err)
	}
	if len(sites) != 2 || sites[0].ID != "cloud-acme" || sites[0].URL != f.ten.BaseURL() || sites[0].Name != "acme" ||
		sites[1].ID != "cloud-beta" || sites[1].Name != "beta" ||
		!slices.Equal(sites[0].Scopes, []string{"manage:jira-webhook", "read:jira-work"}) || !strings.HasPrefix(sites[0].AvatarURL, "data:image/svg+xml,") {
		t.Errorf("accessible-resources %s", r.body)
	}
	for _, field := range []string{`"id"`, `"url"`, `"name"`, `"scopes"`, `"avatarUrl"`} {
		if !strings.Contains(r.body, field) {
			t.Errorf("no %s in %s", field, r.body)
		}
	}
	req = mustRequest(t, "GET", f.run.URL()+ResourcesPath)
	f.send(req).want(t, 401, "")
	req.Header.Set("Authorization", "Bearer nope")
	f.send(req).want(t, 401, "")
}

// TestOAuthLogHasNoSecrets: tokens, codes and the client secret stay out
// of the request log.
func TestOAuthLogHasNoSecrets(t *testing.T) {
	f := startOAuth(t, Options{OAuth: OAuthOptions{RefreshReuseInterval: -1}})
	code := f.code("alice", allScopes)
	tk := f.tokenForm(exchangeForm(code)).ok(t)
	f.tokenForm(exchangeForm(code))
	tk2 := f.login("alice", allScopes)
	f.refresh(tk2.RefreshToken).ok(t)
	f.refresh(tk2.RefreshToken)
	f.tokenForm(url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}, "client_secret": {"wrong-" + testClientSecret}, "refresh_token": {"x"}})
	f.gw(tk.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "")
	for _, r := range f.s.Requests() {
		line := fmt.Sprintf("%+v", r)
		for _, secret := range []string{testClientSecret, code, tk.AccessToken, tk.RefreshToken, tk2.AccessToken, tk2.RefreshToken} {
			if strings.Contains(line, secret) {
				t.Errorf("the log holds a secret: %s", line)
			}
		}
	}
}

// TestPendingBound: consent pages and codes waiting for an answer are
// bounded, so that a loop of requests cannot fill the sandbox's memory;
// expired ones make room again.
func TestPendingBound(t *testing.T) {
	clock := newClock()
	s := New(Options{Clock: clock.Now, OAuth: OAuthOptions{ClientID: testClientID}})
	get := func(extra ...string) int {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", AuthorizePath+"?"+authorizeQuery(extra...).Encode(), nil))
		return w.Code
	}
	for i := range maxPending {
		if code := get(); code != 200 {
			t.Fatalf("consent page %d: %d", i, code)
		}
		if code := get("approve", "alice"); code != 302 {
			t.Fatalf("code %d: %d", i, code)
		}
	}
	if code := get(); code != 503 {
		t.Errorf("one consent page too many: %d, want 503", code)
	}
	if code := get("approve", "alice"); code != 503 {
		t.Errorf("one code too many: %d, want 503", code)
	}
	clock.Advance(pageLifetime)
	if get() != 200 || get("approve", "alice") != 302 {
		t.Error("no room once the pages and codes expired")
	}
}
