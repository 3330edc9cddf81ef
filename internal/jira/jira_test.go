package jira_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/transport"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// env is a sandbox on loopback with one tenant and a client for it.
type env struct {
	t      *testing.T
	s      *sandbox.Server
	tenant *sandbox.Tenant
	base   string
	client *jira.Client
}

// noSleep makes retries immediate.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// start runs a sandbox with one tenant at basePath ("" for the default),
// served directly or, when wrap is not nil, through wrap.
func start(t *testing.T, opts sandbox.Options, basePath string, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	s := sandbox.New(opts)
	ten, err := s.AddTenant(sandbox.TenantConfig{Name: "acme", AppKey: "com.example.app", BasePath: basePath})
	if err != nil {
		t.Fatal(err)
	}
	var root string
	if wrap == nil {
		run, err := s.Listen("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { run.Close() })
		root = run.URL()
	} else {
		srv := httptest.NewServer(wrap(s))
		t.Cleanup(srv.Close)
		root = srv.URL
	}
	base := root + ten.BasePath()
	hc, err := transport.New(transport.Options{
		Authorizer: connectjwt.NewSigner(ten.AppKey(), []byte(ten.Secret()), ten.BasePath()),
		Sleep:      noSleep,
		Timeout:    10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, tenant: ten, base: base, client: jira.NewClient(hc, parseBase(t, base))}
}

// allVerified fails unless the sandbox logged n requests, all with a JWT
// that verified, and returns them.
func (e *env) allVerified(n int) []sandbox.Request {
	e.t.Helper()
	reqs := e.s.Requests()
	if len(reqs) != n {
		e.t.Errorf("sandbox saw %d requests, want %d", len(reqs), n)
	}
	for _, r := range reqs {
		if !r.Verified {
			e.t.Errorf("%s %s?%s: JWT not verified: %s (%s)", r.Method, r.Path, r.RawQuery, r.Reason, r.Check)
		}
	}
	return reqs
}

var specs = []jira.WebhookSpec{
	{JQLFilter: "project = PRJ AND status = Done", Events: []string{"jira:issue_created", "jira:issue_updated"}, FieldIDsFilter: []string{"summary"}},
	{JQLFilter: "priority = High", Events: []string{"jira:issue_updated"}},
	{JQLFilter: `issuetype IN (Bug, "Sub-task")`, Events: []string{"comment_created"}, IssuePropertyKeysFilter: []string{"my-prop"}},
}

func TestWebhookLifecycleUnderContextPath(t *testing.T) {
	for _, asString := range []bool{false, true} {
		t.Run(fmt.Sprintf("expirationAsString=%v", asString), func(t *testing.T) {
			e := start(t, sandbox.Options{ExpirationAsString: asString}, "/jira", nil)
			ctx := context.Background()
			results, err := e.client.RegisterWebhooks(ctx, jira.RegisterRequest{URL: "https://app.example.com/hook", Webhooks: specs})
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != 3 || results[0].ID == 0 || results[1].ID != 0 || len(results[1].Errors) == 0 || results[2].ID == 0 {
				t.Fatalf("results %+v: want ids for 1 and 3, errors for 2", results)
			}

			all, err := e.client.AllWebhooks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2 {
				t.Fatalf("listed %d webhooks, want 2", len(all))
			}
			w := all[0]
			wantExp := e.tenant.Webhooks()[0].ExpiresAt.Truncate(time.Millisecond)
			if w.ID != results[0].ID || w.JQLFilter != specs[0].JQLFilter || w.URL != "https://app.example.com/hook" ||
				strings.Join(w.Events, ",") != "jira:issue_created,jira:issue_updated" ||
				strings.Join(w.FieldIDsFilter, ",") != "summary" || !w.Expiration.Equal(wantExp) {
				t.Errorf("webhook %+v, want id %d expiring %s", w, results[0].ID, wantExp)
			}
			if got := all[1].IssuePropertyKeysFilter; len(got) != 1 || got[0] != "my-prop" {
				t.Errorf("issuePropertyKeysFilter %v", got)
			}

			exp, err := e.client.RefreshWebhooks(ctx, []int64{results[0].ID})
			if err != nil {
				t.Fatal(err)
			}
			if exp.IsZero() || exp.Before(wantExp) {
				t.Errorf("refreshed expiration %s", exp)
			}
			if err := e.client.DeleteWebhooks(ctx, []int64{results[0].ID, results[2].ID, 424242}); err != nil {
				t.Fatal(err)
			}
			if n := len(e.tenant.Webhooks()); n != 0 {
				t.Errorf("%d webhooks left after delete", n)
			}
			reqs := e.allVerified(4)
			for _, r := range reqs {
				if !strings.HasPrefix(r.Path, "/jira/rest/api/2/webhook") || r.Tenant != "acme" {
					t.Errorf("request to %s (tenant %q)", r.Path, r.Tenant)
				}
			}
			if reqs[1].RawQuery != "startAt=0&maxResults=100" {
				t.Errorf("list query %q", reqs[1].RawQuery)
			}
		})
	}
}

func register(t *testing.T, e *env, n int) []int64 {
	t.Helper()
	var ws []jira.WebhookSpec
	for i := range n {
		ws = append(ws, jira.WebhookSpec{JQLFilter: fmt.Sprintf("project = P%d", i), Events: []string{"jira:issue_updated"}})
	}
	results, err := e.client.RegisterWebhooks(context.Background(), jira.RegisterRequest{URL: "https://app.example.com/hook", Webhooks: ws})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range results {
		if r.ID == 0 {
			t.Fatalf("refused: %v", r.Errors)
		}
		ids = append(ids, r.ID)
	}
	e.s.ResetRequests()
	return ids
}

func TestAllWebhooksFollowsCappedPages(t *testing.T) {
	e := start(t, sandbox.Options{PageCap: 7}, "", nil)
	ids := register(t, e, 20)
	all, err := e.client.AllWebhooks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 20 {
		t.Fatalf("%d webhooks, want 20", len(all))
	}
	for i, w := range all {
		if w.ID != ids[i] {
			t.Errorf("webhook %d has id %d, want %d", i, w.ID, ids[i])
		}
	}
	reqs := e.allVerified(3)
	for i, q := range []string{"startAt=0&maxResults=100", "startAt=7&maxResults=100", "startAt=14&maxResults=100"} {
		if i < len(reqs) && reqs[i].RawQuery != q {
			t.Errorf("page %d query %q, want %q", i, reqs[i].RawQuery, q)
		}
	}
}

func TestListWebhooksOnePage(t *testing.T) {
	e := start(t, sandbox.Options{}, "/jira", nil)
	register(t, e, 5)
	page, err := e.client.ListWebhooks(context.Background(), 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	if page.StartAt != 3 || page.Total != 5 || !page.IsLast || len(page.Values) != 2 {
		t.Errorf("page %+v", page)
	}
	e.allVerified(1)
}

// rewriteJSON answers the sandbox's answer to requests for which match is
// true after passing its body through edit. The sandbox still checks every
// JWT and logs every request.
func rewriteJSON(match func(*http.Request) bool, edit func(body []byte) []byte) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if rec.Code == http.StatusOK {
				body = edit(body)
			}
			for k, v := range rec.Header() {
				if k != "Content-Length" {
					w.Header()[k] = v
				}
			}
			w.WriteHeader(rec.Code)
			w.Write(body)
		})
	}
}

func isList(r *http.Request) bool {
	return r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/rest/api/2/webhook")
}

func editPage(t *testing.T, fn func(map[string]any)) func([]byte) []byte {
	return func(b []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("page %s: %v", b, err)
			return b
		}
		fn(m)
		out, _ := json.Marshal(m)
		return out
	}
}

func TestAllWebhooksNeverIsLast(t *testing.T) {
	t.Run("total given", func(t *testing.T) {
		e := start(t, sandbox.Options{PageCap: 4}, "", rewriteJSON(isList, editPage(t, func(m map[string]any) { m["isLast"] = false })))
		register(t, e, 10)
		all, err := e.client.AllWebhooks(context.Background())
		if err != nil || len(all) != 10 {
			t.Fatalf("got %d webhooks, %v; want 10", len(all), err)
		}
		e.allVerified(3)
	})
	t.Run("no total: stops on the empty page", func(t *testing.T) {
		e := start(t, sandbox.Options{PageCap: 4}, "", rewriteJSON(isList, editPage(t, func(m map[string]any) {
			m["isLast"] = false
			delete(m, "total")
		})))
		register(t, e, 10)
		all, err := e.client.AllWebhooks(context.Background())
		if err != nil || len(all) != 10 {
			t.Fatalf("got %d webhooks, %v; want 10", len(all), err)
		}
		e.allVerified(4) // 4 + 4 + 2 + the empty page
	})
	t.Run("repeats its first page", func(t *testing.T) {
		var mu sync.Mutex
		var first []byte
		e := start(t, sandbox.Options{PageCap: 4}, "", rewriteJSON(isList, func(b []byte) []byte {
			mu.Lock()
			defer mu.Unlock()
			if first == nil {
				first = editPage(t, func(m map[string]any) { m["isLast"] = false; delete(m, "total") })(b)
			}
			return first
		}))
		register(t, e, 10)
		_, err := e.client.AllWebhooks(context.Background())
		want := "jira: listing webhooks: the page at startAt=4 repeats webhooks already listed and is not the last; stopped"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
		e.allVerified(2)
	})
}

func TestRegisterBareArray(t *testing.T) {
	isRegister := func(r *http.Request) bool { return r.Method == "POST" }
	e := start(t, sandbox.Options{}, "/jira", rewriteJSON(isRegister, func(b []byte) []byte {
		var obj struct {
			Results json.RawMessage `json:"webhookRegistrationResult"`
		}
		if err := json.Unmarshal(b, &obj); err != nil || len(obj.Results) == 0 {
			t.Errorf("register answer %s", b)
		}
		return obj.Results
	}))
	results, err := e.client.RegisterWebhooks(context.Background(), jira.RegisterRequest{URL: "https://app.example.com/hook", Webhooks: specs})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 || results[0].ID == 0 || len(results[1].Errors) == 0 || results[2].ID == 0 {
		t.Errorf("results %+v", results)
	}
	e.allVerified(1)
}

func TestFailedWebhooksFollowsNext(t *testing.T) {
	e := start(t, sandbox.Options{PageCap: 2, FailedAfterParam: "since"}, "/jira", nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 5 {
		err := e.tenant.RecordFailedDelivery(sandbox.FailedDelivery{
			ID: fmt.Sprintf("f-%d", i), Body: `{"webhookEvent":"jira:issue_updated"}`,
			URL: "https://app.example.com/hook", FailureTime: now.Add(time.Duration(i-10) * time.Minute),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	failed, err := e.client.FailedWebhooks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 5 {
		t.Fatalf("%d failed deliveries, want 5", len(failed))
	}
	for i, f := range failed {
		if f.ID != fmt.Sprintf("f-%d", i) || f.URL != "https://app.example.com/hook" || !f.FailureTime.Equal(now.Add(time.Duration(i-10)*time.Minute)) {
			t.Errorf("failed[%d] = %+v", i, f)
		}
	}
	reqs := e.allVerified(3)
	if len(reqs) == 3 && (!strings.Contains(reqs[1].RawQuery, "since=") || reqs[0].Path != "/jira/rest/api/2/webhook/failed") {
		t.Errorf("requests %+v", reqs)
	}
}

func TestFailedWebhooksNextOutsideBase(t *testing.T) {
	isFailed := func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/failed") }
	e := start(t, sandbox.Options{}, "/jira", rewriteJSON(isFailed, func([]byte) []byte {
		return []byte(`{"values":[{"id":1,"url":"u","failureTime":"2019-06-01T12:42:30.000+0000"}],"next":"https://evil.example.com/jira/rest/api/2/webhook/failed?after=1"}`)
	}))
	_, err := e.client.FailedWebhooks(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is not under the tenant's base URL") {
		t.Fatalf("error %v", err)
	}
	e.allVerified(1)
}

func TestDoKeepsTheQuery(t *testing.T) {
	e := start(t, sandbox.Options{}, "/jira", nil)
	resp, err := e.client.Do(context.Background(), "GET", `rest/api/2/myself?expand=groups,applicationRoles&jql=project = "A B"&z=%7E`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || !bytes.Contains(resp.Body, []byte(`"accountType":"app"`)) {
		t.Errorf("answer %d %s", resp.Status, resp.Body)
	}
	reqs := e.allVerified(1)
	if len(reqs) == 1 {
		if reqs[0].Path != "/jira/rest/api/2/myself" || reqs[0].RawQuery != `expand=groups,applicationRoles&jql=project%20=%20%22A%20B%22&z=%7E` {
			t.Errorf("sent %s?%s", reqs[0].Path, reqs[0].RawQuery)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("401 denied", func(t *testing.T) {
		e := start(t, sandbox.Options{}, "", nil)
		e.tenant.Deny(http.StatusUnauthorized)
		_, err := e.client.AllWebhooks(ctx)
		var ae *jira.APIError
		if !errors.As(err, &ae) || ae.Status != 401 || !ae.Credentials() {
			t.Fatalf("error %v, want a 401 *APIError", err)
		}
		want := "jira: 401 Unauthorized: Client must be authenticated to access this resource.: check the shared secret, the app key (iss) and this machine's clock (exp/iat; Jira allows about 30 s of skew): jwh doctor finds which"
		if err.Error() != want {
			t.Errorf("error\n got %s\nwant %s", err, want)
		}
	})
	t.Run("403", func(t *testing.T) {
		e := start(t, sandbox.Options{}, "", nil)
		e.tenant.Deny(http.StatusForbidden)
		_, err := e.client.RefreshWebhooks(ctx, []int64{1})
		var ae *jira.APIError
		if !errors.As(err, &ae) || ae.Status != 403 || !strings.Contains(err.Error(), "check the app's scopes") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		e := start(t, sandbox.Options{}, "/jira", nil)
		hc, _ := transport.New(transport.Options{Authorizer: connectjwt.NewSigner("com.example.app", []byte("not the secret"), "/jira")})
		c := jira.NewClient(hc, parseBase(t, e.base))
		resp, err := c.Do(ctx, "GET", "/rest/api/2/myself", nil)
		var ae *jira.APIError
		if !errors.As(err, &ae) || resp == nil || resp.Status != 401 {
			t.Fatalf("error %v, response %+v", err, resp)
		}
		if !strings.Contains(err.Error(), "jira: 401 Unauthorized: JWT verification failed: bad signature") {
			t.Errorf("error %s", err)
		}
	})
	t.Run("400 with messages", func(t *testing.T) {
		e := start(t, sandbox.Options{}, "", nil)
		_, err := e.client.RegisterWebhooks(ctx, jira.RegisterRequest{URL: "/hook", Webhooks: specs[:1]})
		want := `jira: 400 Bad Request: The url "/hook" is not valid: not an absolute URL: give one such as https://app.example.com/hook.`
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %s", err, want)
		}
	})
	t.Run("429 after retries", func(t *testing.T) {
		e := start(t, sandbox.Options{Leading429: 10, RetryAfter: time.Second}, "", nil)
		_, err := e.client.ListWebhooks(ctx, 0, 0)
		want := "jira: 429 Too Many Requests: Rate limit exceeded.: still rate limited: Jira asks to wait 1s (Retry-After) before trying again"
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %s", err, want)
		}
		e.allVerified(transport.DefaultMaxAttempts)
	})
	t.Run("503s retried", func(t *testing.T) {
		e := start(t, sandbox.Options{Rate503: 0.5, Seed: 7}, "", nil)
		for range 10 {
			if _, err := e.client.ListWebhooks(ctx, 0, 0); err != nil {
				var ae *jira.APIError
				if !errors.As(err, &ae) || ae.Status != 503 {
					t.Fatal(err)
				}
			}
		}
		n503 := 0
		for _, r := range e.allVerified(len(e.s.Requests())) {
			if r.Status == 503 {
				n503++
			}
		}
		if n503 == 0 || len(e.s.Requests()) <= 10 {
			t.Errorf("%d requests with %d 503s: nothing was retried", len(e.s.Requests()), n503)
		}
	})
}

func TestNoAnswer(t *testing.T) {
	hc, _ := transport.New(transport.Options{Authorizer: connectjwt.NewSigner("k", []byte("s"), ""), Sleep: noSleep})
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/jira"
	srv.Close() // nothing listens there any more
	c := jira.NewClient(hc, parseBase(t, base))
	resp, err := c.Do(context.Background(), "GET", "/rest/api/2/webhook", nil)
	var te *transport.Error
	if resp != nil || !errors.As(err, &te) {
		t.Fatalf("got %v, %v", resp, err)
	}
	// The text says what happened; the request is in the error's fields.
	host := strings.TrimPrefix(srv.URL, "http://")
	if !strings.HasPrefix(err.Error(), "Jira at "+host+" refused the connection (4 attempts") || strings.Contains(err.Error(), "/rest/") {
		t.Errorf("error %q", err)
	}
	if te.Method != "GET" || te.URL != base+"/rest/api/2/webhook" || te.Attempts != 4 {
		t.Errorf("error fields %+v", te)
	}
}

// TestPlainHTTPBaseRefused: a base URL that did not come through
// urlpolicy.ParseBaseURL is still judged on every request.
func TestPlainHTTPBaseRefused(t *testing.T) {
	hc, _ := transport.New(transport.Options{Authorizer: connectjwt.NewSigner("k", []byte("s"), "")})
	c := jira.NewClient(hc, &url.URL{Scheme: "http", Host: "acme.example.com"})
	_, err := c.Do(context.Background(), "GET", "/rest/api/2/myself", nil)
	var ue *urlpolicy.Error
	if !errors.As(err, &ue) || ue.Role != urlpolicy.RoleRequest || !strings.HasPrefix(ue.Reason, "plain http is allowed only for loopback hosts") {
		t.Fatalf("error %v", err)
	}
}

// parseBase parses a base URL as commands do.
func parseBase(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := urlpolicy.ParseBaseURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
