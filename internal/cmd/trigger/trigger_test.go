package trigger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// env is a sandbox on loopback, imported as the tenant "sandbox" into a
// throw-away config, and a receiver for its deliveries.
type env struct {
	t     *testing.T
	s     *sandbox.Server
	url   string // the sandbox's root URL
	ten   *sandbox.Tenant
	vars  map[string]string
	store tenant.SecretStore
	hook  *hookServer
}

// hookServer answers deliveries with scripted statuses.
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	headers  []http.Header
}

func newEnv(t *testing.T, statuses ...int) *env {
	t.Helper()
	s := sandbox.New(sandbox.Options{RetryScale: 1e-6})
	ten, err := s.AddTenant(sandbox.TenantConfig{Name: "sandbox", BasePath: "/"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	h := &hookServer{statuses: statuses}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		n := len(h.bodies)
		h.bodies = append(h.bodies, b)
		h.headers = append(h.headers, r.Header.Clone())
		status := 200
		if len(h.statuses) > 0 {
			status = h.statuses[min(n, len(h.statuses)-1)]
		}
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)

	dir := t.TempDir()
	e := &env{t: t, s: s, url: run.URL(), ten: ten, store: tenant.NewMemoryStore(), hook: h,
		vars: map[string]string{tenant.EnvConfig: filepath.Join(dir, "config.json")}}
	installed := filepath.Join(dir, "installed.json")
	if err := os.WriteFile(installed, ten.Installed(), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.run("tenant", "import", "sandbox", "--file", installed); r.code != 0 {
		t.Fatalf("tenant import: %d %s", r.code, r.stderr)
	}
	return e
}

func (h *hookServer) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

type result struct {
	code           int
	stdout, stderr string
}

// factory returns a Factory on the env's config and secrets with test
// streams.
func (e *env) factory() (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := iostreams.Test()
	getenv := func(k string) string { return e.vars[k] }
	return &cmdutil.Factory{
		IOStreams: ios,
		Version:   "test",
		Getenv:    getenv,
		Now:       time.Now,
		Config:    cmdutil.LoadConfigOnce(getenv),
		Secrets:   func() tenant.SecretStore { return e.store },
	}, out, errOut
}

// run runs jwh in-process.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runWithStdin("", args...)
}

// runWithStdin runs jwh in-process with stdin as its standard input.
func (e *env) runWithStdin(stdin string, args ...string) result {
	e.t.Helper()
	f, out, errOut := e.factory()
	f.IOStreams.In = strings.NewReader(stdin)
	code := app.Run(f, args)
	return result{code, out.String(), errOut.String()}
}

// register registers webhooks on the env's receiver with the tenant's
// signed client.
func (e *env) register(specs ...jira.WebhookSpec) {
	e.t.Helper()
	f, _, _ := e.factory()
	c, _, err := f.JiraClient("", false)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := c.RegisterWebhooks(context.Background(), jira.RegisterRequest{URL: e.hook.URL + "/hook", Webhooks: specs})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range res {
		if r.ID == 0 {
			e.t.Fatalf("registration refused: %v", r.Errors)
		}
	}
}

func TestTrigger(t *testing.T) {
	e := newEnv(t, 503, 503, 200)
	e.register(
		jira.WebhookSpec{JQLFilter: "project = PRJ AND status = Done", Events: []string{"jira:issue_updated"}},
		jira.WebhookSpec{JQLFilter: "project = OPS", Events: []string{"jira:issue_updated"}},
		jira.WebhookSpec{JQLFilter: "project = PRJ", Events: []string{"jira:issue_created"}},
	)
	e.s.ResetRequests()

	r := e.run("trigger", "jira:issue_updated", "--issue-key", "PRJ-1", "--status", "Done", "--changed", "status")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "1000\tdelivered\t3\t200 from "+e.hook.URL+"/hook, identifier ") ||
		lines[1] != "1001\tskipped\t\tthe issue does not match the filter: project = OPS" {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "Triggered jira:issue_updated for PRJ-1 on tenant sandbox: 1 of 2 subscribed webhooks matched") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if n := e.hook.requests(); n != 3 {
		t.Errorf("the receiver got %d requests, want 3", n)
	}
	// One signed request, to the trigger endpoint.
	log := e.s.Requests()
	if len(log) != 1 || !log[0].Verified || log[0].Path != sandbox.TriggerPath || log[0].Method != "POST" {
		t.Errorf("request log %+v", log)
	}

	// -o json is the sandbox's answer.
	r = e.run("trigger", "jira:issue_updated", "--issue-key", "OPS-9", "--changed", "summary", "--field", "summary=New", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var res sandbox.TriggerResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, r.stdout)
	}
	if !res.Complete || !slices.Equal(res.MatchedWebhookIDs, []int64{1001}) || res.IssueKey != "OPS-9" ||
		len(res.Deliveries) != 1 || res.Deliveries[0].Outcome != sandbox.OutcomeDelivered {
		t.Errorf("-o json: %s", r.stdout)
	}
	var p struct {
		Issue struct {
			Fields struct {
				Summary string `json:"summary"`
			} `json:"fields"`
		} `json:"issue"`
		Changelog struct {
			Items []struct {
				FieldID  string `json:"fieldId"`
				ToString string `json:"toString"`
			} `json:"items"`
		} `json:"changelog"`
	}
	if err := json.Unmarshal(res.Deliveries[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Issue.Fields.Summary != "New" || len(p.Changelog.Items) != 1 || p.Changelog.Items[0].ToString != "New" {
		t.Errorf("payload %s", res.Deliveries[0].Payload)
	}

	// Nobody subscribes: exit 0 and a hint.
	r = e.run("trigger", "comment_deleted")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "No webhook of tenant sandbox subscribes to comment_deleted") {
		t.Errorf("no subscriber: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestTriggerIssueFile(t *testing.T) {
	e := newEnv(t)
	e.register(jira.WebhookSpec{JQLFilter: "issue.property[support].level = 2 AND cf[10014] = PRJ-7 AND assignee = acc-1", Events: []string{"jira:issue_created"}})
	file := filepath.Join(t.TempDir(), "issue.json")
	if err := os.WriteFile(file, []byte(`{"key":"PRJ-5","self":"ignored","fields":{"customfield_10014":"PRJ-7","assignee":{"accountId":"acc-2"}},"properties":{"support":{"level":2}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// The flags win over the file.
	r := e.run("trigger", "jira:issue_created", "--issue", file, "--assignee", "acc-1", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var res sandbox.TriggerResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.MatchedWebhookIDs, []int64{1000}) || res.IssueKey != "PRJ-5" {
		t.Errorf("matched %v for %s", res.MatchedWebhookIDs, res.IssueKey)
	}
	r = e.run("trigger", "jira:issue_created", "--issue", file, "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"matchedWebhookIds": []`) {
		t.Errorf("acc-2 matched: exit %d %s", r.code, r.stdout)
	}
}

// TestTriggerIssueFromStdin: --issue - reads the issue from standard
// input.
func TestTriggerIssueFromStdin(t *testing.T) {
	e := newEnv(t)
	e.register(jira.WebhookSpec{JQLFilter: "issue.property[support].level = 2", Events: []string{"jira:issue_created"}})
	r := e.runWithStdin(`{"key":"PRJ-9","properties":{"support":{"level":2}}}`, "trigger", "jira:issue_created", "--issue", "-", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var res sandbox.TriggerResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.MatchedWebhookIDs, []int64{1000}) || res.IssueKey != "PRJ-9" {
		t.Errorf("matched %v for %s", res.MatchedWebhookIDs, res.IssueKey)
	}
	r = e.runWithStdin("not json", "trigger", "jira:issue_created", "--issue", "-")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "jwh: standard input: not an issue as Jira shows it") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("not an issue: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTriggerFailedDelivery(t *testing.T) {
	e := newEnv(t, 500)
	e.register(jira.WebhookSpec{JQLFilter: "project = SBX", Events: []string{"comment_created"}})
	r := e.run("trigger", "comment_created", "--comment", "hello")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "1000\tfailed\t6\tanswered 500 Internal Server Error after 5 retries, identifier ") {
		t.Errorf("stdout %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "jwh: the delivery to "+e.hook.URL+"/hook failed: answered 500 Internal Server Error after 5 retries; it is listed by 'jwh failed'") {
		t.Errorf("stderr %q", r.stderr)
	}
	if n := e.hook.requests(); n != 6 {
		t.Errorf("%d attempts, want 6", n)
	}
	// It is listed as failed, with the identifier the receiver saw.
	f, _, _ := e.factory()
	c, _, err := f.JiraClient("", false)
	if err != nil {
		t.Fatal(err)
	}
	failed, err := c.FailedWebhooks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e.hook.mu.Lock()
	id := e.hook.headers[0].Get(sandbox.HeaderIdentifier)
	body := string(e.hook.bodies[0])
	e.hook.mu.Unlock()
	if len(failed) != 1 || failed[0].ID != id || failed[0].Body != body || !strings.Contains(body, `"body":"hello"`) {
		t.Errorf("failed deliveries %+v", failed)
	}
}

func TestTriggerInputErrors(t *testing.T) {
	e := newEnv(t)
	e.s.ResetRequests()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"trigger", "issue_updated"}, `jwh: unknown event "issue_updated": did you mean "jira:issue_updated"?`},
		{[]string{"trigger"}, "jwh: missing the event, such as jira:issue_updated"},
		{[]string{"trigger", "jira:issue_created", "--changed", "status"}, "jwh: --changed applies to jira:issue_updated only"},
		{[]string{"trigger", "jira:issue_created", "--comment", "x"}, "jwh: --comment applies to comment_created"},
		{[]string{"trigger", "comment_created", "--property", "k=1"}, "jwh: --property applies to issue_property_set"},
		{[]string{"trigger", "sprint_started", "--issue-key", "A-1"}, "jwh: sprint_started is not about an issue"},
		{[]string{"trigger", "jira:issue_created", "--field", "novalue"}, `jwh: invalid --field "novalue": use NAME=VALUE`},
		{[]string{"trigger", "jira:issue_created", "--wait", "1m"}, "jwh: invalid --wait 1m0s: give a duration up to 25s"},
		{[]string{"trigger", "jira:issue_created", "--issue", "/nonexistent/issue.json"}, "jwh: cannot read /nonexistent/issue.json: no such file or directory\n"},
		{[]string{"trigger", "jira:issue_created", "--issue-key", "bad key"}, "jwh: invalid --issue-key \"bad key\": an issue key is a project key, a hyphen and a number, such as PRJ-1\n"},
	} {
		r := e.run(tc.args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.msg)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"key": 1}`), 0o600)
	if r := e.run("trigger", "jira:issue_created", "--issue", bad); r.code != 2 || !strings.Contains(r.stderr, "not an issue as Jira shows it") {
		t.Errorf("bad issue file: %d %q", r.code, r.stderr)
	}
	if n := len(e.s.Requests()); n != 0 {
		t.Errorf("bad input sent %d requests", n)
	}
}

func TestTriggerNotASandbox(t *testing.T) {
	e := newEnv(t)
	// A Jira Cloud site: refused before anything is sent.
	e.vars[tenant.EnvSecret] = "s3cret"
	f, _, _ := e.factory()
	cfg, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := cfg.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	cfg.Put(tenant.Tenant{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "k", ClientKey: "c"})
	// A loopback server that is not a sandbox.
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	cfg.Put(tenant.Tenant{Name: "local", BaseURL: other.URL, AppKey: "k", ClientKey: "c2"})
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	r := e.run("trigger", "jira:issue_created", "-t", "acme")
	if r.code != 2 || !strings.Contains(r.stderr, "jwh: tenant acme is the Jira site https://acme.atlassian.net: jwh trigger only works against 'jwh sandbox'") {
		t.Errorf("cloud tenant: exit %d, %q", r.code, r.stderr)
	}
	r = e.run("trigger", "jira:issue_created", "-t", "local")
	if r.code != 1 || !strings.Contains(r.stderr, "is not a jwh sandbox: POST /rest/jwh-sandbox/1/trigger answered 404") {
		t.Errorf("not a sandbox: exit %d, %q", r.code, r.stderr)
	}
	// The sandbox with the wrong secret: 401, exit 3.
	r = e.run("trigger", "jira:issue_created", "-t", "sandbox")
	if r.code != 3 {
		t.Errorf("wrong secret: exit %d, %q", r.code, r.stderr)
	}
}

// TestTriggerOAuth: an OAuth tenant's trigger goes through the sandbox's
// gateway, and the sandbox delivers to both apps' matching webhooks: the
// Connect app's with a Connect JWT, the OAuth app's with a Bearer JWT. A
// failed delivery of the OAuth app is not said to be in jwh failed.
func TestTriggerOAuth(t *testing.T) {
	for _, status := range []int{200, 400} {
		e := newEnv(t, status)
		cmdtest.OAuthLogin(t, e.s, e.url, e.vars[tenant.EnvConfig], "work", "sandbox", "alice")
		for _, args := range [][]string{
			{"register", "--url", e.hook.URL + "/", "--jql", "project = PRJ", "--event", "jira:issue_updated"},
			{"-t", "work", "register", "--url", e.hook.URL + "/", "--jql", "project = PRJ", "--event", "jira:issue_updated"},
		} {
			if r := e.run(args...); r.code != 0 {
				t.Fatalf("%q: exit %d: %s", args, r.code, r.stderr)
			}
		}
		e.s.ResetRequests()
		r := e.run("-t", "work", "trigger", "jira:issue_updated", "--issue-key", "PRJ-1")
		var gateway int
		for _, req := range e.s.Requests() {
			if req.Kind == sandbox.KindOAuth && strings.HasSuffix(req.Path, sandbox.TriggerPath) {
				gateway++
			}
		}
		if gateway != 1 {
			t.Errorf("%d trigger requests through the gateway, want 1", gateway)
		}
		schemes := map[string]int{}
		e.hook.mu.Lock()
		for _, h := range e.hook.headers {
			scheme, _, _ := strings.Cut(h.Get("Authorization"), " ")
			schemes[scheme]++
		}
		e.hook.mu.Unlock()
		if schemes["JWT"] != 1 || schemes["Bearer"] != 1 {
			t.Errorf("status %d: deliveries by Authorization scheme: %v, want one JWT and one Bearer", status, schemes)
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if len(lines) != 2 || strings.HasSuffix(lines[0], "(OAuth 2.0 app)") || !strings.HasSuffix(lines[1], "(OAuth 2.0 app)") {
			t.Errorf("status %d: rows:\n%s", status, r.stdout)
		}
		switch status {
		case 200:
			if r.code != 0 {
				t.Errorf("exit %d: %s", r.code, r.stderr)
			}
		default:
			const why = "answered 400 Bad Request, which Jira does not retry"
			if want := "jwh: the delivery to " + e.hook.URL + "/ failed: " + why + "; it is listed by 'jwh failed'; the delivery to " +
				e.hook.URL + "/ for the OAuth 2.0 app failed: " + why + "\n"; r.code != 1 || !strings.HasSuffix(r.stderr, want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", r.code, r.stderr, want)
			}
		}
	}
}
