package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
		"jwh": func() {
			if path := os.Getenv(envTestKeyring); path != "" {
				os.Exit(app.MainWith(fileKeyring{path}))
			}
			os.Exit(app.Main())
		},
	})
}

// TestScripts runs testdata/script/*.txtar. The jwh of the scripts keeps
// its secrets in $WORK/keyring.json ($JWH_TEST_KEYRING) instead of the OS
// keyring. Besides testscript's own commands the scripts have:
//
//	sandbox [-page-cap N] [-429 N] [-retry-after D] [-latency D] [-expiration-as-string]
//	        [-drop-rate R] [-hang-rate R] [-seed N] [-wrong-secret NAME] NAME...
//	    start a sandbox with these tenants (default: acme), all with one
//	    shared secret except the -wrong-secret one, and write a jwh config
//	    ($JWH_CONFIG, the first tenant the default), the secret of every
//	    tenant in the keyring, and $JWH_SHARED_SECRET.
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
//	sandbox-webhooks TENANT COUNT
//	    assert how many webhooks the tenant has.
//	exits CODE PROGRAM ARGS...
//	    run a program (like exec) and assert its exit status.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup: func(env *testscript.Env) error {
			env.Values[stateKey{}] = &scriptState{}
			env.Setenv(envTestKeyring, filepath.Join(env.WorkDir, "keyring.json"))
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
	keyring := fileKeyring{ts.Getenv(envTestKeyring)}
	for _, name := range names {
		ts.Check(keyring.Set(name, []byte(sharedSecret)))
	}
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
	hc, err := transport.New(transport.Options{Authorizer: connectjwt.NewSigner(t.AppKey(), []byte(t.Secret()), t.BasePath())})
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
	if len(args) != 2 {
		ts.Fatalf("usage: sandbox-webhooks TENANT COUNT")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	if got := len(state(ts).tenant(ts, args[0]).Webhooks()); got != want {
		ts.Fatalf("tenant %s has %d webhooks, want %d", args[0], got, want)
	}
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
