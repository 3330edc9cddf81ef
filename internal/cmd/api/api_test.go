package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/cmd/api"
	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// theSecret is the tenant's shared secret; it must never be printed.
const theSecret = "SECRET-4f2a-api-test"

const appKey = "com.example.app"

// harness is a sandbox on loopback with the tenant "acme" at the context
// path /jira, and a jwh config that points at it.
type harness struct {
	sb    *sandbox.Server
	base  string // http://127.0.0.1:PORT/jira
	env   map[string]string
	store tenant.SecretStore
}

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
	h := &harness{
		sb:    sb,
		base:  run.BaseURL("acme"),
		env:   map[string]string{tenant.EnvConfig: filepath.Join(t.TempDir(), "config.json")},
		store: tenant.NewMemoryStore(),
	}
	h.seed(t, tenant.Tenant{Name: "acme", BaseURL: h.base, AppKey: appKey})
	if err := h.store.Set("acme", []byte(theSecret)); err != nil {
		t.Fatal(err)
	}
	return h
}

// seed writes tenants to the config file as they are, unvalidated.
func (h *harness) seed(t *testing.T, ts ...tenant.Tenant) {
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
	for _, tn := range ts {
		cfg.Put(tn)
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
}

type result struct {
	code        int
	out, errOut string
}

// run runs jwh in-process; setup, when not nil, prepares the streams.
func (h *harness) run(t *testing.T, setup func(ios *iostreams.IOStreams, in *bytes.Buffer), args ...string) result {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	if setup != nil {
		setup(ios, in)
	}
	getenv := func(k string) string { return h.env[k] }
	f := &cmdutil.Factory{
		IOStreams: ios,
		Version:   "1.2.3-test",
		Getenv:    getenv,
		Now:       time.Now,
		Config:    cmdutil.LoadConfigOnce(getenv),
		Secrets:   func() tenant.SecretStore { return h.store },
	}
	code := app.Run(f, args)
	r := result{code, out.String(), errOut.String()}
	for where, s := range map[string]string{"stdout": r.out, "stderr": r.errOut} {
		if strings.Contains(s, theSecret) {
			t.Errorf("the shared secret appears on %s", where)
		}
	}
	return r
}

// lastVerified returns the only request the sandbox saw, failing unless
// its JWT verified.
func (h *harness) onlyVerified(t *testing.T) sandbox.Request {
	t.Helper()
	reqs := h.sb.Requests()
	if len(reqs) != 1 {
		t.Fatalf("the sandbox saw %d requests, want 1: %+v", len(reqs), reqs)
	}
	r := reqs[0]
	if !r.Verified {
		t.Fatalf("%s %s?%s: JWT not verified: %s (%s)", r.Method, r.Path, r.RawQuery, r.Reason, r.Check)
	}
	return r
}

func TestSearchWithSpacesAndQuotesVerifies(t *testing.T) {
	h := newHarness(t)
	r := h.run(t, nil, "api", "GET", `/rest/api/2/search?jql=project = "A B"&fields=summary,key`)
	// The sandbox does not emulate search: it answers 404 after the JWT
	// check, which proves the signature and the qsh.
	req := h.onlyVerified(t)
	if req.Method != "GET" || req.Path != "/jira/rest/api/2/search" {
		t.Errorf("request %s %s", req.Method, req.Path)
	}
	q, err := url.ParseQuery(req.RawQuery)
	if err != nil || q.Get("jql") != `project = "A B"` || q.Get("fields") != "summary,key" {
		t.Errorf("query %q (%v)", req.RawQuery, err)
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1 for a 404", r.code)
	}
	if !strings.Contains(r.out, "does not emulate") {
		t.Errorf("stdout should carry the error body, like gh api:\n%s", r.out)
	}
	if want := "jwh: tenant acme: jira: 404 Not Found: The sandbox does not emulate GET /rest/api/2/search"; !strings.HasPrefix(r.errOut, want) || strings.Count(r.errOut, "\n") != 1 {
		t.Errorf("stderr\n%s\nwant one line starting %q", r.errOut, want)
	}
}

// A ';' in the query is signed as atlassian-jwt signs it, and the sandbox,
// which checks the qsh as Jira does, accepts it.
func TestSemicolonInQuery(t *testing.T) {
	h := newHarness(t)
	r := h.run(t, nil, "api", "GET", "/rest/api/2/myself?a=1;b=2")
	if r.code != 0 || !strings.Contains(r.out, `"accountId"`) {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.out, r.errOut)
	}
	if req := h.onlyVerified(t); req.RawQuery != "a=1;b=2" || req.Status != 200 {
		t.Errorf("request %+v", req)
	}
}

func TestGetPrintsBody(t *testing.T) {
	h := newHarness(t)
	r := h.run(t, nil, "api", "/rest/api/2/myself")
	h.onlyVerified(t)
	if r.code != 0 || r.errOut != "" {
		t.Fatalf("exit %d, stderr %s", r.code, r.errOut)
	}
	// On a pipe: the body exactly as received, and a newline, which
	// Jira's compact JSON lacks.
	var me struct {
		AccountType string `json:"accountType"`
	}
	if err := json.Unmarshal([]byte(r.out), &me); err != nil || me.AccountType != "app" || strings.Index(r.out, "\n") != len(r.out)-1 {
		t.Errorf("stdout %q (%v), want the raw JSON body and a newline", r.out, err)
	}

	// On a terminal: indented, with a final newline.
	h.sb.ResetRequests()
	r = h.run(t, func(ios *iostreams.IOStreams, _ *bytes.Buffer) { ios.SetStdoutTTY(true) }, "api", "get", "rest/api/2/myself")
	h.onlyVerified(t)
	if r.code != 0 || !strings.HasPrefix(r.out, "{\n  \"self\": ") || !strings.HasSuffix(r.out, "}\n") {
		t.Errorf("exit %d, stdout\n%s", r.code, r.out)
	}
}

// TestBodyEndsWithNewline: the output ends with a newline, added only when
// the body lacks one; an empty body prints nothing (TestPostPutDeleteVerify).
func TestBodyEndsWithNewline(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.TrimPrefix(r.URL.Path, "/"))
	}))
	defer srv.Close()
	h.seed(t, tenant.Tenant{Name: "plain", BaseURL: srv.URL, AppKey: appKey})
	if err := h.store.Set("plain", []byte(theSecret)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/text%0A":   "text\n",
		"/no-end":    "no-end\n",
		"/two%0A%0A": "two\n\n",
	} {
		if r := h.run(t, nil, "api", "-t", "plain", path); r.code != 0 || r.out != want {
			t.Errorf("%s: exit %d, stdout %q, want %q; stderr %s", path, r.code, r.out, want, r.errOut)
		}
	}
}

func TestInclude(t *testing.T) {
	h := newHarness(t)
	r := h.run(t, nil, "api", "-i", "/rest/api/2/myself")
	h.onlyVerified(t)
	head, body, ok := strings.Cut(r.out, "\n\n")
	if r.code != 0 || !ok {
		t.Fatalf("exit %d, stdout\n%s", r.code, r.out)
	}
	if !strings.HasPrefix(head, "HTTP/1.1 200 OK\n") || !strings.Contains(head, "\nContent-Type: application/json;charset=UTF-8") {
		t.Errorf("head\n%s", head)
	}
	if !strings.HasPrefix(body, "{") {
		t.Errorf("body %q", body)
	}
}

const registerBody = `{"url":"https://app.example.com/hook","webhooks":[{"jqlFilter":"project = PRJ","events":["jira:issue_updated"]}]}`

// register registers one webhook through jwh api and returns its id.
func register(t *testing.T, h *harness, args ...string) int64 {
	t.Helper()
	r := h.run(t, nil, append([]string{"api"}, args...)...)
	req := h.onlyVerified(t)
	if r.code != 0 || req.Method != "POST" || req.Status != 200 {
		t.Fatalf("exit %d, %s → %d, stderr %s", r.code, req.Method, req.Status, r.errOut)
	}
	var res struct {
		Results []struct {
			ID int64 `json:"createdWebhookId"`
		} `json:"webhookRegistrationResult"`
	}
	if err := json.Unmarshal([]byte(r.out), &res); err != nil || len(res.Results) != 1 || res.Results[0].ID == 0 {
		t.Fatalf("stdout %s (%v)", r.out, err)
	}
	h.sb.ResetRequests()
	return res.Results[0].ID
}

func TestPostPutDeleteVerify(t *testing.T) {
	h := newHarness(t)
	// --data without METHOD means POST, sent as application/json (the
	// sandbox answers 415 otherwise).
	id := register(t, h, "/rest/api/2/webhook", "--data", registerBody)

	ids := `{"webhookIds":[` + jsonInt(id) + `]}`
	r := h.run(t, nil, "api", "PUT", "/rest/api/2/webhook/refresh", "-d", ids)
	req := h.onlyVerified(t)
	if r.code != 0 || req.Method != "PUT" || req.Status != 200 || !strings.Contains(r.out, "expirationDate") {
		t.Errorf("PUT: exit %d, status %d, stdout %s, stderr %s", r.code, req.Status, r.out, r.errOut)
	}

	h.sb.ResetRequests()
	r = h.run(t, nil, "api", "DELETE", "/rest/api/2/webhook", "--data", ids)
	req = h.onlyVerified(t)
	if r.code != 0 || req.Method != "DELETE" || req.Status != 202 || r.out != "" {
		t.Errorf("DELETE: exit %d, status %d, stdout %q, stderr %s", r.code, req.Status, r.out, r.errOut)
	}
	ten, _ := h.sb.Tenant("acme")
	if n := len(ten.Webhooks()); n != 0 {
		t.Errorf("%d webhooks left after DELETE", n)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestDataFromFileAndStdin(t *testing.T) {
	h := newHarness(t)
	file := filepath.Join(t.TempDir(), "hooks.json")
	if err := os.WriteFile(file, []byte(registerBody+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	register(t, h, "POST", "/rest/api/2/webhook", "--data", "@"+file)

	for _, arg := range []string{"-", "@-"} {
		r := h.run(t, func(_ *iostreams.IOStreams, in *bytes.Buffer) { in.WriteString(registerBody) },
			"api", "POST", "/rest/api/2/webhook", "--data", arg)
		h.onlyVerified(t)
		if r.code != 0 {
			t.Errorf("--data %s: exit %d, stderr %s", arg, r.code, r.errOut)
		}
		h.sb.ResetRequests()
	}
}

func TestQueryFlagsMerged(t *testing.T) {
	h := newHarness(t)
	r := h.run(t, nil, "api", "/rest/api/2/webhook?startAt=0", "--query", "maxResults=1", "--query", "jql=a = \"b c\"&d")
	req := h.onlyVerified(t)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %s", r.code, r.errOut)
	}
	if want := "startAt=0&maxResults=1&jql=a%20%3D%20%22b%20c%22%26d"; req.RawQuery != want {
		t.Errorf("query %q, want %q", req.RawQuery, want)
	}
}

func TestFragmentDroppedWithWarning(t *testing.T) {
	h := newHarness(t)
	r := h.run(t, nil, "api", h.base+"/rest/api/2/myself#top")
	req := h.onlyVerified(t)
	if r.code != 0 || req.Path != "/jira/rest/api/2/myself" || req.RawQuery != "" {
		t.Errorf("exit %d, request %s?%s", r.code, req.Path, req.RawQuery)
	}
	if !strings.Contains(r.errOut, `warning: ignoring the fragment "#top"`) {
		t.Errorf("stderr %q", r.errOut)
	}
}

func TestWrongSecretIsCredentialsError(t *testing.T) {
	h := newHarness(t)
	h.env[tenant.EnvSecret] = "not-the-secret"
	r := h.run(t, nil, "api", "/rest/api/2/myself")
	reqs := h.sb.Requests()
	if len(reqs) != 1 || reqs[0].Verified || reqs[0].Check != "signature" {
		t.Fatalf("sandbox log %+v", reqs)
	}
	if r.code != 3 {
		t.Errorf("exit %d, want 3", r.code)
	}
	for _, want := range []string{"jira: 401 Unauthorized", "bad signature", "check the shared secret, the app key (iss) and this machine's clock"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr %q lacks %q", r.errOut, want)
		}
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"api", "POST", "/rest/api/2/webhook", "--data", `{"url": }`}, "--data is not valid JSON: invalid character '}' looking for beginning of value at line 1, column 9; nothing was sent"},
		{[]string{"api", "/rest/api/2/webhook", "--data", `{"a":1} {"b":2}`}, "unexpected data after the JSON value"},
		{[]string{"api", "/rest/api/2/webhook", "--data", `{"a":`}, "unexpected end of JSON input"},
		{[]string{"api", "/rest/api/2/webhook", "--data", ``}, "--data is not valid JSON: it is empty"},
		{[]string{"api", "/rest/api/2/webhook", "--data", "@" + filepath.Join(t.TempDir(), "none.json")}, "cannot read --data file"},
		{[]string{"api", "GET", "/rest/api/2/webhook", "--data", `{}`}, "--data cannot be sent with GET"},
		{[]string{"api", "FETCH", "/rest/api/2/webhook"}, `unknown HTTP method "FETCH"`},
		{[]string{"api", "DELETE"}, "missing PATH after DELETE"},
		{[]string{"api"}, "missing PATH"},
		{[]string{"api", "GET", "/x", "/y"}, `unexpected argument "/y"`},
		{[]string{"api", "/x", "--query", "novalue"}, `invalid --query "novalue": use key=value`},
		{[]string{"api", "http://127.0.0.1:1/other/rest/api/2/myself"}, "is not under the tenant's base URL"},
		{[]string{"api", "https://evil.example/jira/rest/api/2/myself"}, "is not under the tenant's base URL"},
	} {
		r := h.run(t, nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.errOut, tc.want)
		}
		if n := len(h.sb.Requests()); n != 0 {
			t.Fatalf("%q: the sandbox saw %d requests, want none", tc.args, n)
		}
	}
}

func TestPlainHTTPBaseRefused(t *testing.T) {
	h := newHarness(t)
	h.seed(t, tenant.Tenant{Name: "acme", BaseURL: "http://jira.example.com/jira", AppKey: appKey})
	r := h.run(t, nil, "api", "/rest/api/2/myself")
	want := "jwh: tenant acme: base URL \"http://jira.example.com/jira\": plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https: fix it with 'jwh tenant add acme --base-url URL'\n"
	if r.code != 2 || r.errOut != want || len(h.sb.Requests()) != 0 {
		t.Errorf("exit %d, stderr %q", r.code, r.errOut)
	}
}

// A config edited by hand: the base URL is parsed, and signed for, as the
// client resolves paths against it.
func TestHandEditedBaseURL(t *testing.T) {
	h := newHarness(t)
	h.seed(t, tenant.Tenant{Name: "acme", BaseURL: h.base + "/", AppKey: appKey})
	r := h.run(t, nil, "api", "/rest/api/2/myself")
	h.onlyVerified(t)
	if r.code != 0 || r.errOut != "" {
		t.Errorf("trailing slash: exit %d, stderr %q", r.code, r.errOut)
	}

	h.sb.ResetRequests()
	h.seed(t, tenant.Tenant{Name: "acme", BaseURL: "ftp://jira.example.com", AppKey: appKey})
	r = h.run(t, nil, "api", "/rest/api/2/myself")
	want := "jwh: tenant acme: base URL \"ftp://jira.example.com\": scheme \"ftp\" is not supported: use https: fix it with 'jwh tenant add acme --base-url URL'\n"
	if r.code != 2 || r.errOut != want || len(h.sb.Requests()) != 0 {
		t.Errorf("bad base URL: exit %d, stderr %q; want exit 2 and %q", r.code, r.errOut, want)
	}
}

func TestNoSuchTenant(t *testing.T) {
	h := newHarness(t)
	r := h.run(t, nil, "api", "-t", "nope", "/rest/api/2/myself")
	if r.code != 3 || len(h.sb.Requests()) != 0 {
		t.Errorf("exit %d, %d requests, stderr %q", r.code, len(h.sb.Requests()), r.errOut)
	}
}

func TestDebugRedactsAuthorization(t *testing.T) {
	h := newHarness(t)
	r := h.run(t, nil, "api", "--debug", "POST", "/rest/api/2/webhook", "--data", registerBody)
	h.onlyVerified(t)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %s", r.code, r.errOut)
	}
	for _, want := range []string{"> POST " + h.base + "/rest/api/2/webhook", "> Authorization: JWT [redacted]", "> User-Agent: jwh/1.2.3-test", "> Content-Type: application/json", registerBody, "< HTTP/1.1 200 OK"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("--debug output lacks %q:\n%s", want, r.errOut)
		}
	}
	if strings.Contains(r.errOut, "eyJ") {
		t.Errorf("--debug output holds a token:\n%s", r.errOut)
	}
}

func TestNewCmdAPI(t *testing.T) {
	cmdtest.Flags(t, api.NewCmdAPI, []cmdtest.Case[api.Options]{
		{Args: "/rest/api/2/myself", Want: api.Options{Method: "GET", Ref: "/rest/api/2/myself"}},
		{Args: "-i put /rest/api/2/webhook/refresh -d '{\"webhookIds\":[1]}'",
			Want: api.Options{Method: "PUT", Ref: "/rest/api/2/webhook/refresh", Body: []byte(`{"webhookIds":[1]}`), Include: true}},
		{Args: "/rest/api/2/webhook --data '{}'", Want: api.Options{Method: "POST", Ref: "/rest/api/2/webhook", Body: []byte(`{}`)}},
		{Args: "'/rest/api/2/search?a=1#frag' --query 'jql=project = A' --query x=&",
			Want: api.Options{Method: "GET", Ref: "/rest/api/2/search?a=1&jql=project%20%3D%20A&x=%26"}},
		{Args: "", WantErr: "missing PATH: e.g. jwh api /rest/api/2/myself"},
		{Args: "GET /x --data '{}'", WantErr: "--data cannot be sent with GET: use POST, PUT, PATCH or DELETE, or pass parameters with --query"},
		{Args: "/x --data '{'", WantErr: "--data is not valid JSON: unexpected end of JSON input; nothing was sent"},
		{Args: "/x --query novalue", WantErr: `invalid --query "novalue": use key=value`},
	})
}
