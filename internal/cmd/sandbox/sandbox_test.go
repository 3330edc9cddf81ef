package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdSandbox(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want Options
		err  string
	}{
		{args: nil, want: Options{Addr: "127.0.0.1:0", RetryScale: sandbox.DefaultRetryScale, PageCap: 100}},
		{args: []string{"--addr", "127.0.0.1:8095", "--state", "s.json", "--retry-scale", "0.5", "--page-cap", "7", "--installed", "i.json", "-q"},
			want: Options{Addr: "127.0.0.1:8095", AddrSet: true, State: "s.json", RetryScale: 0.5, PageCap: 7, Installed: "i.json", Quiet: true}},
		{args: []string{"--drop-rate", "0.3", "--hang-rate", "0.1"},
			want: Options{Addr: "127.0.0.1:0", RetryScale: sandbox.DefaultRetryScale, PageCap: 100, DropRate: 0.3, HangRate: 0.1}},
		{args: []string{"--drop-rate", "1.5"}, err: "invalid --drop-rate 1.5 and --hang-rate 0: each is a share between 0 and 1, and together at most 1"},
		{args: []string{"--hang-rate", "-0.1"}, err: "invalid --drop-rate 0 and --hang-rate -0.1: each is a share between 0 and 1, and together at most 1"},
		{args: []string{"--drop-rate", "0.6", "--hang-rate", "0.6"}, err: "invalid --drop-rate 0.6 and --hang-rate 0.6: each is a share between 0 and 1, and together at most 1"},
		{args: []string{"--retry-scale", "-1"}, err: "invalid --retry-scale -1: it must be positive (1 is Jira's own timing)"},
		{args: []string{"--retry-scale", "0"}, err: "invalid --retry-scale 0: it must be positive (1 is Jira's own timing)"},
		{args: []string{"--page-cap", "-3"}, err: "invalid --page-cap -3: it must be 1 or more"},
		{args: []string{"--page-cap", "0"}, err: "invalid --page-cap 0: it must be 1 or more"},
		{args: []string{"--addr", "bogus"}, err: `invalid --addr "bogus": use host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)`},
		{args: []string{"extra"}, err: `unexpected argument "extra" for "sandbox"`},
	} {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios}
		var got *Options
		cmd := newCmdSandbox(f, func(_ context.Context, o *Options) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		err := cmd.Execute()
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		g := *got
		g.IO, g.Now = nil, nil
		if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", tc.want) {
			t.Errorf("%q: options %+v, want %+v", tc.args, *got, tc.want)
		}
	}
}

// runSandbox runs sandboxRun with opts; check, when set, is called while
// it listens.
func runSandbox(t *testing.T, opts Options, check func(s *sandbox.Server, run *sandbox.Running)) (stdout, stderr string, err error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	opts.IO = ios
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.ready = func(s *sandbox.Server, run *sandbox.Running) {
		if check != nil {
			check(s, run)
		}
		cancel()
	}
	err = sandboxRun(ctx, &opts)
	return out.String(), errOut.String(), err
}

// signedGet sends a GET signed with the installed payload's credentials.
func signedGet(t *testing.T, in *tenant.Installed, path string) int {
	t.Helper()
	req, err := http.NewRequest("GET", in.BaseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := connectjwt.NewSigner(in.Key, []byte(in.SharedSecret), "").SignRequest(req); err != nil {
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
		connectjwt.NewSigner(in.Key, []byte(in.SharedSecret), "").SignRequest(req)
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
	_, _, _ = runSandbox(t, Options{State: state, Quiet: true, Addr: "127.0.0.1:0", AddrSet: true}, func(s *sandbox.Server, run *sandbox.Running) {
		if run.URL() == first.BaseURL {
			t.Errorf("--addr 127.0.0.1:0 listened on the old address %s", run.URL())
		}
	})

	// An address in use: a clear error.
	blocker, _, _ := runSandboxInBackground(t, state)
	defer blocker()
	_, _, err := runSandbox(t, Options{State: state, Quiet: true}, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot listen on") || !strings.Contains(err.Error(), "choose an address with --addr") {
		t.Errorf("address in use: %v", err)
	}
}

// runSandboxInBackground keeps a sandbox on the state's last address until
// the returned stop is called.
func runSandboxInBackground(t *testing.T, state string) (stop func(), url string, err error) {
	t.Helper()
	s, err := sandbox.Open(state, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Listen(s.LastAddr())
	if err != nil {
		t.Fatal(err)
	}
	return func() { run.Close() }, run.URL(), nil
}

func TestSandboxDeliveriesLogged(t *testing.T) {
	var lines string
	_, stderr, _ := runSandbox(t, Options{RetryScale: 1e-6}, func(s *sandbox.Server, run *sandbox.Running) {
		ten, _ := s.Tenant(TenantName)
		in, _ := tenant.ParseInstalled(bytes.NewReader(ten.Installed()))
		req, _ := http.NewRequest("POST", in.BaseURL+"/rest/api/2/webhook",
			strings.NewReader(`{"url":"http://127.0.0.1:1/hook","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`))
		req.Header.Set("Content-Type", "application/json")
		connectjwt.NewSigner(in.Key, []byte(in.SharedSecret), "").SignRequest(req)
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
		connectjwt.NewSigner(in.Key, []byte(in.SharedSecret), "").SignRequest(req)
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
