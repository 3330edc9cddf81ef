package sandboxcmd

import (
	"bytes"
	"context"
	"net"
	"net/http"
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
		{Args: "", Want: Options{Addr: "127.0.0.1:0", RetryScale: sandbox.DefaultRetryScale, PageCap: 100}},
		{Args: "--addr 127.0.0.1:8095 --state s.json --retry-scale 0.5 --page-cap 7 --installed i.json -q",
			Want: Options{Addr: "127.0.0.1:8095", AddrSet: true, State: "s.json", RetryScale: 0.5, PageCap: 7, Installed: "i.json", Quiet: true}},
		{Args: "--drop-rate 0.3 --hang-rate 0.1",
			Want: Options{Addr: "127.0.0.1:0", RetryScale: sandbox.DefaultRetryScale, PageCap: 100, DropRate: 0.3, HangRate: 0.1}},
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
		"sandbox stopped after 1 requests and 0 delivery attempts",
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
	out1, _, _ := runSandbox(t, Options{State: state, Quiet: true}, func(s *sandbox.Server, run *sandbox.Running) {
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
	if !strings.Contains(stderr2, "state: "+state+" (1 webhooks)") {
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
		tr, err := ten.Trigger(sandbox.Event{Name: "jira:issue_created"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := tr.Wait(ctx); err != nil {
			t.Fatal(err)
		}
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
		" GET /rest/api/2/webhook?jwt=REDACTED 401: JWT malformed: malformed JWT",
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
