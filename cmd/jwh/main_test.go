package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
		"jwh": func() {
			if path := os.Getenv(envTestKeyring); path != "" {
				os.Exit(app.MainWith(fileKeyring{path}))
			}
			os.Exit(app.Main())
		},
		"sandbox-browser": func() { os.Exit(sandboxBrowser()) },
		// github.com/cli/browser opens URLs with xdg-open on Linux, found
		// on PATH: in scripts that is the sandbox's browser, so no real
		// browser ever opens and jwh tenant login's callback is answered.
		"xdg-open": func() { os.Exit(sandboxBrowser()) },
	})
}

// TestScripts runs testdata/script/*.txtar. The jwh of the scripts keeps
// its secrets in $WORK/keyring.json ($JWH_TEST_KEYRING) instead of the OS
// keyring. Besides testscript's own commands the scripts have:
//
//	sandbox [-page-cap N] [-429 N] [-retry-after D] [-latency D] [-expiration-as-string]
//	        [-drop-rate R] [-hang-rate R] [-seed N] [-wrong-secret NAME] [-clock-skew D]
//	        [-access-token-ttl D] [-refresh-reuse-interval D] [-oauth-callback URL]... NAME...
//	    start a sandbox with these tenants (default: acme), all with one
//	    shared secret except the -wrong-secret one, and write a jwh config
//	    ($JWH_CONFIG, the first tenant the default), the secret of every
//	    tenant in the keyring, and $JWH_SHARED_SECRET. -clock-skew runs the
//	    sandbox's clock that far ahead of this machine's (negative: behind).
//	    $CLIENT_KEY_<NAME> is each tenant's client key ($CLIENT_KEY the
//	    first's).
//	    $SANDBOX_URL is its root URL: the --auth-url and --api-url of jwh
//	    tenant login. Its OAuth app has the client id $OAUTH_CLIENT_ID and
//	    the secret $OAUTH_CLIENT_SECRET, also in the file
//	    $OAUTH_CLIENT_SECRET_FILE (one line, for "stdin"); the tenants are
//	    its sites, with the cloud ids $CLOUD_ID_<NAME> ('.' and '-' in NAME
//	    as '_'; $CLOUD_ID is the first tenant's) and the URLs
//	    $SITE_URL_<NAME> ($SITE_URL). -access-token-ttl sets the lifetime of
//	    access tokens (default 1h; below 60s every command refreshes),
//	    -refresh-reuse-interval how long a rotated refresh token is still
//	    taken (default 10m; 0: never), -oauth-callback adds a callback URL
//	    to http://localhost:8976/callback.
//	sandbox-approve [-deny] URL_FILE|URL USER [OUT_FILE]
//	    play the browser: take the first authorization URL in URL_FILE
//	    (stdout and stderr are the last command's), or URL, approve it as USER
//	    (or, with -deny, deny it) without a page, and either write the address the
//	    sandbox redirects to into OUT_FILE (what a user pastes into jwh
//	    tenant login --no-browser) or, without OUT_FILE, GET it: deliver
//	    it to jwh's loopback callback server, which must be running (exec
//	    jwh tenant login ... &).
//	sandbox-tokens [-wait] [-error CODE] GRANT|* COUNT[+]
//	    assert how many token requests with grant_type GRANT the sandbox
//	    has logged since the last sandbox-reset: successful ones, or with
//	    -error those refused with that OAuth error code (-error any: every
//	    refused one). "sandbox-tokens refresh_token 1" is "exactly one
//	    refresh happened". -wait waits until there are that many (for a
//	    jwh in the background).
//	sandbox-no-tokens FILE...
//	    assert that no access or refresh token the sandbox has issued, and
//	    not the OAuth client secret, appears in the files (stdout and
//	    stderr are the last command's).
//	sandbox-revoke USER
//	    revoke every login of the user, as a user who removes the app's
//	    access does: their refresh and access tokens stop working.
//	sandbox-expire-access
//	    make every access token issued so far expire now (a cached token
//	    then gets 401; the refresh tokens stay valid).
//	paste-login [-exit CODE] USER ARGS...
//	    run jwh tenant login --no-browser ARGS... as a user would: the
//	    client secret ($OAUTH_CLIENT_SECRET) on its standard input unless
//	    $JWH_CLIENT_SECRET is set, then, once it has printed the
//	    authorization URL, the address the sandbox sends USER's browser to.
//	    Its output is in $WORK/login.stdout and $WORK/login.stderr; it must
//	    exit with CODE (default 0), without the shared secret or the
//	    client secret in its output.
//	sandbox-oauth-webhooks TENANT USER COUNT
//	    assert how many webhooks USER has registered on the tenant with the
//	    OAuth app (USER * counts every user's).
//	bearer-deliver, bearer-get, perm
//	    see oauth_test.go.
//	inspect-records, inspect-replay
//	    see inspect_test.go.
//	faults DROP-RATE HANG-RATE
//	    change the share of requests the sandbox drops and never answers.
//	seed TENANT N
//	    register N webhooks on the tenant, then empty the request log.
//	record-failed TENANT EVENT ISSUE-KEY [URL]
//	    add a failed delivery to the tenant, two hours ago, to URL
//	    (default https://app.example.com/hook).
//	deny TENANT STATUS
//	    make the tenant answer every signed request with 401 or 403.
//	installed TENANT FILE
//	    write the tenant's installed payload, as Jira sends it to the app
//	    (its sharedSecret the sandbox's, which -wrong-secret changes), to
//	    FILE.
//	expire TENANT DURATION [ID...]
//	    make the tenant's webhooks with these ids (all, without ids) expire
//	    DURATION from now (a negative DURATION: that long ago).
//	oauth-age TENANT LOGIN-AGE REFRESH-AGE
//	    make the stored login of OAuth tenant TENANT as old as LOGIN-AGE
//	    and its refresh token as old as REFRESH-AGE (durations; 300d is
//	    300 days), as if the consent and the last refresh were that long
//	    ago.
//	sandbox-requests [-wait] [-tenant NAME] [-status CODE] [-fault dropped|hung]
//	                 [-kind connect|oauth] [-user USER] METHOD|* COUNT[+]
//	    assert how many requests the sandbox has logged (COUNT+: at least
//	    COUNT); -kind oauth counts those of the OAuth side (authorize,
//	    token, accessible-resources, gateway), -user those made as USER.
//	    A request is logged before it is answered (or hung). -wait waits
//	    until there are that many.
//	sandbox-reset
//	    empty the request log.
//	sandbox-webhooks [-wait] TENANT COUNT [ID...]
//	    assert how many webhooks the tenant has, and which when ids are
//	    given (with -wait: wait until it has them, for a background jwh
//	    listen --register).
//	exits CODE PROGRAM ARGS...
//	    run a program (like exec) and assert its exit status, and that
//	    neither the shared secret nor the OAuth client secret is in its
//	    output.
//	proxy NAME
//	    start an HTTP proxy on loopback that refuses every request with 502
//	    Bad Gateway after noting its request line ("CONNECT host:443
//	    HTTP/1.1"), and set $NAME to its URL, for HTTPS_PROXY.
//	proxied COUNT [TEXT]
//	    assert how many request lines the proxy has noted (containing TEXT).
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
//
// The program sandbox-browser plays a browser for jwh tenant login: run
// with an authorization URL (as $BROWSER, say), it approves it as the user
// $SANDBOX_USER (default alice; SANDBOX_DENY=1 denies instead) and
// delivers the redirect to jwh's loopback callback server. It is also on
// PATH as xdg-open, which github.com/cli/browser runs on Linux, so a
// script's "exec jwh tenant login ..." is answered as if a user had
// approved in a browser.
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
			"expire":           cmdExpire,
			"installed":        cmdInstalled,
			"oauth-age":        cmdOAuthAge,
			"sandbox-requests": cmdRequests,
			"sandbox-reset":    cmdReset,
			"sandbox-webhooks": cmdWebhooks,
			"exits":            cmdExits,
			"freeport":         cmdFreePort,
			"proxy":            cmdProxy,
			"proxied":          cmdProxied,
			"wait-listening":   cmdWaitListening,
			"flood":            cmdFlood,
			"wait-lines":       cmdWaitLines,
			"append":           cmdAppend,
			"distinct":         cmdDistinct,
			"every-line":       cmdEveryLine,
			"inspect-records":  cmdInspectRecords,
			"inspect-replay":   cmdInspectReplay,

			"sandbox-approve":        cmdApprove,
			"sandbox-tokens":         cmdTokens,
			"sandbox-no-tokens":      cmdNoTokens,
			"sandbox-revoke":         cmdRevoke,
			"sandbox-expire-access":  cmdExpireAccess,
			"sandbox-oauth-webhooks": cmdOAuthWebhooks,
			"paste-login":            cmdPasteLogin,
			"bearer-deliver":         cmdBearerDeliver,
			"bearer-get":             cmdBearerGet,
			"perm":                   cmdPerm,
		},
	})
}

// sharedSecret is the secret of the scripts' sandbox tenants; it must
// never appear in jwh's output.
const sharedSecret = "e2e-shared-secret-5b0c0ffee"

// The scripts' OAuth app. Its secret must never appear in jwh's output.
const (
	oauthClientID     = "e2e0authC1ient1d0123456789abcdef"
	oauthClientSecret = "e2e-oauth-client-secret-7d1e5ca1ab"
)

type stateKey struct{}

// scriptState is what one script's custom commands share.
type scriptState struct {
	srv *sandbox.Server
	run *sandbox.Running

	mu      sync.Mutex
	issued  []string // every access and refresh token the sandbox issued
	proxied []string // the request lines the proxy of the proxy command got
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
	skew := fs.Duration("clock-skew", 0, "")
	fs.DurationVar(&opts.OAuth.AccessTokenTTL, "access-token-ttl", 0, "")
	reuse := fs.Duration("refresh-reuse-interval", sandbox.DefaultRefreshReuseInterval, "")
	var callbacks []string
	fs.Func("oauth-callback", "", func(u string) error { callbacks = append(callbacks, u); return nil })
	ts.Check(fs.Parse(args))
	names := fs.Args()
	if len(names) == 0 {
		names = []string{"acme"}
	}
	opts.OAuth.RefreshReuseInterval = *reuse
	if d := *skew; d != 0 {
		opts.Clock = func() time.Time { return time.Now().Add(d) }
	}
	if *reuse == 0 {
		opts.OAuth.RefreshReuseInterval = -1 // none
	}
	opts.OAuth.ClientID, opts.OAuth.ClientSecret = oauthClientID, oauthClientSecret
	opts.OAuth.OnIssue = func(access, refresh string) {
		st.mu.Lock()
		defer st.mu.Unlock()
		st.issued = append(st.issued, access)
		if refresh != "" {
			st.issued = append(st.issued, refresh)
		}
	}
	srv, run, err := startSandbox(opts, names, wrong)
	ts.Check(err)
	ts.Defer(func() { run.Close() })
	st.srv, st.run = srv, run
	for _, u := range callbacks {
		ts.Check(srv.AddCallbackURL(u))
	}

	path := filepath.Join(ts.Getenv("WORK"), "jwh", "config.json")
	ts.Check(writeConfig(path, srv, run, names))
	keyring := fileKeyring{ts.Getenv(envTestKeyring)}
	for _, name := range names {
		ts.Check(keyring.Set(name, []byte(sharedSecret)))
	}
	ts.Setenv(tenant.EnvConfig, path)
	ts.Setenv(tenant.EnvSecret, sharedSecret)
	ts.Setenv("SANDBOX_URL", run.URL())
	ts.Setenv("OAUTH_CLIENT_ID", oauthClientID)
	ts.Setenv("OAUTH_CLIENT_SECRET", oauthClientSecret)
	secretFile := filepath.Join(ts.Getenv("WORK"), "oauth-client-secret")
	ts.Check(os.WriteFile(secretFile, []byte(oauthClientSecret+"\n"), 0o600))
	ts.Setenv("OAUTH_CLIENT_SECRET_FILE", secretFile)
	for i, name := range names {
		t, _ := srv.Tenant(name)
		key := strings.NewReplacer(".", "_", "-", "_").Replace(name)
		ts.Setenv("CLOUD_ID_"+key, t.CloudID())
		ts.Setenv("SITE_URL_"+key, t.BaseURL())
		ts.Setenv("CLIENT_KEY_"+key, t.ClientKey())
		if i == 0 {
			ts.Setenv("CLOUD_ID", t.CloudID())
			ts.Setenv("SITE_URL", t.BaseURL())
			ts.Setenv("CLIENT_KEY", t.ClientKey())
		}
	}
}

// startSandbox serves a sandbox on loopback with the named tenants, all
// with sharedSecret except the tenant called wrong. Each tenant's cloud
// id is a UUID made from its name, the same in every run.
func startSandbox(opts sandbox.Options, names []string, wrong string) (*sandbox.Server, *sandbox.Running, error) {
	srv := sandbox.New(opts)
	for _, name := range names {
		secret := sharedSecret
		if name == wrong {
			secret = "not-the-secret-jwh-has"
		}
		if _, err := srv.AddTenant(sandbox.TenantConfig{Name: name, Secret: secret, CloudID: cloudID(name)}); err != nil {
			return nil, nil, err
		}
	}
	run, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	return srv, run, nil
}

// cloudID is the cloud id of the scripts' tenant called name.
func cloudID(name string) string {
	h := sha256.Sum256([]byte("cloud\x00" + name))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
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
	if len(args) != 3 && len(args) != 4 {
		ts.Fatalf("usage: record-failed TENANT EVENT ISSUE-KEY [URL]")
	}
	t := state(ts).tenant(ts, args[0])
	body := fmt.Sprintf(`{"webhookEvent":%q,"issue":{"key":%q}}`, args[1], args[2])
	hook := "https://app.example.com/hook"
	if len(args) == 4 {
		hook = args[3]
	}
	ts.Check(t.RecordFailedDelivery(sandbox.FailedDelivery{
		Body: body, URL: hook, FailureTime: time.Now().Add(-2 * time.Hour),
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

func cmdInstalled(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "installed")
	if len(args) != 2 {
		ts.Fatalf("usage: installed TENANT FILE")
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), state(ts).tenant(ts, args[0]).Installed(), 0o600))
}

func cmdExpire(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "expire")
	if len(args) < 2 {
		ts.Fatalf("usage: expire TENANT DURATION [ID...]")
	}
	d, err := parseDays(args[1])
	ts.Check(err)
	ids := make([]int64, len(args)-2)
	for i, a := range args[2:] {
		ids[i], err = strconv.ParseInt(a, 10, 64)
		ts.Check(err)
	}
	n, err := state(ts).tenant(ts, args[0]).SetExpiration(time.Now().Add(d), ids...)
	ts.Check(err)
	if n == 0 {
		ts.Fatalf("tenant %s has no such webhooks", args[0])
	}
}

// parseDays parses a duration that may count days: 300d, -31d, 2h.
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		return time.Duration(days) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

func cmdOAuthAge(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "oauth-age")
	if len(args) != 3 {
		ts.Fatalf("usage: oauth-age TENANT LOGIN-AGE REFRESH-AGE")
	}
	loginAge, err := parseDays(args[1])
	ts.Check(err)
	refreshAge, err := parseDays(args[2])
	ts.Check(err)
	cfg, err := tenant.LoadConfig(ts.Getenv(tenant.EnvConfig))
	ts.Check(err)
	t, err := cfg.Get(args[0])
	ts.Check(err)
	r := cfg.Resolver(fileKeyring{ts.Getenv(envTestKeyring)}, ts.Getenv, "")
	login, err := r.OAuth(t)
	ts.Check(err)
	now := time.Now()
	login.Secrets.LoginAt = now.Add(-loginAge)
	login.Secrets.RefreshIssued = now.Add(-refreshAge)
	ts.Check(r.SaveOAuth(t, login.Secrets))
}

func cmdRequests(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-requests")
	fs := flag.NewFlagSet("sandbox-requests", flag.ContinueOnError)
	name := fs.String("tenant", "", "")
	status := fs.Int("status", 0, "")
	fault := fs.String("fault", "", "")
	kind := fs.String("kind", "", "")
	user := fs.String("user", "", "")
	wait := fs.Bool("wait", false, "")
	ts.Check(fs.Parse(args))
	if fs.NArg() != 2 {
		ts.Fatalf("usage: sandbox-requests [-wait] [-tenant NAME] [-status CODE] [-fault dropped|hung] [-kind connect|oauth] [-user USER] METHOD|* COUNT[+]")
	}
	method := fs.Arg(0)
	waitCount(ts, *wait, fs.Arg(1), "requests", func() (got int, lines []string) {
		for _, r := range state(ts).server(ts).Requests() {
			target := transport.RedactURL(&url.URL{Opaque: r.Path, RawQuery: r.RawQuery})
			line := fmt.Sprintf("  %s %s -> %d (tenant %q, %s %s)", r.Method, target, r.Status, r.Tenant, r.Kind, r.User)
			if r.Reason != "" {
				line += ": " + r.Reason
			}
			if r.Fault != "" {
				line += fmt.Sprintf(" %s (took effect: %v)", r.Fault, r.TookEffect)
			}
			lines = append(lines, line)
			if (method == "*" || r.Method == method) && (*name == "" || r.Tenant == *name) && (*status == 0 || r.Status == *status) &&
				(*fault == "" || string(r.Fault) == *fault) && (*kind == "" || r.Kind == *kind) && (*user == "" || r.User == *user) {
				got++
			}
		}
		return got, lines
	})
}

// waitCount fails the script unless what count says (got, and the lines
// of what was logged) matches the COUNT[+] argument want (COUNT+: at least
// COUNT); with wait, once it has not matched for eventually.
func waitCount(ts *testscript.TestScript, wait bool, want, what string, count func() (int, []string)) {
	var got int
	var lines []string
	check := func() bool {
		got, lines = count()
		return countMatches(ts, want, got)
	}
	if wait {
		poll(check)
	} else {
		check()
	}
	wantCount(ts, want, got, what, lines)
}

// poll calls done until it reports true, for at most eventually, and
// returns its last answer.
func poll(done func() bool) bool {
	deadline := time.Now().Add(eventually)
	for !done() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// countMatches reports whether got matches the COUNT[+] argument count
// (COUNT+: at least COUNT).
func countMatches(ts *testscript.TestScript, count string, got int) bool {
	n, atLeast := strings.CutSuffix(count, "+")
	want, err := strconv.Atoi(n)
	ts.Check(err)
	return got == want || atLeast && got > want
}

// wantCount fails the script unless got matches the COUNT[+] argument
// count (COUNT+: at least COUNT), showing the lines of what was logged.
func wantCount(ts *testscript.TestScript, count string, got int, what string, lines []string) {
	if !countMatches(ts, count, got) {
		ts.Fatalf("sandbox logged %d matching %s, want %s; the %s:\n%s", got, what, count, what, strings.Join(lines, "\n"))
	}
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
	var ids []string
	check := func() bool {
		ids = nil
		for _, h := range t.Webhooks() {
			ids = append(ids, strconv.FormatInt(h.ID, 10))
		}
		return len(ids) == want && (wantIDs == "" || strings.Join(ids, " ") == wantIDs)
	}
	if ok := check() || wait && poll(check); !ok {
		ts.Fatalf("tenant %s has %d webhooks (%s), want %d %s", args[0], len(ids), strings.Join(ids, " "), want, wantIDs)
	}
}

// eventually bounds the waits of the scripts for what a background
// process does: generous, for a loaded machine.
const eventually = 60 * time.Second

func cmdProxy(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "proxy")
	if len(args) != 1 {
		ts.Fatalf("usage: proxy NAME")
	}
	st := state(ts)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		st.proxied = append(st.proxied, r.Method+" "+r.RequestURI+" "+r.Proto)
		st.mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}

func cmdProxied(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "proxied")
	if len(args) != 1 && len(args) != 2 {
		ts.Fatalf("usage: proxied COUNT [TEXT]")
	}
	st := state(ts)
	st.mu.Lock()
	lines := slices.Clone(st.proxied)
	st.mu.Unlock()
	got := 0
	for _, l := range lines {
		if len(args) == 1 || strings.Contains(l, args[1]) {
			got++
		}
	}
	wantCount(ts, args[0], got, "proxied requests", lines)
}

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
	var err error
	listening := func() bool {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", args[0], time.Second); err == nil {
			c.Close()
		}
		return err == nil
	}
	if !poll(listening) {
		ts.Fatalf("nothing listens on %s: %v", args[0], err)
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
				if signer.Authorize(req) != nil {
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
	var got int
	if !poll(func() bool {
		data, _ := os.ReadFile(path)
		got = bytes.Count(data, []byte("\n"))
		return got >= want
	}) {
		ts.Fatalf("%s has %d lines, want at least %d", args[0], got, want)
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
	noSecrets(ts, ts.ReadFile("stdout"), ts.ReadFile("stderr"))
}

// noSecrets fails the script when the shared secret or the OAuth client
// secret is in one of a command's outputs.
func noSecrets(ts *testscript.TestScript, outputs ...string) {
	for _, s := range outputs {
		if strings.Contains(s, sharedSecret) {
			ts.Fatalf("the shared secret appears in the output")
		}
		if strings.Contains(s, oauthClientSecret) {
			ts.Fatalf("the OAuth client secret appears in the output")
		}
	}
}

// authorizeURLRE finds an authorization URL in a command's output.
var authorizeURLRE = regexp.MustCompile(`https?://[^\s"'<>]+` + regexp.QuoteMeta(sandbox.AuthorizePath) + `\?[^\s"'<>]+`)

func cmdApprove(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-approve")
	fs := flag.NewFlagSet("sandbox-approve", flag.ContinueOnError)
	deny := fs.Bool("deny", false, "")
	ts.Check(fs.Parse(args))
	if fs.NArg() != 2 && fs.NArg() != 3 {
		ts.Fatalf("usage: sandbox-approve [-deny] URL_FILE|URL USER [OUT_FILE]")
	}
	from := fs.Arg(0)
	if !strings.HasPrefix(from, "http://") && !strings.HasPrefix(from, "https://") {
		from = ts.ReadFile(from)
	}
	authURL := authorizeURLRE.FindString(from)
	if authURL == "" {
		ts.Fatalf("no authorization URL (…%s?…) in %s", sandbox.AuthorizePath, fs.Arg(0))
	}
	var loc *url.URL
	var err error
	if *deny {
		loc, err = denyURL(authURL)
	} else {
		loc, err = sandbox.Approve(nil, authURL, fs.Arg(1))
	}
	ts.Check(err)
	if fs.NArg() == 3 {
		ts.Check(os.WriteFile(ts.MkAbs(fs.Arg(2)), []byte(loc.String()+"\n"), 0o600))
		return
	}
	ts.Check(deliverCallback(loc))
}

// denyURL answers an authorization request with deny=1, as a user who
// chooses Deny, and returns where the sandbox redirects.
func denyURL(authURL string) (*url.URL, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("deny", "1")
	u.RawQuery = q.Encode()
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u.String())
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("denying: %s", resp.Status)
	}
	return resp.Location()
}

// deliverCallback GETs the redirect to a loopback callback server, as the
// browser would, and fails unless it answers 2xx.
func deliverCallback(loc *url.URL) error {
	if h := loc.Hostname(); h != "localhost" && h != "127.0.0.1" && h != "::1" {
		return fmt.Errorf("the callback %s is not on loopback", loc)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(loc.String())
	if err != nil {
		return fmt.Errorf("delivering the redirect to jwh: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("jwh's callback server answered %s", resp.Status)
	}
	return nil
}

// sandboxBrowser is the sandbox-browser program: a browser for jwh tenant
// login that approves at once, as $SANDBOX_USER (default alice), or
// denies with SANDBOX_DENY=1.
func sandboxBrowser() int {
	return browse(os.Args[1:], os.Getenv("SANDBOX_USER"), os.Getenv("SANDBOX_DENY") == "1", os.Stderr)
}

// browse approves (or denies) the authorization URL in args as user
// (default alice), and delivers the redirect to the loopback callback.
func browse(args []string, user string, deny bool, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: sandbox-browser URL")
		return 2
	}
	if user == "" {
		user = sandbox.DefaultUser
	}
	var loc *url.URL
	var err error
	if deny {
		loc, err = denyURL(args[0])
	} else {
		loc, err = sandbox.Approve(nil, args[0], user)
	}
	if err == nil {
		err = deliverCallback(loc)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sandbox-browser:", err)
		return 1
	}
	return 0
}

func cmdTokens(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-tokens")
	fs := flag.NewFlagSet("sandbox-tokens", flag.ContinueOnError)
	code := fs.String("error", "", "")
	wait := fs.Bool("wait", false, "")
	ts.Check(fs.Parse(args))
	if fs.NArg() != 2 {
		ts.Fatalf("usage: sandbox-tokens [-wait] [-error CODE|any] GRANT|* COUNT[+]")
	}
	grant := fs.Arg(0)
	waitCount(ts, *wait, fs.Arg(1), "token requests", func() (got int, lines []string) {
		for _, r := range state(ts).server(ts).TokenRequests() {
			lines = append(lines, fmt.Sprintf("  %s -> %d %s %s", r.Grant, r.Status, r.GrantError, r.Reason))
			if grant != "*" && r.Grant != grant {
				continue
			}
			switch {
			case *code == "" && r.GrantError == "" && r.Status == http.StatusOK,
				*code == "any" && r.GrantError != "",
				*code != "" && *code == r.GrantError:
				got++
			}
		}
		return got, lines
	})
}

func cmdNoTokens(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-no-tokens")
	if len(args) == 0 {
		ts.Fatalf("usage: sandbox-no-tokens FILE...")
	}
	st := state(ts)
	st.mu.Lock()
	secrets := append(slices.Clone(st.issued), oauthClientSecret)
	st.mu.Unlock()
	for _, name := range args {
		content := ts.ReadFile(name)
		for i, s := range secrets {
			if strings.Contains(content, s) {
				what := "an issued token"
				if i == len(secrets)-1 {
					what = "the OAuth client secret"
				}
				ts.Fatalf("%s appears in %s", what, name)
			}
		}
	}
}

func cmdRevoke(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-revoke")
	if len(args) != 1 {
		ts.Fatalf("usage: sandbox-revoke USER")
	}
	n, err := state(ts).server(ts).Revoke(args[0])
	ts.Check(err)
	if n == 0 {
		ts.Fatalf("user %s has no login to revoke", args[0])
	}
}

func cmdExpireAccess(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-expire-access")
	if len(args) != 0 {
		ts.Fatalf("usage: sandbox-expire-access")
	}
	ts.Check(state(ts).server(ts).ExpireAccessTokens())
}

func cmdOAuthWebhooks(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sandbox-oauth-webhooks")
	if len(args) != 3 {
		ts.Fatalf("usage: sandbox-oauth-webhooks TENANT USER|* COUNT")
	}
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	got := 0
	for _, w := range state(ts).tenant(ts, args[0]).OAuthWebhooks() {
		if args[1] == "*" || w.User == args[1] {
			got++
		}
	}
	if got != want {
		ts.Fatalf("tenant %s has %d OAuth webhooks of %s, want %d", args[0], got, args[1], want)
	}
}

// TestSandboxBrowser: the fake browser of the scripts approves or denies
// and hands the answer to the loopback callback, as a browser would.
func TestSandboxBrowser(t *testing.T) {
	got := make(chan url.Values, 2)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query()
		fmt.Fprintln(w, "jwh: logged in, you can close this tab")
	}))
	defer cb.Close()
	srv, run, err := startSandbox(sandbox.Options{OAuth: sandbox.OAuthOptions{ClientID: oauthClientID}}, []string{"acme"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	if err := srv.AddCallbackURL(cb.URL + "/cb"); err != nil {
		t.Fatal(err)
	}
	authURL := run.URL() + sandbox.AuthorizePath + "?" + url.Values{
		"audience": {sandbox.Audience}, "client_id": {oauthClientID}, "scope": {"manage:jira-webhook"},
		"redirect_uri": {cb.URL + "/cb"}, "state": {"s"}, "response_type": {"code"},
	}.Encode()
	var stderr strings.Builder
	if code := browse([]string{authURL}, "bob", false, &stderr); code != 0 {
		t.Fatalf("approve: exit %d: %s", code, stderr.String())
	}
	if q := <-got; q.Get("code") == "" || q.Get("state") != "s" {
		t.Errorf("the callback got %v", q)
	}
	if r := srv.Requests(); r[len(r)-1].User != "bob" {
		t.Errorf("approved as %q, want bob", r[len(r)-1].User)
	}
	if code := browse([]string{authURL}, "", true, &stderr); code != 0 {
		t.Fatalf("deny: exit %d: %s", code, stderr.String())
	}
	if q := <-got; q.Get("error") != "access_denied" {
		t.Errorf("the callback got %v", q)
	}
	stderr.Reset()
	bad := strings.Replace(authURL, "client_id="+oauthClientID, "client_id=other", 1)
	if code := browse([]string{bad}, "", false, &stderr); code != 1 || !strings.Contains(stderr.String(), "No app has the client id") {
		t.Errorf("a refused request: exit %d: %s", code, stderr.String())
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
