package transport_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jwh-cli/jwh/internal/transport"
)

// bearer is an Authorizer (and Reauthorizer) with a token that changes
// when it is reauthorized, like an OAuth token source.
type bearer struct {
	mu         sync.Mutex
	token      int
	authorized []string // the token of each Authorize
	reauthSeen []string // the Authorization header Reauthorize was given
	refresh    bool     // Reauthorize finds a new token
	reauthErr  error
}

func (b *bearer) Authorize(r *http.Request) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	tok := fmt.Sprintf("token-%d", b.token)
	b.authorized = append(b.authorized, tok)
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

func (b *bearer) Reauthorize(sent *http.Request) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reauthSeen = append(b.reauthSeen, sent.Header.Get("Authorization"))
	if b.reauthErr != nil {
		return false, b.reauthErr
	}
	if b.refresh {
		b.token++
	}
	return b.refresh, nil
}

// plainAuthorizer is an Authorizer that is not a Reauthorizer.
type plainAuthorizer struct{ n int }

func (p *plainAuthorizer) Authorize(r *http.Request) error {
	p.n++
	r.Header.Set("Authorization", fmt.Sprintf("Bearer plain-%d", p.n))
	return nil
}

func TestAuthorizerCalledForEveryAttempt(t *testing.T) {
	rec := &recorder{answers: []answer{{status: 503}, {status: 429}, {status: 200}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	clock := newFakeClock()
	b := &bearer{}
	c := newClient(t, transport.Options{Authorizer: b, Sleep: clock.Sleep, Now: clock.Now})
	resp, err := c.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(b.authorized) != 3 || len(rec.requests()) != 3 {
		t.Fatalf("Authorize called %d times for %d attempts, want 3", len(b.authorized), len(rec.requests()))
	}
	for _, r := range rec.requests() {
		if r.auth != "Bearer token-0" {
			t.Errorf("attempt sent with %q", r.auth)
		}
	}
	if len(b.reauthSeen) != 0 {
		t.Errorf("Reauthorize called without a 401: %v", b.reauthSeen)
	}
}

// TestReauthorizeOnceOn401: a 401 makes the transport ask for fresh
// credentials once, with the request as it was sent, and send the request
// again; a second 401 is returned as it is.
func TestReauthorizeOnceOn401(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answers  []answer
		refresh  bool
		status   int
		attempts int
	}{
		{name: "refreshed, then accepted", answers: []answer{{status: 401}, {status: 200}}, refresh: true, status: 200, attempts: 2},
		{name: "refreshed, refused again", answers: []answer{{status: 401}, {status: 401}, {status: 200}}, refresh: true, status: 401, attempts: 2},
		{name: "nothing fresher", answers: []answer{{status: 401}, {status: 200}}, refresh: false, status: 401, attempts: 1},
		{name: "a 429 after the retry is retried as usual", answers: []answer{{status: 401}, {status: 429}, {status: 200}}, refresh: true, status: 200, attempts: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{answers: tc.answers}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			clock := newFakeClock()
			b := &bearer{refresh: tc.refresh}
			var dbg bytes.Buffer
			c := newClient(t, transport.Options{Authorizer: b, Sleep: clock.Sleep, Now: clock.Now, Debug: &dbg})
			req, _ := http.NewRequest("POST", srv.URL+"/rest/api/2/webhook", strings.NewReader(`{"url":"u"}`))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			reqs := rec.requests()
			if resp.StatusCode != tc.status || len(reqs) != tc.attempts {
				t.Fatalf("status %d after %d attempts, want %d after %d", resp.StatusCode, len(reqs), tc.status, tc.attempts)
			}
			if len(b.reauthSeen) != 1 || b.reauthSeen[0] != "Bearer token-0" {
				t.Errorf("Reauthorize got %q, want once with the token that was refused", b.reauthSeen)
			}
			if tc.refresh {
				if reqs[1].auth != "Bearer token-1" || reqs[1].body != `{"url":"u"}` {
					t.Errorf("second attempt sent %q with body %q", reqs[1].auth, reqs[1].body)
				}
				if !strings.Contains(dbg.String(), "* 401 Unauthorized: sending it again with fresh credentials") {
					t.Errorf("debug output:\n%s", dbg.String())
				}
			}
		})
	}
}

func TestNoReauthorizeWhenNotPossible(t *testing.T) {
	t.Run("body cannot be replayed", func(t *testing.T) {
		rec := &recorder{answers: []answer{{status: 401}, {status: 200}}}
		srv := httptest.NewServer(rec)
		defer srv.Close()
		b := &bearer{refresh: true}
		c := newClient(t, transport.Options{Authorizer: b})
		req, _ := http.NewRequest("POST", srv.URL+"/x", io.NopCloser(strings.NewReader("{}")))
		req.GetBody = nil
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || len(rec.requests()) != 1 || len(b.reauthSeen) != 0 {
			t.Errorf("status %d, %d requests, %d reauthorizations", resp.StatusCode, len(rec.requests()), len(b.reauthSeen))
		}
	})
	t.Run("not a Reauthorizer", func(t *testing.T) {
		rec := &recorder{answers: []answer{{status: 401}, {status: 200}}}
		srv := httptest.NewServer(rec)
		defer srv.Close()
		c := newClient(t, transport.Options{Authorizer: &plainAuthorizer{}})
		resp, err := c.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || len(rec.requests()) != 1 {
			t.Errorf("status %d after %d requests", resp.StatusCode, len(rec.requests()))
		}
	})
}

func TestReauthorizeErrorEndsTheExchange(t *testing.T) {
	rec := &recorder{answers: []answer{{status: 401}, {status: 200}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	gone := errors.New("the login of tenant acme has expired or was revoked; run: jwh tenant login acme --client-id cid")
	c := newClient(t, transport.Options{Authorizer: &bearer{reauthErr: gone}})
	_, err := c.Get(srv.URL + "/x")
	var ae *transport.AuthorizeError
	if !errors.Is(err, gone) || !errors.As(err, &ae) || ae.Error() != gone.Error() {
		t.Fatalf("error %v, want the Reauthorizer's", err)
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// failingAuthorizer cannot authorize: the request is never sent, nor
// retried, whatever the cause looks like.
type failingAuthorizer struct {
	err   error
	calls int
}

func (f *failingAuthorizer) Authorize(*http.Request) error { f.calls++; return f.err }

func TestAuthorizeErrorIsNotRetried(t *testing.T) {
	cause := &transport.Error{Method: "POST", URL: "https://auth.example/oauth/token", Peer: "Atlassian's OAuth server", Attempts: 1,
		Err: &transport.TimeoutError{}}
	f := &failingAuthorizer{err: fmt.Errorf("refresh the access token of tenant acme: %w", cause)}
	c := newClient(t, transport.Options{Authorizer: f, Base: failingTransport{t}})
	_, err := c.Get("https://jira.example/x")
	var ae *transport.AuthorizeError
	if !errors.As(err, &ae) || f.calls != 1 {
		t.Fatalf("error %v after %d calls, want an *AuthorizeError after 1", err, f.calls)
	}
	if !strings.HasPrefix(ae.Error(), "refresh the access token of tenant acme: Atlassian's OAuth server did not answer") {
		t.Errorf("message %q", ae.Error())
	}
}

func TestNoAuthorizer(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := transport.New(transport.Options{UserAgent: "jwh/test"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := rec.requests(); len(r) != 1 || r[0].auth != "" || r[0].userAgent != "jwh/test" {
		t.Errorf("requests %+v", r)
	}
}

// TestTokenPostNotRepeated: a token request that may have reached the
// server (the connection was dropped after it was sent) is not sent
// again: a used refresh token is rotated.
func TestTokenPostNotRepeated(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		io.ReadAll(r.Body)
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	}))
	defer srv.Close()
	clock := newFakeClock()
	c, _ := transport.New(transport.Options{Peer: "Atlassian's OAuth server", Sleep: clock.Sleep, Now: clock.Now})
	_, err := c.PostForm(srv.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt"}})
	var te *transport.Error
	if !errors.As(err, &te) || !te.Sent {
		t.Fatalf("error %v, want a *transport.Error with Sent", err)
	}
	mu.Lock()
	sent := n
	mu.Unlock()
	if sent != 1 {
		t.Errorf("the token POST was sent %d times", sent)
	}
	if !strings.Contains(err.Error(), "Atlassian's OAuth server closed the connection (1 attempt); the POST may have reached Atlassian's OAuth server, so it was not repeated") {
		t.Errorf("message %q", err)
	}
}

// TestDebugRedactsOAuthSecrets: the --debug dump of a token exchange shows
// none of its secrets, in form or JSON bodies, either way, nor the bearer
// token.
func TestDebugRedactsOAuthSecrets(t *testing.T) {
	secrets := map[string]string{
		"client_secret": "CS-7f3a9", "code": "CODE-4b21", "refresh_token": "RT-9c0d",
		"access_token": "AT-e5f6", "id_token": "IDT-a1b2",
	}
	for _, tc := range []struct {
		name                 string
		reqType, reqBody     string
		respType, respBody   string
		wantInReq, wantInRsp []string
	}{
		{
			name:      "form request, JSON answer",
			reqType:   "application/x-www-form-urlencoded",
			reqBody:   "grant_type=refresh_token&client_id=cid&client_secret=CS-7f3a9&refresh_token=RT-9c0d&code=CODE-4b21&id_token=IDT-a1b2",
			respType:  "application/json",
			respBody:  `{"access_token": "AT-e5f6", "token_type":"Bearer","expires_in":3600,"refresh_token":"RT-9c0d","id_token":"IDT-a1b2","scope":"offline_access"}`,
			wantInReq: []string{"grant_type=refresh_token&client_id=cid&client_secret=[redacted]&refresh_token=[redacted]&code=[redacted]&id_token=[redacted]"},
			wantInRsp: []string{`{"access_token": "[redacted]", "token_type":"Bearer","expires_in":3600,"refresh_token":"[redacted]","id_token":"[redacted]","scope":"offline_access"}`},
		},
		{
			name:      "JSON request, form answer",
			reqType:   "application/json",
			reqBody:   `{"grant_type":"authorization_code","client_id":"cid","client_secret":"CS-7f3a9","code":"CODE-4b21","redirect_uri":"http://localhost:8976/callback"}`,
			respType:  "application/x-www-form-urlencoded; charset=utf-8",
			respBody:  "access_token=AT-e5f6&token_type=bearer&refresh_token=RT-9c0d",
			wantInReq: []string{`"client_secret":"[redacted]","code":"[redacted]","redirect_uri":"http://localhost:8976/callback"`},
			wantInRsp: []string{"access_token=[redacted]&token_type=bearer&refresh_token=[redacted]"},
		},
		{
			name:      "JSON without a content type, escaped quotes",
			reqBody:   `{"client_secret" : "CS-7f3a9\"x", "nested": {"code": "CODE-4b21"}}`,
			respBody:  `[{"access_token":"AT-e5f6"}]`,
			wantInReq: []string{`{"client_secret" : "[redacted]", "nested": {"code": "[redacted]"}}`},
			wantInRsp: []string{`[{"access_token":"[redacted]"}]`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{answers: []answer{{status: 200, header: map[string]string{"Content-Type": tc.respType}, body: tc.respBody}}}
			if tc.respType == "" {
				rec.answers[0].header = map[string]string{"Content-Type": ""}
			}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			var dbg bytes.Buffer
			c := newClient(t, transport.Options{Authorizer: &plainAuthorizer{}, Debug: &dbg})
			req, _ := http.NewRequest("POST", srv.URL+"/oauth/token?code=CODE-4b21&state=st", strings.NewReader(tc.reqBody))
			if tc.reqType != "" {
				req.Header.Set("Content-Type", tc.reqType)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != tc.respBody {
				t.Errorf("the caller got %q", body)
			}
			if got := rec.requests()[0].body; got != tc.reqBody {
				t.Errorf("the server got %q", got)
			}
			out := dbg.String()
			for name, v := range secrets {
				if strings.Contains(out, v) {
					t.Errorf("debug output shows the %s:\n%s", name, out)
				}
			}
			for _, want := range append(append([]string{"> Authorization: Bearer [redacted]\n", "/oauth/token?code=[redacted]&state=st\n"}, tc.wantInReq...), tc.wantInRsp...) {
				if !strings.Contains(out, want) {
					t.Errorf("debug output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
