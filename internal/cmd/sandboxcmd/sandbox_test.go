package sandboxcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdSandbox(t *testing.T) {
	cmdtest.Flags(t, NewCmdSandbox, []cmdtest.Case[Options]{
		{Args: "", Want: defaults(Options{})},
		{Args: "--addr 127.0.0.1:8095 --state s.json --retry-scale 0.5 --page-cap 7 --installed i.json -q",
			Want: defaults(Options{Addr: "127.0.0.1:8095", AddrSet: true, State: "s.json", RetryScale: 0.5, PageCap: 7, Installed: "i.json", Quiet: true})},
		{Args: "--drop-rate 0.3 --hang-rate 0.1",
			Want: defaults(Options{DropRate: 0.3, HangRate: 0.1})},
		{Args: "--clock-skew -5m", Want: defaults(Options{ClockSkew: -5 * time.Minute})},
		{Args: "--oauth-callback http://localhost:9000/cb --oauth-callback https://app.example.com/cb?x=1 --access-token-ttl 30s --refresh-reuse-interval 0 --oauth-app o.json",
			Want: Options{Addr: "127.0.0.1:0", RetryScale: sandbox.DefaultRetryScale, PageCap: sandbox.DefaultPageCap,
				OAuthCallbacks: []string{"http://localhost:9000/cb", "https://app.example.com/cb?x=1"},
				AccessTokenTTL: 30 * time.Second, ReuseInterval: 0, OAuthApp: "o.json"}},
		{Args: "--access-token-ttl 500ms", WantErr: "invalid --access-token-ttl 500ms: it must be 1s or more (Atlassian's is 1h)"},
		{Args: "--refresh-reuse-interval -1s", WantErr: "invalid --refresh-reuse-interval -1s: it must be 0 (none) or more (Atlassian's is 10m)"},
		{Args: "--oauth-callback /cb", WantErr: `invalid --oauth-callback "/cb": not an absolute URL: give one such as https://app.example.com/hook`},
		{Args: "--oauth-callback http://app.example.com/cb", WantErr: `invalid --oauth-callback "http://app.example.com/cb": plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https`},
		{Args: "--drop-rate 1.5", WantErr: "invalid --drop-rate 1.5 and --hang-rate 0: each is a share between 0 and 1, and together at most 1"},
		{Args: "--hang-rate -0.1", WantErr: "invalid --drop-rate 0 and --hang-rate -0.1: each is a share between 0 and 1, and together at most 1"},
		{Args: "--drop-rate 0.6 --hang-rate 0.6", WantErr: "invalid --drop-rate 0.6 and --hang-rate 0.6: each is a share between 0 and 1, and together at most 1"},
		{Args: "--retry-scale -1", WantErr: "invalid --retry-scale -1: it must be positive (1 is Jira's own timing)"},
		{Args: "--retry-scale 0", WantErr: "invalid --retry-scale 0: it must be positive (1 is Jira's own timing)"},
		{Args: "--page-cap -3", WantErr: "invalid --page-cap -3: it must be 1 or more"},
		{Args: "--page-cap 0", WantErr: "invalid --page-cap 0: it must be 1 or more"},
		{Args: "--addr bogus", WantErr: `invalid --addr "bogus": use host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)`},
		{Args: "--state /nonexistent/dir/s.json", WantErr: `invalid --state "/nonexistent/dir/s.json": the folder /nonexistent/dir does not exist; create it or choose another file`},
		{Args: "extra", WantErr: `unexpected argument "extra" for "jwh sandbox"`},
	})
}

// defaults fills in the flags' defaults where o leaves them zero.
func defaults(o Options) Options {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.RetryScale == 0 {
		o.RetryScale = sandbox.DefaultRetryScale
	}
	if o.PageCap == 0 {
		o.PageCap = sandbox.DefaultPageCap
	}
	if o.AccessTokenTTL == 0 {
		o.AccessTokenTTL = sandbox.DefaultAccessTokenTTL
	}
	if o.ReuseInterval == 0 {
		o.ReuseInterval = sandbox.DefaultRefreshReuseInterval
	}
	return o
}

// runSandbox runs sandboxRun with opts; check, when set, is called while
// it listens, and the test fails if the sandbox stopped before it could
// be.
func runSandbox(t *testing.T, opts Options, check func(s *sandbox.Server, run *sandbox.Running)) (stdout, stderr string, err error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	opts.IO = ios
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	checked := false
	opts.ready = func(s *sandbox.Server, run *sandbox.Running) {
		if check != nil {
			check(s, run)
			checked = true
		}
		cancel()
	}
	err = sandboxRun(ctx, &opts)
	if check != nil && !checked {
		t.Errorf("the sandbox stopped before it listened, so nothing was checked: %v\nstderr:\n%s", err, errOut)
	}
	return out.String(), errOut.String(), err
}

// signedGet sends a GET signed with the installed payload's credentials.
func signedGet(t *testing.T, in *tenant.Installed, path string) int {
	t.Helper()
	req, err := http.NewRequest("GET", in.BaseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := connectjwt.NewSigner(in.Key, []byte(in.SharedSecret), "").Authorize(req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestSandboxRun(t *testing.T) {
	installed := filepath.Join(t.TempDir(), "installed.json")
	var base string
	stdout, stderr, err := runSandbox(t, Options{Installed: installed}, func(s *sandbox.Server, run *sandbox.Running) {
		base = run.URL()
		b, err := os.ReadFile(installed)
		if err != nil {
			t.Fatal(err)
		}
		in, err := tenant.ParseInstalled(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if status := signedGet(t, in, "/rest/api/2/webhook"); status != 200 {
			t.Errorf("a request signed with the payload's secret: %d", status)
		}
	})
	if code := exitCode(err); code != cmdutil.ExitInterrupted {
		t.Errorf("after Ctrl-C: %v, want exit 130", err)
	}
	in, perr := tenant.ParseInstalled(strings.NewReader(stdout))
	if perr != nil {
		t.Fatalf("stdout is not an installed payload: %v\n%s", perr, stdout)
	}
	if in.BaseURL != base || in.Key != sandbox.DefaultAppKey || len(in.SharedSecret) != 64 || in.ClientKey == "" {
		t.Errorf("payload %v, base URL %s", in, base)
	}
	if b, _ := os.ReadFile(installed); string(b) != stdout {
		t.Errorf("--installed file differs from stdout:\n%s", b)
	}
	if fi, err := os.Stat(installed); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("--installed file: %v, mode %v", err, fi.Mode())
	}
	for _, want := range []string{
		"Jira sandbox at " + base + " (app key jwh-sandbox-app, client key " + in.ClientKey + ")",
		"state: in memory",
		"import the tenant: jwh tenant import sandbox --file " + installed,
		" GET /rest/api/2/webhook 200\n",
		"sandbox stopped after 1 request and 0 delivery attempts",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, in.SharedSecret) {
		t.Error("the secret is on stderr")
	}

	// Two runs: two secrets.
	stdout2, _, _ := runSandbox(t, Options{Quiet: true}, nil)
	in2, err := tenant.ParseInstalled(strings.NewReader(stdout2))
	if err != nil || in2.SharedSecret == in.SharedSecret || in2.ClientKey == in.ClientKey {
		t.Errorf("a second sandbox reuses the secret or client key (%v)", err)
	}
}

// TestSandboxClockSkew: with --clock-skew the sandbox is a Jira whose
// clock is off: its Date header says so, and a JWT signed on this
// machine's clock is refused as Jira would refuse it.
func TestSandboxClockSkew(t *testing.T) {
	installed := filepath.Join(t.TempDir(), "installed.json")
	_, stderr, _ := runSandbox(t, Options{Installed: installed, ClockSkew: 5 * time.Minute}, func(s *sandbox.Server, run *sandbox.Running) {
		b, err := os.ReadFile(installed)
		if err != nil {
			t.Fatal(err)
		}
		in, err := tenant.ParseInstalled(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		before := time.Now()
		resp, err := http.Get(run.URL() + "/rest/api/2/myself")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("Date header %q: %v", resp.Header.Get("Date"), err)
		}
		if skew := date.Sub(before); skew < 4*time.Minute || skew > 6*time.Minute {
			t.Errorf("the Date header is %s off this machine's clock, want about 5m", skew)
		}
		if status := signedGet(t, in, "/rest/api/2/myself"); status != http.StatusUnauthorized {
			t.Errorf("a JWT signed 5 minutes in the sandbox's past: %d, want 401", status)
		}
	})
	for _, want := range []string{"clock: 5m0s ahead of this machine's (--clock-skew)", "JWT exp: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestCorruptStateFile: a state file that cannot be read back is bad
// input, and is left as it is.
func TestCorruptStateFile(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	const content = `{"version":1,"nextWebhookId":`
	if err := os.WriteFile(state, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runSandbox(t, Options{State: state}, nil)
	want := "sandbox: corrupt sandbox state file " + state + ": unexpected EOF: fix it, or move it away to start with an empty sandbox"
	if err == nil || err.Error() != want || exitCode(err) != cmdutil.ExitInput {
		t.Errorf("error %v (exit %d), want %q (exit 2)", err, exitCode(err), want)
	}
	if stdout != "" {
		t.Errorf("stdout %q", stdout)
	}
	if b, _ := os.ReadFile(state); string(b) != content {
		t.Errorf("the corrupt file was rewritten: %q", b)
	}
}

func TestSandboxState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	var first *tenant.Installed
	var app sandbox.OAuthApp
	out1, _, _ := runSandbox(t, Options{State: state, Quiet: true}, func(s *sandbox.Server, run *sandbox.Running) {
		app = s.OAuthApp()
		ten, _ := s.Tenant(TenantName)
		in, err := tenant.ParseInstalled(bytes.NewReader(ten.Installed()))
		if err != nil {
			t.Fatal(err)
		}
		first = in
		req, _ := http.NewRequest("POST", in.BaseURL+"/rest/api/2/webhook",
			strings.NewReader(`{"url":"http://127.0.0.1:9/hook","webhooks":[{"jqlFilter":"project = P","events":["jira:issue_created"]}]}`))
		req.Header.Set("Content-Type", "application/json")
		connectjwt.NewSigner(in.Key, []byte(in.SharedSecret), "").Authorize(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v", err)
	}
	// The restart listens on the same address, with the same tenant and
	// secret, and keeps the webhook.
	out2, stderr2, _ := runSandbox(t, Options{State: state, Quiet: true}, func(s *sandbox.Server, run *sandbox.Running) {
		if run.URL() != first.BaseURL {
			t.Errorf("restarted at %s, want %s", run.URL(), first.BaseURL)
		}
		if status := signedGet(t, first, "/rest/api/2/webhook"); status != 200 {
			t.Errorf("the first run's credentials after a restart: %d", status)
		}
		ten, _ := s.Tenant(TenantName)
		if n := len(ten.Webhooks()); n != 1 {
			t.Errorf("%d webhooks after a restart, want 1", n)
		}
	})
	if out1 != out2 {
		t.Errorf("the installed payload changed across a restart:\n%s\n%s", out1, out2)
	}
	if !strings.Contains(stderr2, "OAuth 2.0 app: client id "+app.ClientID+", client secret "+app.ClientSecret+"\n") {
		t.Errorf("the OAuth app changed across a restart: %v\n%s", app, stderr2)
	}
	if !strings.Contains(stderr2, "state: "+state+" (1 webhook)") {
		t.Errorf("stderr %s", stderr2)
	}

	// --addr wins over the address in the state.
	_, _, err := runSandbox(t, Options{State: state, Quiet: true, Addr: "127.0.0.1:0", AddrSet: true}, func(s *sandbox.Server, run *sandbox.Running) {
		if run.URL() == first.BaseURL {
			t.Errorf("--addr 127.0.0.1:0 listened on the old address %s", run.URL())
		}
	})
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitInterrupted {
		t.Errorf("--addr over the state: %v (exit %d), want an interrupted run", err, code)
	}

	// An address in use: a clear error.
	blocker, _, _ := runSandboxInBackground(t, state)
	defer blocker()
	_, _, err = runSandbox(t, Options{State: state, Quiet: true}, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot listen on") || !strings.Contains(err.Error(), "choose an address with --addr") {
		t.Errorf("address in use: %v", err)
	}
}

// runSandboxInBackground takes the state's last address, as another
// program could, until the returned stop is called.
func runSandboxInBackground(t *testing.T, state string) (stop func(), url string, err error) {
	t.Helper()
	s, err := sandbox.Open(state, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.LastAddr()
	s.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return func() { ln.Close() }, "http://" + addr, nil
}

// TestSandboxStateInUse: a second sandbox on a state file in use fails at
// once, with exit status 1, and leaves the first one's state alone; once
// the first stops, the file can be used again.
func TestSandboxStateInUse(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	var second error
	_, _, err := runSandbox(t, Options{State: state, Quiet: true}, func(s *sandbox.Server, run *sandbox.Running) {
		// A nil check: this one must not get as far as listening.
		_, _, second = runSandbox(t, Options{State: state, Quiet: true}, nil)
	})
	if exitCode(err) != cmdutil.ExitInterrupted {
		t.Fatalf("the first sandbox: %v", err)
	}
	want := "sandbox: state file in use: another sandbox has " + state + " open (it holds " + state + ".lock): stop that sandbox, or use another state file"
	if second == nil || second.Error() != want || exitCode(second) != cmdutil.ExitFailure {
		t.Errorf("the second sandbox: %v (exit %d)\nwant %s (exit 1)", second, exitCode(second), want)
	}
	if _, _, err := runSandbox(t, Options{State: state, Quiet: true}, nil); exitCode(err) != cmdutil.ExitInterrupted {
		t.Errorf("a sandbox after the first stopped: %v", err)
	}
}

// triggerAndWait triggers the event on the tenant and waits for its
// deliveries to end.
func triggerAndWait(t *testing.T, ten *sandbox.Tenant, event string) {
	t.Helper()
	tr, err := ten.Trigger(sandbox.Event{Name: event})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := tr.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSandboxDeliveriesLogged(t *testing.T) {
	var lines string
	_, stderr, _ := runSandbox(t, Options{RetryScale: 1e-6}, func(s *sandbox.Server, run *sandbox.Running) {
		ten, _ := s.Tenant(TenantName)
		in, _ := tenant.ParseInstalled(bytes.NewReader(ten.Installed()))
		req, _ := http.NewRequest("POST", in.BaseURL+"/rest/api/2/webhook",
			strings.NewReader(`{"url":"http://127.0.0.1:1/hook","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`))
		req.Header.Set("Content-Type", "application/json")
		connectjwt.NewSigner(in.Key, []byte(in.SharedSecret), "").Authorize(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		triggerAndWait(t, ten, "jira:issue_created")
		// A request with a bad token is logged with the reason.
		bad, _ := http.NewRequest("GET", in.BaseURL+"/rest/api/2/webhook?jwt=abc", nil)
		if resp, err := http.DefaultClient.Do(bad); err == nil {
			resp.Body.Close()
		}
	})
	lines = stderr
	for _, want := range []string{
		" POST /rest/api/2/webhook 200\n",
		" delivery jira:issue_created SBX-1 to http://127.0.0.1:1/hook: ",
		"; retrying in ",
		" retry 5 of jira:issue_created SBX-1 to http://127.0.0.1:1/hook: ",
		"; given up, listed by 'jwh failed'\n",
		" GET /rest/api/2/webhook?jwt=[redacted] 401: JWT malformed: malformed JWT",
		"after 2 requests and 6 delivery attempts",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("stderr lacks %q:\n%s", want, lines)
		}
	}
}

func TestSandboxFaultsLogged(t *testing.T) {
	_, stderr, _ := runSandbox(t, Options{DropRate: 1}, func(s *sandbox.Server, run *sandbox.Running) {
		ten, _ := s.Tenant(TenantName)
		in, _ := tenant.ParseInstalled(bytes.NewReader(ten.Installed()))
		req, _ := http.NewRequest("GET", in.BaseURL+"/rest/api/2/webhook", nil)
		connectjwt.NewSigner(in.Key, []byte(in.SharedSecret), "").Authorize(req)
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err == nil {
			resp.Body.Close()
			t.Errorf("answered %s with --drop-rate 1", resp.Status)
		}
	})
	if !regexp.MustCompile(` GET /rest/api/2/webhook dropped (before|after) taking effect \(--drop-rate\)\n`).MatchString(stderr) {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// exitCode is the exit status a user would see for err.
func exitCode(err error) int { return cmdutil.ExitCode(err) }

// TestSandboxOAuth: jwh sandbox prints its OAuth app and a ready login
// line, writes the app with --oauth-app, serves the OAuth side on the same
// base URL and logs its requests without a token.
func TestSandboxOAuth(t *testing.T) {
	dir := t.TempDir()
	appFile := filepath.Join(dir, "oauth.json")
	state := filepath.Join(dir, "state.json")
	var app sandbox.OAuthApp
	var base, cloud string
	var issued []string
	stdout, stderr, err := runSandbox(t, Options{
		OAuthApp: appFile, OAuthCallbacks: []string{"http://127.0.0.1:9000/cb"}, State: state,
		AccessTokenTTL: 30 * time.Second, ReuseInterval: time.Minute, RetryScale: 1e-6,
	}, func(s *sandbox.Server, run *sandbox.Running) {
		app, base = s.OAuthApp(), run.URL()
		ten, _ := s.Tenant(TenantName)
		cloud = ten.CloudID()
		var file struct {
			ClientID, ClientSecret, AuthURL, APIURL string
			CallbackURLs                            []string
			Sites                                   []struct{ ID, URL, Name string }
		}
		b, err := os.ReadFile(appFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &file); err != nil {
			t.Fatal(err)
		}
		if file.ClientID != app.ClientID || file.ClientSecret != app.ClientSecret || file.AuthURL != base || file.APIURL != base ||
			strings.Join(file.CallbackURLs, " ") != "http://localhost:8976/callback http://127.0.0.1:9000/cb" ||
			len(file.Sites) != 1 || file.Sites[0].ID != cloud || file.Sites[0].URL != base || file.Sites[0].Name != TenantName {
			t.Errorf("--oauth-app file:\n%s", b)
		}
		if fi, err := os.Stat(appFile); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("--oauth-app file: %v, mode %v", err, fi.Mode())
		}

		// A login through the printed URLs, as jwh tenant login makes it.
		authURL := base + "/authorize?" + url.Values{
			"audience": {"api.atlassian.com"}, "client_id": {app.ClientID}, "scope": {"manage:jira-webhook offline_access"},
			"redirect_uri": {"http://127.0.0.1:9000/cb"}, "state": {"s"}, "response_type": {"code"}, "prompt": {"consent"},
		}.Encode()
		loc, err := sandbox.Approve(nil, authURL, "alice")
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"grant_type": {"authorization_code"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
			"code": {loc.Query().Get("code")}, "redirect_uri": {"http://127.0.0.1:9000/cb"}}
		var tk struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			ExpiresIn    int    `json:"expires_in"`
		}
		resp, err := http.PostForm(base+"/oauth/token", form)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&tk)
		resp.Body.Close()
		if tk.ExpiresIn != 30 || tk.RefreshToken == "" {
			t.Errorf("tokens: %d %+v", resp.StatusCode, tk)
		}
		issued = append(issued, tk.AccessToken, tk.RefreshToken, loc.Query().Get("code"))
		req, _ := http.NewRequest("POST", base+"/ex/jira/"+cloud+"/rest/api/2/webhook",
			strings.NewReader(`{"url":"http://127.0.0.1:1/hook","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
			t.Errorf("register through the gateway: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		// An access token in the query (RFC 6750 allows it; the gateway
		// takes the header only) is refused, and never logged.
		if resp, err := http.Get(base + "/ex/jira/" + cloud + "/rest/api/2/webhook?maxResults=1&access_token=" + tk.AccessToken); err == nil {
			resp.Body.Close()
		}
		form.Set("client_secret", "wrong")
		if resp, err := http.PostForm(base+"/oauth/token", form); err == nil {
			resp.Body.Close()
		}
		triggerAndWait(t, ten, "jira:issue_created")
	})
	if exitCode(err) != cmdutil.ExitInterrupted {
		t.Errorf("after Ctrl-C: %v", err)
	}
	if _, err := tenant.ParseInstalled(strings.NewReader(stdout)); err != nil || strings.Contains(stdout, app.ClientID) {
		t.Errorf("stdout is no longer the installed payload alone (%v):\n%s", err, stdout)
	}
	login := "jwh tenant login sandbox-oauth --client-id " + app.ClientID + " --auth-url " + base + " --api-url " + base
	for _, want := range []string{
		"  OAuth 2.0 app: client id " + app.ClientID + ", client secret " + app.ClientSecret + "\n",
		"    auth and API URL: " + base + "; callback URLs: http://localhost:8976/callback, http://127.0.0.1:9000/cb; site sandbox, cloud id " + cloud + "\n",
		"    log in: jq -r .clientSecret " + appFile + " | " + login + "\n",
		" 302 (oauth, alice)\n",
		" POST /oauth/token 200 (oauth, authorization_code, alice)\n",
		" POST /ex/jira/" + cloud + "/rest/api/2/webhook 200 (oauth, alice)\n",
		" GET /ex/jira/" + cloud + "/rest/api/2/webhook?maxResults=1&access_token=[redacted] 401 (oauth): no Authorization header: send Authorization: Bearer ACCESS_TOKEN\n",
		" POST /oauth/token 401 (oauth, authorization_code): invalid_client: wrong client_secret\n",
		" delivery jira:issue_created SBX-1 to http://127.0.0.1:1/hook (OAuth app, owner " + sandbox.AccountID("alice") + "): ",
		"; given up (Jira lists the failed deliveries of Connect apps only)\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, secret := range issued {
		if strings.Contains(stderr, secret) {
			t.Errorf("a token or code is on stderr:\n%s", stderr)
		}
	}

	// A restart counts the OAuth app's webhook among those it keeps.
	_, stderr, _ = runSandbox(t, Options{State: state, Quiet: true}, nil)
	if !strings.Contains(stderr, "  state: "+state+" (1 webhook)\n") {
		t.Errorf("after a restart:\n%s", stderr)
	}

	// Without --oauth-app the secret is pasted at the prompt.
	_, stderr, _ = runSandbox(t, Options{Quiet: true}, nil)
	if !regexp.MustCompile(`    log in: jwh tenant login sandbox-oauth --client-id \w{32} --auth-url http://\S+ --api-url http://\S+ \(paste the client secret when asked\)\n`).MatchString(stderr) {
		t.Errorf("stderr:\n%s", stderr)
	}
}
