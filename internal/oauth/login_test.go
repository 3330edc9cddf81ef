package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestAuthCodeURL(t *testing.T) {
	app := &App{ClientID: "cid-123", ClientSecret: "CS-secret", AuthURL: "https://auth.atlassian.com",
		RedirectURI: DefaultRedirectURI, Scopes: DefaultScopes}
	raw := app.AuthCodeURL("the-state")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme+"://"+u.Host+u.Path != "https://auth.atlassian.com/authorize" {
		t.Errorf("endpoint %s", raw)
	}
	want := url.Values{
		"audience":      {"api.atlassian.com"},
		"client_id":     {"cid-123"},
		"scope":         {"manage:jira-webhook read:jira-work offline_access"},
		"redirect_uri":  {"http://localhost:8976/callback"},
		"state":         {"the-state"},
		"response_type": {"code"},
		"prompt":        {"consent"},
	}
	got := u.Query()
	if len(got) != len(want) {
		t.Errorf("parameters %v, want %v", got, want)
	}
	for k, v := range want {
		if got.Get(k) != v[0] || len(got[k]) != 1 {
			t.Errorf("%s = %q, want %q", k, got[k], v[0])
		}
	}
	if strings.Contains(raw, "CS-secret") || strings.Contains(raw, "%20") {
		t.Errorf("URL %s holds the secret, or encodes the space as %%20 rather than +", raw)
	}
	if app.TokenURL() != "https://auth.atlassian.com/oauth/token" {
		t.Errorf("token URL %s", app.TokenURL())
	}
}

func TestNewState(t *testing.T) {
	a, err := NewState()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewState()
	if len(a) != 43 || a == b || strings.ContainsAny(a, "+/=") {
		t.Errorf("states %q and %q: want 43 base64url characters each, different", a, b)
	}
}

func TestParseRedirectURI(t *testing.T) {
	for _, ok := range []string{
		"http://localhost:8976/callback", "http://127.0.0.1:1/", "http://[::1]:65535/a/b",
	} {
		if u, err := ParseRedirectURI(ok); err != nil || u.String() != ok {
			t.Errorf("%s: %v, %v", ok, u, err)
		}
	}
	for in, why := range map[string]string{
		"https://localhost:8976/callback":     "is not plain http on this machine",
		"http://example.com:8976/callback":    "is not on this machine",
		"http://127.0.0.2:8976/callback":      "is not on this machine",
		"http://localhost/callback":           "has no port",
		"http://localhost:0/callback":         "has no port",
		"http://localhost:70000/callback":     "has no port",
		"http://localhost:8976":               "has no path",
		"http://localhost:8976/callback?x=1":  "has a query or fragment",
		"http://localhost:8976/callback#x":    "has a query or fragment",
		"http://user@localhost:8976/callback": "holds user information",
		"localhost:8976/callback":             "is not plain http on this machine",
		"http://localhost:8976/%zz":           "is not a URL",
	} {
		_, err := ParseRedirectURI(in)
		want := fmt.Sprintf("redirect URI %q %s: use http://localhost:PORT/PATH (or 127.0.0.1 or [::1]), as among the app's callback URLs", in, why)
		if !errors.Is(err, ErrRedirectURI) || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", in, err, want)
		}
	}
	if got := RedirectURIForPort(9000); got != "http://localhost:9000/callback" {
		t.Errorf("RedirectURIForPort: %s", got)
	}
}

func TestAnswerCheck(t *testing.T) {
	tests := []struct {
		name    string
		a       Answer
		code    string
		kind    error
		message string
	}{
		{name: "code", a: Answer{Code: "c0de", State: "s"}, code: "c0de"},
		{name: "state mismatch", a: Answer{Code: "c0de", State: "other"}, kind: ErrStateMismatch,
			message: "the answer's state does not match this login: ignore it and run jwh tenant login again"},
		{name: "no state", a: Answer{Code: "c0de"}, kind: ErrStateMismatch},
		{name: "denied with another state", a: Answer{Error: "access_denied", State: "other"}, kind: ErrStateMismatch},
		{name: "denied", a: Answer{Error: "access_denied", ErrorDescription: "User did not authorize the request", State: "s"}, kind: ErrDenied,
			message: "you denied jwh access (access_denied); run jwh tenant login again and choose Accept"},
		{name: "other error", a: Answer{Error: "unauthorized_client", ErrorDescription: "Unknown client\n id", State: "s"}, kind: ErrBadAnswer,
			message: "the authorization server refused the login (unauthorized_client: Unknown client id): check the app's settings in the developer console and run jwh tenant login again"},
		{name: "no code", a: Answer{State: "s"}, kind: ErrBadAnswer, message: "the answer holds no code: run jwh tenant login again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := tt.a.Check("s")
			if tt.kind == nil {
				if err != nil || code != tt.code {
					t.Fatalf("got %q, %v", code, err)
				}
				return
			}
			if !errors.Is(err, tt.kind) || code != "" || tt.message != "" && err.Error() != tt.message {
				t.Errorf("got %q, %v; want %v: %s", code, err, tt.kind, tt.message)
			}
		})
	}
	if s := fmt.Sprintf("%v %+v %#v %s", Answer{Code: "SECRETCODE"}, Answer{Code: "SECRETCODE"}, Answer{Code: "SECRETCODE"}, &Answer{Code: "SECRETCODE"}); strings.Contains(s, "SECRETCODE") {
		t.Errorf("an answer prints its code: %s", s)
	}
}

func TestParseAnswer(t *testing.T) {
	redirect, _ := ParseRedirectURI(DefaultRedirectURI)
	a, err := ParseAnswer("  http://localhost:8976/callback?code=abc&state=xyz\n", redirect)
	if err != nil || a.Code != "abc" || a.State != "xyz" {
		t.Fatalf("got %v, %v", a, err)
	}
	a, err = ParseAnswer("http://LOCALHOST:8976/callback?error=access_denied&error_description=no&state=xyz", redirect)
	if err != nil || a.Error != "access_denied" || a.State != "xyz" {
		t.Fatalf("error answer: %v, %v", a, err)
	}
	const advice = ": paste the whole address the browser was sent to, which starts with http://localhost:8976/callback?code="
	for in, why := range map[string]string{
		"":                   "is empty",
		"abc":                "is not a URL",
		"code=abc&state=xyz": "is not a URL",
		"http://localhost:9999/callback?code=abc&state=xyz": "is not the redirect URI http://localhost:8976/callback",
		"http://127.0.0.1:8976/callback?code=abc&state=xyz": "is not the redirect URI http://localhost:8976/callback",
		"http://localhost:8976/other?code=abc&state=xyz":    "is not the redirect URI http://localhost:8976/callback",
		"https://localhost:8976/callback?code=abc":          "is not the redirect URI http://localhost:8976/callback",
		"http://localhost:8976/callback":                    "has neither a code nor an error",
		"http://localhost:8976/callback?state=xyz":          "has neither a code nor an error",
	} {
		_, err := ParseAnswer(in, redirect)
		if want := "the pasted address " + why + advice; !errors.Is(err, ErrBadAnswer) || err.Error() != want {
			t.Errorf("%q:\n got %v\nwant %s", in, err, want)
		}
	}
}

// freePort returns a loopback port that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestCallbackServer(t *testing.T) {
	port := freePort(t)
	redirect, _ := ParseRedirectURI("http://localhost:" + strconv.Itoa(port) + "/callback")
	srv, err := ListenCallback(redirect)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://127.0.0.1:" + strconv.Itoa(port)

	if status, _ := get(t, base+"/favicon.ico"); status != http.StatusNotFound {
		t.Errorf("another path: %d", status)
	}
	if status, body := get(t, base+"/callback"); status != http.StatusBadRequest || !strings.Contains(body, "carries none") {
		t.Errorf("no answer: %d %s", status, body)
	}

	type result struct {
		status int
		body   string
	}
	browser := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/callback?code=c0de&state=st&extra=<b>")
		if err != nil {
			browser <- result{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		browser <- result{resp.StatusCode, string(body)}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := srv.Wait(ctx)
	if err != nil || a.Code != "c0de" || a.State != "st" {
		t.Fatalf("Wait: %v, %v", a, err)
	}
	// A second answer is refused while the first one is being handled.
	if status, _ := get(t, base+"/callback?code=other&state=st"); status != http.StatusConflict {
		t.Errorf("second answer: %d", status)
	}
	srv.Finish("Logged in to <https://acme.atlassian.net> as tenant acme.", false)
	r := <-browser
	if r.status != http.StatusOK || !strings.Contains(r.body, "jwh: logged in") || !strings.Contains(r.body, "&lt;https://acme.atlassian.net&gt;") ||
		!strings.Contains(r.body, "You can close this tab") {
		t.Errorf("the browser got %d:\n%s", r.status, r.body)
	}
}

func TestCallbackServerFailurePage(t *testing.T) {
	port := freePort(t)
	redirect, _ := ParseRedirectURI("http://127.0.0.1:" + strconv.Itoa(port) + "/cb")
	srv, err := ListenCallback(redirect)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	done := make(chan string, 1)
	go func() {
		_, body := get(t, redirect.String()+"?error=access_denied&state=st")
		done <- body
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := srv.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Check("st")
	srv.Finish(err.Error(), true)
	if body := <-done; !strings.Contains(body, "jwh: the login failed") || !strings.Contains(body, "you denied jwh access") {
		t.Errorf("page:\n%s", body)
	}
}

func TestCallbackServerWaitEnds(t *testing.T) {
	port := freePort(t)
	redirect, _ := ParseRedirectURI("http://127.0.0.1:" + strconv.Itoa(port) + "/cb")
	srv, err := ListenCallback(redirect)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := srv.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after the context ended: %v", err)
	}
}

func TestCallbackPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	redirect, _ := ParseRedirectURI("http://localhost:" + strconv.Itoa(port) + "/callback")
	_, err = ListenCallback(redirect)
	want := "cannot listen on localhost:" + strconv.Itoa(port) + " for the browser's answer: address in use; choose another with --callback-port N (and add its URL to the app's callback URLs)"
	if !errors.Is(err, ErrRedirectURI) || err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestChooseSite(t *testing.T) {
	a := Site{ID: "11111111-aaaa", URL: "https://a.atlassian.net", Name: "a"}
	b := Site{ID: "22222222-bbbb", URL: "https://b.atlassian.net", Name: "b"}
	for _, tc := range []struct {
		sites []Site
		want  string
		got   string
		msg   string
	}{
		{sites: []Site{a}, got: a.ID},
		{sites: []Site{a, b}, want: "https://b.atlassian.net/", got: b.ID},
		{sites: []Site{a, b}, want: "HTTPS://A.atlassian.net", got: a.ID},
		{sites: []Site{a, b}, want: "22222222-bbbb", got: b.ID},
		{sites: []Site{a, b}, msg: "this login covers 2 sites: choose one with --site (URL or cloud id): https://a.atlassian.net (cloud id 11111111-aaaa), https://b.atlassian.net (cloud id 22222222-bbbb)"},
		{sites: []Site{a}, want: "https://c.atlassian.net", msg: "this login does not cover the site https://c.atlassian.net: it covers https://a.atlassian.net (cloud id 11111111-aaaa); choose one of them with --site (URL or cloud id)"},
		{sites: nil, msg: "this login covers no Jira site: give the app access to a site when you consent, then run jwh tenant login again"},
	} {
		s, err := ChooseSite(tc.sites, tc.want)
		if tc.msg != "" {
			if !errors.Is(err, ErrSite) || err.Error() != tc.msg {
				t.Errorf("%q among %d: got %v\nwant %s", tc.want, len(tc.sites), err, tc.msg)
			}
			continue
		}
		if err != nil || s.ID != tc.got {
			t.Errorf("%q: got %v, %v; want %s", tc.want, s, err, tc.got)
		}
	}
	if got := GatewayURL("https://api.atlassian.com/", "c1d"); got != "https://api.atlassian.com/ex/jira/c1d" {
		t.Errorf("GatewayURL: %s", got)
	}
}

// TestExchangeErrors: what the token endpoint refuses is said in words,
// with what to do, and without its body.
func TestExchangeErrors(t *testing.T) {
	app := &App{RedirectURI: DefaultRedirectURI}
	resp := &http.Response{Status: "500 Internal Server Error", StatusCode: 500}
	for _, tc := range []struct {
		re   *oauth2.RetrieveError
		kind error
		msg  string
	}{
		{re: &oauth2.RetrieveError{ErrorCode: "invalid_request", ErrorDescription: "redirect_uri is not registered for this client"}, kind: ErrRedirectURI,
			msg: "the authorization server refused the redirect URI (invalid_request: redirect_uri is not registered for this client): add http://localhost:8976/callback to the app's callback URLs in the developer console (Authorization → OAuth 2.0 (3LO)), then try again"},
		{re: &oauth2.RetrieveError{ErrorCode: "invalid_client", ErrorDescription: "Unauthorized"}, kind: ErrClientRefused,
			msg: "the authorization server refused the client id or secret (invalid_client: Unauthorized): check --client-id and the client secret (JWH_CLIENT_SECRET or standard input)"},
		{re: &oauth2.RetrieveError{ErrorCode: "invalid_grant"}, kind: ErrClientRefused,
			msg: "the authorization server refused the code (invalid_grant): a code is good for one exchange within minutes; run jwh tenant login again"},
		{re: &oauth2.RetrieveError{ErrorCode: "access_denied"}, kind: ErrDenied},
		{re: &oauth2.RetrieveError{Response: resp, Body: []byte("<html>TOPSECRET</html>")},
			msg: "exchange the authorization code: the authorization server answered 500 Internal Server Error; try again later"},
	} {
		err := app.exchangeError(tc.re)
		if tc.kind != nil && !errors.Is(err, tc.kind) || tc.msg != "" && err.Error() != tc.msg || strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("%v:\n got %v\nwant %v: %s", tc.re.ErrorCode, err, tc.kind, tc.msg)
		}
	}
}

func TestNothingPrintsASecret(t *testing.T) {
	app := App{ClientID: "cid", ClientSecret: "CS-TOPSECRET"}
	tok := Token{AccessToken: "AT-TOPSECRET", RefreshToken: "RT-TOPSECRET", Expiry: time.Now()}
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s %x", app, app, app, &app, app),
		fmt.Sprintf("%v %+v %#v %s %x", tok, tok, tok, &tok, tok),
		fmt.Errorf("wrapped: %v", &tok).Error(),
	} {
		if strings.Contains(s, "TOPSECRET") {
			t.Errorf("printed a secret: %s", s)
		}
	}
}
