package doctor_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

const (
	theSecret = "SECRET-d0c70r-test"
	appKey    = "com.example.app"
	clientKey = "0b5e3c2a-6f1d-4c8e-9a7b-3d2e1f0a9b8c"
)

// harness is a sandbox on loopback with the tenant acme at /jira, and a
// config that points at it; the secret comes from JWH_SHARED_SECRET
// unless a test says otherwise.
type harness struct {
	sb      *sandbox.Server
	run     *sandbox.Running
	acme    *sandbox.Tenant
	base    string // http://127.0.0.1:PORT/jira
	env     map[string]string
	secrets tenant.SecretStore
}

func newHarness(t *testing.T, opts sandbox.Options) *harness {
	t.Helper()
	sb := sandbox.New(opts)
	acme, err := sb.AddTenant(sandbox.TenantConfig{Name: "acme", AppKey: appKey, ClientKey: clientKey, BasePath: "/jira", Secret: theSecret})
	if err != nil {
		t.Fatal(err)
	}
	run, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	h := &harness{sb: sb, run: run, acme: acme, base: run.BaseURL("acme"), secrets: tenant.NewMemoryStore(), env: map[string]string{
		tenant.EnvConfig: filepath.Join(t.TempDir(), "config.json"),
		tenant.EnvSecret: theSecret,
	}}
	h.put(t, tenant.Tenant{Name: "acme", BaseURL: h.base, AppKey: appKey, ClientKey: clientKey})
	return h
}

// put adds or replaces a tenant in the config.
func (h *harness) put(t *testing.T, tn tenant.Tenant) {
	t.Helper()
	cfg, err := tenant.LoadConfig(h.env[tenant.EnvConfig])
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Update(context.Background(), func(cfg *tenant.Config) error {
		cfg.Put(tn)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// doctor runs jwh doctor with args as jwh would, and returns its exit
// status and output.
func (h *harness) doctor(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	getenv := func(k string) string { return h.env[k] }
	f := &cmdutil.Factory{
		IOStreams: ios,
		Version:   "test",
		Getenv:    getenv,
		Now:       time.Now,
		Config:    cmdutil.LoadConfigOnce(getenv),
		Secrets:   func() tenant.SecretStore { return h.secrets },
	}
	h.sb.ResetRequests()
	code = app.Run(f, append([]string{"doctor"}, args...))
	if strings.Contains(out.String()+errOut.String(), theSecret) {
		t.Error("the shared secret was printed")
	}
	for _, r := range h.sb.Requests() {
		if r.Method != "GET" {
			t.Errorf("jwh doctor sent %s %s: it may send only GETs", r.Method, r.Path)
		}
	}
	return code, out.String(), errOut.String()
}

// wantLines fails unless out has a line matching each pattern, in order.
func wantLines(t *testing.T, out string, patterns ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		if i == len(lines) {
			t.Fatalf("no line matching %q (in order) in:\n%s", p, out)
		}
		i++
	}
}

// register registers n webhooks on acme, through jwh itself.
func (h *harness) register(t *testing.T, n int) {
	t.Helper()
	ios, _, _, errOut := iostreams.Test()
	getenv := func(k string) string { return h.env[k] }
	f := &cmdutil.Factory{IOStreams: ios, Version: "test", Getenv: getenv, Now: time.Now,
		Config: cmdutil.LoadConfigOnce(getenv), Secrets: func() tenant.SecretStore { return h.secrets }}
	for i := range n {
		if code := app.Run(f, []string{"register", "-t", "acme", "--url", "https://app.example.com/hook",
			"--jql", "project = P" + string(rune('A'+i)), "--event", "jira:issue_updated"}); code != 0 {
			t.Fatalf("register: exit %d: %s", code, errOut)
		}
	}
}

func TestHealthy(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	h.register(t, 2)
	code, out, errOut := h.doctor(t)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
	}
	wantLines(t, out,
		`^tenant acme$`,
		`^  ✓ config         .*config\.json: connect tenant, base URL `+regexp.QuoteMeta(h.base)+`, app key com\.example\.app$`,
		`^  ✓ secret         from JWH_SHARED_SECRET \(overrides the keyring\)$`,
		`^  ✓ base-url       `+regexp.QuoteMeta(h.base)+` answers \(200 OK to GET /rest/api/2/myself\)$`,
		`^  ✓ clock          within a second of Jira's \(Date header\); Jira allows 30s$`,
		`^  ✓ auth           Jira takes the app's JWT \(app key com\.example\.app\)$`,
		`^  ✓ webhooks       2 webhooks; the first to expire at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 30d\)$`,
		`^  ✓ failed         no failed deliveries in the last 72 hours$`,
	)
	if n := strings.Count(out, "\n"); n != 8 {
		t.Errorf("%d lines, want 8:\n%s", n, out)
	}
	// Three GETs: myself, the webhooks, the failed deliveries.
	var paths []string
	for _, r := range h.sb.Requests() {
		paths = append(paths, r.Path)
	}
	if got := strings.Join(paths, " "); got != "/jira/rest/api/2/myself /jira/rest/api/2/webhook /jira/rest/api/2/webhook/failed" {
		t.Errorf("requests: %s", got)
	}

	// The secret in the keyring: the Resolver's words for it.
	delete(h.env, tenant.EnvSecret)
	if err := h.secrets.Set("acme", []byte(theSecret)); err != nil {
		t.Fatal(err)
	}
	code, out, _ = h.doctor(t)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out, `^  ✓ secret         stored in keyring \(service jwh, user acme\)$`)
}

func TestJSON(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	h.register(t, 1)
	if _, err := h.acme.SetExpiration(time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := h.doctor(t, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	var results []map[string]any
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, out)
	}
	var checks []string
	for _, r := range results {
		if len(r) != 5 || r["tenant"] != "acme" || r["detail"] == "" {
			t.Errorf("result %v: want exactly tenant, check, status, detail, fix", r)
		}
		checks = append(checks, r["check"].(string)+":"+r["status"].(string))
		if (r["status"] == "pass") != (r["fix"] == "") {
			t.Errorf("result %v: a fix exactly when it does not pass", r)
		}
	}
	if got := strings.Join(checks, " "); got != "config:pass secret:pass base-url:pass clock:pass auth:pass webhooks:fail failed:pass" {
		t.Errorf("checks %s", got)
	}
	want := `{"error":{"message":"1 check failed: tenant acme (webhooks)","exitCode":1,"kind":"failure"}}` + "\n"
	if errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestWebhooksAndFailedDeliveries(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	h.register(t, 3)
	now := time.Now()
	if _, err := h.acme.SetExpiration(now.Add(3*24*time.Hour), 1001); err != nil {
		t.Fatal(err)
	}
	if err := h.acme.RecordFailedDelivery(sandbox.FailedDelivery{Body: `{}`, URL: "https://gone.example.com/hook", FailureTime: now.Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := h.doctor(t)
	if code != 0 || errOut != "" {
		t.Fatalf("warnings pass: exit %d, stderr %q", code, errOut)
	}
	wantLines(t, out,
		`^  ! webhooks       1 of 3 expire within 7 days, the first at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 3d\): 1001$`,
		`^                   fix: jwh extend --all -t acme, and run it daily from cron \(docs/cron\.md\)$`,
		`^  ! failed         1 failed delivery in the last 72 hours, to https://gone\.example\.com/hook, at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(2h ago\)$`,
		`^                   fix: jwh failed -t acme lists them; a callback URL that no longer answers fills this list: see docs/troubleshooting\.md#a-tunnel-url-that-changed$`,
	)

	if _, err := h.acme.SetExpiration(now.Add(-31*24*time.Hour), 1000, 1002); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = h.doctor(t)
	if code != 1 || errOut != "jwh: 1 check failed: tenant acme (webhooks)\n" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	wantLines(t, out,
		`^  ✗ webhooks       2 of 3 expired, so Jira sends them nothing: 1000, 1002$`,
		`^                   fix: jwh extend --all -t acme \(expired webhooks can be extended again\), then check the cron job; see docs/troubleshooting\.md#webhooks-that-expired$`,
	)
}

// Test401Causes: each cause of a refused JWT in the guide, made by the
// sandbox, is told apart.
func Test401Causes(t *testing.T) {
	fixSecret := `fix: if the app is still installed, import its latest installed payload: jwh tenant import acme --file installed\.json; see docs/troubleshooting\.md#the-app-was-uninstalled-or-reinstalled$`
	for _, tc := range []struct {
		name  string
		opts  sandbox.Options
		setup func(t *testing.T, h *harness)
		lines []string
	}{
		{"clock behind", sandbox.Options{Clock: func() time.Time { return time.Now().Add(5 * time.Minute) }}, nil, []string{
			`^  ✓ base-url       .* answers \(401 Unauthorized to GET /rest/api/2/myself\)$`,
			`^  ✗ clock          this machine's clock is (4m59s|5m0s|5m1s) behind Jira's; Jira allows 30s$`,
			`^                   fix: set this machine's clock right \(on Linux: timedatectl set-ntp true\); see docs/troubleshooting\.md#the-clock-is-off$`,
			`^  ✗ auth           Jira refused the app's JWT: 401 Unauthorized \(JWT verification failed: expired at .*\): the clock is off \(see clock\)$`,
		}},
		{"clock ahead", sandbox.Options{Clock: func() time.Time { return time.Now().Add(-5 * time.Minute) }}, nil, []string{
			`^  ✗ clock          this machine's clock is (4m59s|5m0s|5m1s) ahead of Jira's; Jira allows 30s$`,
			`^  ✗ auth           Jira refused the app's JWT: 401 Unauthorized \(JWT verification failed: issued in the future.*\): the clock is off \(see clock\)$`,
		}},
		{"app key is the client key", sandbox.Options{}, func(t *testing.T, h *harness) {
			h.put(t, tenant.Tenant{Name: "acme", BaseURL: h.base, AppKey: clientKey, ClientKey: clientKey})
		}, []string{
			`^  ✓ clock `,
			`^  ✗ auth           Jira refused the app's JWT: 401 Unauthorized \(JWT verification failed: unknown issuer .*\): the app key is the tenant's client key ` + clientKey + `$`,
			`^                   fix: import the installed payload again, whose key is the app key and clientKey the client key: jwh tenant import acme --file installed\.json; see docs/troubleshooting\.md#the-app-key-and-the-client-key-mixed-up$`,
		}},
		{"app key looks like a client key", sandbox.Options{}, func(t *testing.T, h *harness) {
			h.put(t, tenant.Tenant{Name: "acme", BaseURL: h.base, AppKey: "jira:7c4f3b0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"})
		}, []string{
			`^  ✗ auth           .*: the app key jira:7c4f3b0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f looks like a client key, not the key of an app descriptor$`,
		}},
		{"context path", sandbox.Options{}, func(t *testing.T, h *harness) {
			h.put(t, tenant.Tenant{Name: "acme", BaseURL: h.base + "/wiki/x", AppKey: appKey})
		}, []string{
			`^  ✓ base-url       .*/jira/wiki/x answers \(401 Unauthorized to GET /rest/api/2/myself\)$`,
			`^  ✗ auth           Jira refused the app's JWT: 401 Unauthorized \(JWT verification failed: qsh mismatch.*\): the base URL's path /wiki/x is not the site's: a request to http://127\.0\.0\.1:\d+/jira, signed for it, is taken$`,
			`^                   fix: use the site's base URL, http://127\.0\.0\.1:\d+/jira, as the installed payload's baseUrl has it: jwh tenant import acme --file installed\.json; see docs/troubleshooting\.md#a-context-path-in-the-base-url$`,
		}},
		{"a new secret", sandbox.Options{}, func(t *testing.T, h *harness) {
			h.env[tenant.EnvSecret] = "the-secret-before-the-reinstall"
		}, []string{
			`^  ✗ auth           Jira refused the app's JWT: 401 Unauthorized \(JWT verification failed: bad signature.*\): the shared secret is not the one Jira has: the app was reinstalled \(a new secret\) or uninstalled$`,
			fixSecret,
		}},
		{"uninstalled", sandbox.Options{}, func(t *testing.T, h *harness) { h.acme.Deny(401) }, []string{
			`^  ✗ auth           Jira refused the app's JWT: 401 Unauthorized \(Client must be authenticated to access this resource\.\): the shared secret is not the one Jira has: the app was reinstalled \(a new secret\) or uninstalled$`,
			fixSecret,
		}},
		{"no READ scope", sandbox.Options{}, func(t *testing.T, h *harness) { h.acme.Deny(403) }, []string{
			`^  ✗ auth           Jira refused the app's JWT: 403 Forbidden \(The app is not allowed to access this resource on this tenant\.\): the app may not read this site: its descriptor lacks the READ scope, or the app is disabled there$`,
			`^                   fix: the app's descriptor needs the READ scope, which the webhook API takes; see docs/troubleshooting\.md#missing-scopes$`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts)
			if tc.setup != nil {
				tc.setup(t, h)
			}
			code, out, errOut := h.doctor(t)
			if code != 3 {
				t.Errorf("exit %d, want 3 (credentials)", code)
			}
			if !strings.HasPrefix(errOut, "jwh: ") || !strings.Contains(errOut, "(") {
				t.Errorf("stderr %q", errOut)
			}
			wantLines(t, out, tc.lines...)
			if strings.Contains(out, "webhooks") {
				t.Errorf("the webhooks were checked after a refused JWT:\n%s", out)
			}
		})
	}
}

// TestClockWarning: a clock 15 s off still works, with a warning.
func TestClockWarning(t *testing.T) {
	h := newHarness(t, sandbox.Options{Clock: func() time.Time { return time.Now().Add(15 * time.Second) }})
	code, out, _ := h.doctor(t)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	wantLines(t, out,
		`^  ! clock          this machine's clock is (14|15|16)s behind Jira's; Jira allows 30s$`,
		`^  ✓ auth `,
	)
}

func TestBaseURLWithoutJira(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	h.put(t, tenant.Tenant{Name: "acme", BaseURL: h.run.URL() + "/nothing", AppKey: appKey})
	code, out, _ := h.doctor(t)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantLines(t, out,
		`^  ✗ base-url       http://127\.0\.0\.1:\d+/nothing answers 404 Not Found to GET /rest/api/2/myself: no Jira REST API there$`,
		`^                   fix: check the base URL against the site's: import the app's installed payload again: jwh tenant import acme --file installed\.json$`,
		`^  ✓ clock `,
	)

	// Nothing answers at all.
	h.put(t, tenant.Tenant{Name: "acme", BaseURL: "http://127.0.0.1:1", AppKey: appKey})
	h.env[cmdutilEnvTotalTimeout] = "5s"
	code, out, _ = h.doctor(t)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantLines(t, out,
		`^  ✗ base-url       Jira at 127\.0\.0\.1:1 refused the connection \(\d attempts? over .*\); check the tenant's base URL, or try again later$`,
		`^                   fix: check the tenant's base URL \(jwh tenant show acme\) and the network; docs/scripting\.md#network says what is retried$`,
	)
}

const cmdutilEnvTotalTimeout = cmdutil.EnvTotalTimeout

func TestNoSecret(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	delete(h.env, tenant.EnvSecret)
	code, out, errOut := h.doctor(t)
	if code != 3 || errOut != "jwh: 1 check failed: tenant acme (secret)\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	wantLines(t, out,
		`^  ✗ secret         not in the keyring \(service jwh, user acme\), and JWH_SHARED_SECRET is not set$`,
		`^                   fix: store one with 'jwh tenant add acme' \(needs a Secret Service\) or set JWH_SHARED_SECRET; see docs/troubleshooting\.md#no-secret-or-the-keyring-is-unavailable$`,
	)
	if n := len(h.sb.Requests()); n != 0 {
		t.Errorf("%d requests sent without a secret", n)
	}
}

func TestDamagedConfig(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	if err := os.WriteFile(h.env[tenant.EnvConfig], []byte(`{"tenants": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := h.doctor(t)
	if code != 1 || errOut != "jwh: 1 check failed: config\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	wantLines(t, out,
		`^  ✗ config         .*config\.json is damaged \(unexpected end of JSON input\)$`,
		`^                   fix: repair the file, or move it away and add the tenants again \(jwh tenant import, jwh tenant login\)$`,
	)
}

func TestAllTenants(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	beta, err := h.sb.AddTenant(sandbox.TenantConfig{Name: "beta", AppKey: appKey, Secret: "beta-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.secrets.Set("beta", []byte("beta-secret")); err != nil {
		t.Fatal(err)
	}
	h.put(t, tenant.Tenant{Name: "beta", BaseURL: h.run.BaseURL("beta"), AppKey: appKey})
	h.put(t, tenant.Tenant{Name: "gamma", BaseURL: h.run.BaseURL("beta"), AppKey: appKey})
	beta.Deny(403)
	code, out, errOut := h.doctor(t, "--all-tenants")
	if code != 3 || errOut != "jwh: 2 checks failed: tenant beta (auth); tenant gamma (secret)\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	wantLines(t, out,
		`^tenant acme$`, `^  ✓ secret         from JWH_SHARED_SECRET`, `^  ✓ failed `, `^$`,
		`^tenant beta$`, `^  ✓ secret         stored in keyring \(service jwh, user beta\)$`, `^  ✗ auth           Jira refused the app's JWT: 403 Forbidden`, `^$`,
		// JWH_SHARED_SECRET stands for the selected tenant (acme) only.
		`^tenant gamma$`, `^  ✗ secret         not in the keyring \(service jwh, user gamma\)$`,
		`^                   fix: store one with 'jwh tenant add gamma' \(needs a Secret Service\) or set JWH_SHARED_SECRET and select gamma`,
	)
}
