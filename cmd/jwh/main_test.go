package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script from what the commands print")

// TestMain makes the test binary double as jwh: the scripts run "exec jwh
// ...", a real process running app.Main, against a sandbox that the test
// process serves on loopback.
func TestMain(m *testing.M) {
	// Under -race, every jwh process would wait a second before exiting;
	// testscript passes GORACE on to them.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=10")
	}
	testscript.Main(m, map[string]func(){
		"jwh": func() { os.Exit(app.Main()) },
	})
}

// TestScripts runs testdata/script/*.txtar. Besides testscript's own
// commands they have:
//
//	sandbox [-page-cap N] [-429 N] [-retry-after D] [-latency D] [-expiration-as-string]
//	        [-drop-rate R] [-hang-rate R] [-seed N] [-wrong-secret NAME] NAME...
//	    start a sandbox with these tenants (default: acme), all with one
//	    shared secret except the -wrong-secret one, and write a jwh config
//	    ($JWH_CONFIG, the first tenant the default) and $JWH_SHARED_SECRET.
//	faults DROP-RATE HANG-RATE
//	    change the share of requests the sandbox drops and never answers.
//	seed TENANT N
//	    register N webhooks on the tenant, then empty the request log.
//	record-failed TENANT EVENT ISSUE-KEY
//	    add a failed delivery to the tenant.
//	deny TENANT STATUS
//	    make the tenant answer every signed request with 401 or 403.
//	sandbox-requests [-tenant NAME] [-status CODE] [-fault dropped|hung] METHOD|* COUNT[+]
//	    assert how many requests the sandbox has logged (COUNT+: at least
//	    COUNT).
//	sandbox-reset
//	    empty the request log.
//	sandbox-webhooks [-wait] TENANT COUNT [ID...]
//	    assert how many webhooks the tenant has, and which when ids are
//	    given (with -wait: wait until it has them, for a background jwh
//	    listen --register).
//	exits CODE PROGRAM ARGS...
//	    run a program (like exec) and assert its exit status.
//	freeport NAME
//	    set $NAME to a loopback port that is free now, for a background
//	    jwh listen whose address the script must know in advance.
//	wait-listening ADDR
//	    wait until something accepts connections on ADDR.
//	flood TENANT URL N
//	    start sending N deliveries, signed as Jira signs the tenant's, to
//	    URL, 8 at a time, in the background, until one is not answered
//	    (the listener is gone); the script goes on at once.
//	wait-lines FILE N
//	    wait until FILE has at least N lines.
//	append FILE TEXT
//	    append TEXT, without a new line, to FILE.
//	every-line MIN REGEXP
//	    assert that the last command's stdout has at least MIN lines and
//	    that every one of them matches REGEXP.
//	distinct COLUMN N
//	    assert that the tab-separated lines of the last command's stdout
//	    have N distinct values in COLUMN (1-based).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			env.Values[stateKey{}] = &scriptState{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sandbox":          cmdSandbox,
			"faults":           cmdFaults,
			"seed":             cmdSeed,
			"record-failed":    cmdRecordFailed,
			"deny":             cmdDeny,
			"sandbox-requests": cmdRequests,
			"sandbox-reset":    cmdReset,
			"sandbox-webhooks": cmdWebhooks,
			"exits":            cmdExits,
			"freeport":         cmdFreePort,
			"wait-listening":   cmdWaitListening,
			"flood":            cmdFlood,
			"wait-lines":       cmdWaitLines,
			"append":           cmdAppend,
			"distinct":         cmdDistinct,
			"every-line":       cmdEveryLine,
		},
	})
}

// sharedSecret is the secret of the scripts' sandbox tenants; it must
// never appear in jwh's output.
const sharedSecret = "e2e-shared-secret-5b0c0ffee"

type stateKey struct{}

// scriptState is what one script's custom commands share.
type scriptState struct {
	srv *sandbox.Server
	run *sandbox.Running
}

func state(ts *testscript.TestScript) *scriptState {
	return ts.Value(stateKey{}).(*scriptState)
}

func (st *scriptState) server(ts *testscript.TestScript) *sandbox.Server {
	if st.srv == nil {
		ts.Fatalf("no sandbox: start one with the sandbox command")
	}
	return st.srv
}

func (st *scriptState) tenant(ts *testscript.TestScript, name string) *sandbox.Tenant {
	t, ok := st.server(ts).Tenant(name)
	if !ok {
		ts.Fatalf("the sandbox has no tenant %q", name)
	}
	return t
}

func noNeg(ts *testscript.TestScript, neg bool, name string) {
	if neg {
		ts.Fatalf("unsupported: ! %s", name)
	}
}

func cmdSandbox(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox")
	st := state(ts)
	if st.srv != nil {
		ts.Fatalf("a sandbox is already running")
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	var opts sandbox.Options
	var wrong string
	fs.IntVar(&opts.PageCap, "page-cap", 0, "")
	fs.IntVar(&opts.Leading429, "429", 0, "")
	fs.DurationVar(&opts.RetryAfter, "retry-after", 0, "")
	fs.DurationVar(&opts.Latency, "latency", 0, "")
	fs.BoolVar(&opts.ExpirationAsString, "expiration-as-string", false, "")
	fs.Float64Var(&opts.DropRate, "drop-rate", 0, "")
	fs.Float64Var(&opts.HangRate, "hang-rate", 0, "")
	fs.Uint64Var(&opts.Seed, "seed", 0, "")
	fs.StringVar(&wrong, "wrong-secret", "", "")
	ts.Check(fs.Parse(args))
	names := fs.Args()
	if len(names) == 0 {
		names = []string{"acme"}
	}
	srv, run, err := startSandbox(opts, names, wrong)
	ts.Check(err)
	ts.Defer(func() { run.Close() })
	st.srv, st.run = srv, run

	path := filepath.Join(ts.Getenv("WORK"), "jwh", "config.json")
	ts.Check(writeConfig(path, srv, run, names))
	ts.Setenv(tenant.EnvConfig, path)
	ts.Setenv(tenant.EnvSecret, sharedSecret)
	ts.Setenv("SANDBOX_URL", run.URL())
}

// startSandbox serves a sandbox on loopback with the named tenants, all
// with sharedSecret except the tenant called wrong.
func startSandbox(opts sandbox.Options, names []string, wrong string) (*sandbox.Server, *sandbox.Running, error) {
	srv := sandbox.New(opts)
	for _, name := range names {
		secret := sharedSecret
		if name == wrong {
			secret = "not-the-secret-jwh-has"
		}
		if _, err := srv.AddTenant(sandbox.TenantConfig{Name: name, Secret: secret}); err != nil {
			return nil, nil, err
		}
	}
	run, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	return srv, run, nil
}

// writeConfig writes a jwh config file with the named sandbox tenants; the
// first is the default.
func writeConfig(path string, srv *sandbox.Server, run *sandbox.Running, names []string) error {
	cfg, err := tenant.LoadConfig(path)
	if err != nil {
		return err
	}
	return cfg.Update(context.Background(), func(cfg *tenant.Config) error {
		for _, name := range names {
			t, _ := srv.Tenant(name)
			cfg.Put(tenant.Tenant{Name: name, BaseURL: run.BaseURL(name), AppKey: t.AppKey(), ClientKey: t.ClientKey()})
		}
		return nil
	})
}

func cmdFaults(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "faults")
	if len(args) != 2 {
		ts.Fatalf("usage: faults DROP-RATE HANG-RATE")
	}
	drop, err := strconv.ParseFloat(args[0], 64)
	ts.Check(err)
	hang, err := strconv.ParseFloat(args[1], 64)
	ts.Check(err)
	state(ts).server(ts).SetFaults(drop, hang)
}

func cmdSeed(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "seed")
	if len(args) != 2 {
		ts.Fatalf("usage: seed TENANT N")
	}
	st := state(ts)
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	ts.Check(seed(st.tenant(ts, args[0]), n))
	st.srv.ResetRequests()
}

// seed registers n webhooks (project = P1, P2, ...) on the tenant with a
// signed client, as an app would, 100 per request.
func seed(t *sandbox.Tenant, n int) error {
	hc, err := transport.New(transport.Options{Signer: connectjwt.NewSigner(t.AppKey(), []byte(t.Secret()), t.BasePath())})
	if err != nil {
		return err
	}
	base, err := urlpolicy.ParseBaseURL(t.BaseURL())
	if err != nil {
		return err
	}
	c := jira.NewClient(hc, base)
	next := len(t.Webhooks()) + 1
	for n > 0 {
		batch := min(n, 100)
		req := jira.RegisterRequest{URL: "https://app.example.com/hook"}
		for range batch {
			req.Webhooks = append(req.Webhooks, jira.WebhookSpec{
				JQLFilter: fmt.Sprintf("project = P%d", next), Events: []string{"jira:issue_updated"},
			})
			next++
		}
		results, err := c.RegisterWebhooks(context.Background(), req)
		if err != nil {
			return err
		}
		for _, r := range results {
			if r.ID == 0 {
				return fmt.Errorf("seed: refused: %s", strings.Join(r.Errors, "; "))
			}
		}
		n -= batch
	}
	return nil
}

func cmdRecordFailed(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "record-failed")
	if len(args) != 3 {
		ts.Fatalf("usage: record-failed TENANT EVENT ISSUE-KEY")
	}
	t := state(ts).tenant(ts, args[0])
	body := fmt.Sprintf(`{"webhookEvent":%q,"issue":{"key":%q}}`, args[1], args[2])
	ts.Check(t.RecordFailedDelivery(sandbox.FailedDelivery{
		Body: body, URL: "https://app.example.com/hook", FailureTime: time.Now().Add(-2 * time.Hour),
	}))
}

func cmdDeny(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "deny")
	if len(args) != 2 {
		ts.Fatalf("usage: deny TENANT STATUS")
	}
	status, err := strconv.Atoi(args[1])
	ts.Check(err)
	state(ts).tenant(ts, args[0]).Deny(status)
}

func cmdRequests(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-requests")
	fs := flag.NewFlagSet("sandbox-requests", flag.ContinueOnError)
	name := fs.String("tenant", "", "")
	status := fs.Int("status", 0, "")
	fault := fs.String("fault", "", "")
	ts.Check(fs.Parse(args))
	if fs.NArg() != 2 {
		ts.Fatalf("usage: sandbox-requests [-tenant NAME] [-status CODE] [-fault dropped|hung] METHOD|* COUNT[+]")
	}
	method := fs.Arg(0)
	count, atLeast := strings.CutSuffix(fs.Arg(1), "+")
	want, err := strconv.Atoi(count)
	ts.Check(err)
	log := state(ts).server(ts).Requests()
	got := 0
	var lines []string
	for _, r := range log {
		line := fmt.Sprintf("  %s %s?%s -> %d (tenant %q)", r.Method, r.Path, redactQuery(r.RawQuery), r.Status, r.Tenant)
		if r.Fault != "" {
			line += fmt.Sprintf(" %s (took effect: %v)", r.Fault, r.TookEffect)
		}
		lines = append(lines, line)
		if (method == "*" || r.Method == method) && (*name == "" || r.Tenant == *name) && (*status == 0 || r.Status == *status) &&
			(*fault == "" || string(r.Fault) == *fault) {
			got++
		}
	}
	if got != want && !(atLeast && got > want) {
		ts.Fatalf("sandbox logged %d matching requests, want %s; the log:\n%s", got, fs.Arg(1), strings.Join(lines, "\n"))
	}
}

// redactQuery hides a jwt query parameter in the request log.
func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		if strings.HasPrefix(p, "jwt=") {
			parts[i] = "jwt=[redacted]"
		}
	}
	return strings.Join(parts, "&")
}

func cmdReset(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-reset")
	state(ts).server(ts).ResetRequests()
}

func cmdWebhooks(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-webhooks")
	wait := len(args) > 0 && args[0] == "-wait"
	if wait {
		args = args[1:]
	}
	if len(args) < 2 {
		ts.Fatalf("usage: sandbox-webhooks [-wait] TENANT COUNT [ID...]")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	wantIDs := strings.Join(args[2:], " ")
	t := state(ts).tenant(ts, args[0])
	deadline := time.Now().Add(eventually)
	for {
		hooks := t.Webhooks()
		var ids []string
		for _, h := range hooks {
			ids = append(ids, strconv.FormatInt(h.ID, 10))
		}
		if len(hooks) == want && (wantIDs == "" || strings.Join(ids, " ") == wantIDs) {
			return
		}
		if !wait || time.Now().After(deadline) {
			ts.Fatalf("tenant %s has %d webhooks (%s), want %d %s", args[0], len(hooks), strings.Join(ids, " "), want, wantIDs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventually bounds the waits of the scripts for what a background
// process does: generous, for a loaded machine.
const eventually = 60 * time.Second

func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "freeport")
	if len(args) != 1 {
		ts.Fatalf("usage: freeport NAME")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := ln.Addr().(*net.TCPAddr).Port
	ts.Check(ln.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}

func cmdWaitListening(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "wait-listening")
	if len(args) != 1 {
		ts.Fatalf("usage: wait-listening ADDR")
	}
	deadline := time.Now().Add(eventually)
	for {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("nothing listens on %s: %v", args[0], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cmdFlood(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "flood")
	if len(args) != 3 {
		ts.Fatalf("usage: flood TENANT URL N")
	}
	t := state(ts).tenant(ts, args[0])
	target, err := url.Parse(args[1])
	ts.Check(err)
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	signer := connectjwt.NewSigner(t.ClientKey(), []byte(t.Secret()), "/")
	client := &http.Client{Timeout: 10 * time.Second}
	next := make(chan int)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body := fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"jira:issue_updated","issue":{"id":"%d","key":"FLD-%d","fields":{"project":{"key":"FLD"}}}}`,
					time.Now().UnixMilli(), 10000+i, i)
				req, err := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(body))
				if err != nil {
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Atlassian-Webhook-Identifier", fmt.Sprintf("flood-%d", i))
				if signer.SignRequest(req) != nil {
					continue
				}
				resp, err := client.Do(req)
				if err != nil {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case <-done:
				return
			}
		}
	}()
	ts.Defer(func() {
		close(done)
		wg.Wait()
	})
}

func cmdWaitLines(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "wait-lines")
	if len(args) != 2 {
		ts.Fatalf("usage: wait-lines FILE N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(eventually)
	for {
		data, _ := os.ReadFile(path)
		got := bytes.Count(data, []byte("\n"))
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s has %d lines, want at least %d", args[0], got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cmdAppend(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "append")
	if len(args) != 2 {
		ts.Fatalf("usage: append FILE TEXT")
	}
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	ts.Check(err)
	_, err = f.WriteString(args[1])
	ts.Check(err)
	ts.Check(f.Close())
}

func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "exits")
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
	for _, s := range []string{ts.ReadFile("stdout"), ts.ReadFile("stderr")} {
		if strings.Contains(s, sharedSecret) {
			ts.Fatalf("the shared secret appears in the output")
		}
	}
}

func cmdDistinct(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "distinct")
	if len(args) != 2 {
		ts.Fatalf("usage: distinct COLUMN N")
	}
	col, err := strconv.Atoi(args[0])
	ts.Check(err)
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	values := map[string]bool{}
	for _, line := range strings.Split(strings.TrimRight(ts.ReadFile("stdout"), "\n"), "\n") {
		cells := strings.Split(line, "\t")
		if col < 1 || col > len(cells) {
			ts.Fatalf("line %q has no column %d", line, col)
		}
		values[cells[col-1]] = true
	}
	if len(values) != want {
		ts.Fatalf("%d distinct values in column %d, want %d", len(values), col, want)
	}
}

func cmdEveryLine(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "every-line")
	if len(args) != 2 {
		ts.Fatalf("usage: every-line MIN REGEXP")
	}
	min, err := strconv.Atoi(args[0])
	ts.Check(err)
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	out := strings.TrimRight(ts.ReadFile("stdout"), "\n")
	lines := strings.Split(out, "\n")
	if out == "" {
		lines = nil
	}
	if len(lines) < min {
		ts.Fatalf("stdout has %d lines, want at least %d", len(lines), min)
	}
	for i, line := range lines {
		if !re.MatchString(line) {
			ts.Fatalf("line %d of stdout does not match %s:\n%s", i+1, re, line)
		}
	}
}
