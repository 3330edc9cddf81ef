//go:build keyring

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/sandbox"
)

// startSandbox runs a sandbox on loopback with one tenant at the context
// path /jira and returns it with the tenant's base URL and secret.
func startSandbox(t *testing.T) (*sandbox.Server, string, string) {
	t.Helper()
	sb := sandbox.New(sandbox.Options{})
	ten, err := sb.AddTenant(sandbox.TenantConfig{Name: "acme", AppKey: appKey, BasePath: "/jira"})
	if err != nil {
		t.Fatal(err)
	}
	running, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { running.Close() })
	return sb, running.BaseURL("acme"), ten.Secret()
}

// TestKeyringTenantLifecycle stores a secret in a real Secret Service with
// jwh tenant add, checks it with secret-tool, signs requests with it (jwh
// api, register, list against the sandbox), and removes it with jwh tenant
// remove.
func TestKeyringTenantLifecycle(t *testing.T) {
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Skip("SKIPPED: secret-tool is not installed, so the real-keyring test cannot check what jwh stored: apt-get install -y --no-install-recommends gnome-keyring libsecret-tools, then run under dbus-run-session with with-keyring.sh")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no session bus: run under 'env -u DISPLAY dbus-run-session -- sh with-keyring.sh go test -tags keyring ...'")
	}
	bin := buildJWH(t)
	sb, base, secret := startSandbox(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.json")
	env := cleanEnv(config)
	name := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	lookup := func() result { return run(t, env, "", "secret-tool", "lookup", "service", "jwh", "username", name) }
	t.Cleanup(func() { run(t, env, "", "secret-tool", "clear", "service", "jwh", "username", name) })

	r := run(t, env, secret+"\n", bin, "tenant", "add", name, "--base-url", base, "--app-key", appKey)
	if r.code != 0 {
		t.Fatalf("jwh tenant add: exit %d\n%s", r.code, r.errOut)
	}
	if got := lookup(); got.code != 0 || strings.TrimSuffix(got.out, "\n") != secret {
		t.Fatalf("secret-tool lookup after tenant add: exit %d, the stored secret is not the one piped in (stderr %s)", got.code, got.errOut)
	}
	cfg, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(cfg, []byte(secret)) {
		t.Error("the secret is in the config file")
	}

	r = run(t, env, "", bin, "tenant", "show", name)
	if r.code != 0 || !strings.Contains(r.out, "keyring") || strings.Contains(r.out+r.errOut, secret) {
		t.Errorf("jwh tenant show: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}

	// The secret comes from the keyring: JWH_SHARED_SECRET is not set.
	r = run(t, env, "", bin, "api", "--debug", "GET", "/rest/api/2/webhook")
	if r.code != 0 || !strings.Contains(r.out, `"values":[]`) {
		t.Fatalf("jwh api: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	if strings.Contains(r.out+r.errOut, secret) || !strings.Contains(r.errOut, "Authorization: JWT [redacted]") {
		t.Errorf("--debug output shows the secret or an unredacted token:\n%s", r.errOut)
	}
	reqs := sb.Requests()
	if len(reqs) != 1 || !reqs[0].Verified || reqs[0].Path != "/jira/rest/api/2/webhook" {
		t.Errorf("sandbox log %+v", reqs)
	}

	// The webhook commands use the keyring's secret too.
	r = run(t, env, "", bin, "register", "--url", "https://app.example.com/hook", "--jql", "project = KR", "--event", "jira:issue_updated")
	if r.code != 0 {
		t.Fatalf("jwh register: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	r = run(t, env, "", bin, "list", "-o", "json")
	if r.code != 0 || !strings.Contains(r.out, `"jqlFilter": "project = KR"`) {
		t.Fatalf("jwh list: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	for _, q := range sb.Requests() {
		if !q.Verified {
			t.Errorf("sandbox did not verify %s %s: %s", q.Method, q.Path, q.Reason)
		}
	}

	r = run(t, env, "", bin, "tenant", "remove", name)
	if r.code != 0 {
		t.Fatalf("jwh tenant remove: exit %d\n%s", r.code, r.errOut)
	}
	if got := lookup(); got.code == 0 || got.out != "" {
		t.Errorf("secret-tool lookup after tenant remove: exit %d, found %d bytes", got.code, len(got.out))
	}
	r = run(t, env, "", bin, "api", "/rest/api/2/webhook")
	if r.code != 3 {
		t.Errorf("jwh api after tenant remove: exit %d, want 3\n%s", r.code, r.errOut)
	}
}

// TestKeyringUnavailableNamesBothWaysOut runs jwh where no Secret Service
// can be reached: every command that needs the secret fails at once with
// exit status 3 and an error naming both ways out.
func TestKeyringUnavailableNamesBothWaysOut(t *testing.T) {
	bin := buildJWH(t)
	sb, base, secret := startSandbox(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "config.json")
	// A bus address where nothing listens: go-keyring fails to connect
	// (and cannot autolaunch a bus of its own). os/exec uses the last of
	// duplicate variables, so this one replaces the session's.
	noBus := cleanEnv(config, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-bus"))
	wantBoth := func(what string, r result) {
		t.Helper()
		t.Logf("%s failed in %s", what, r.took.Round(time.Millisecond))
		if r.code != 3 {
			t.Errorf("%s: exit %d, want 3\n%s", what, r.code, r.errOut)
		}
		if !strings.Contains(r.errOut, "Secret Service") || !strings.Contains(r.errOut, "JWH_SHARED_SECRET") || strings.Count(r.errOut, "\n") != 1 {
			t.Errorf("%s: stderr should be one line naming a Secret Service and JWH_SHARED_SECRET:\n%s", what, r.errOut)
		}
		if strings.Contains(r.out+r.errOut, secret) {
			t.Errorf("%s printed the secret", what)
		}
	}

	r := run(t, noBus, secret, bin, "tenant", "add", "acme", "--base-url", base, "--app-key", appKey)
	wantBoth("jwh tenant add", r)

	r = run(t, noBus, "", bin, "tenant", "add", "acme", "--base-url", base, "--app-key", appKey, "--no-keyring")
	if r.code != 0 {
		t.Fatalf("jwh tenant add --no-keyring: exit %d\n%s", r.code, r.errOut)
	}
	r = run(t, noBus, "", bin, "api", "/rest/api/2/myself")
	wantBoth("jwh api", r)
	r = run(t, noBus, "", bin, "token", "/rest/api/2/myself")
	wantBoth("jwh token", r)
	if n := len(sb.Requests()); n != 0 {
		t.Errorf("the sandbox saw %d requests, want none", n)
	}

	// The other way out.
	r = run(t, append(noBus, "JWH_SHARED_SECRET="+secret), "", bin, "api", "/rest/api/2/myself")
	if r.code != 0 {
		t.Errorf("jwh api with JWH_SHARED_SECRET: exit %d\n%s", r.code, r.errOut)
	}
}

// TestKeyringConcurrentTenantChanges is TestConcurrentTenantChanges with
// the secrets in a real keyring: afterwards every configured tenant has
// its own secret, and no removed tenant has one left behind.
func TestKeyringConcurrentTenantChanges(t *testing.T) {
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Skip("SKIPPED: secret-tool is not installed: apt-get install -y --no-install-recommends gnome-keyring libsecret-tools, then run under dbus-run-session with with-keyring.sh")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no session bus: run under 'env -u DISPLAY dbus-run-session -- sh with-keyring.sh go test -tags keyring ...'")
	}
	bin := buildJWH(t)
	config := filepath.Join(t.TempDir(), "jwh", "config.json")
	env := cleanEnv(config)
	prefix := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	var added, removed []string
	for i := range 8 {
		added = append(added, fmt.Sprintf("%s-t%d", prefix, i))
	}
	for i := range 4 {
		removed = append(removed, fmt.Sprintf("%s-r%d", prefix, i))
	}
	t.Cleanup(func() {
		for _, name := range append(added, removed...) {
			run(t, env, "", "secret-tool", "clear", "service", "jwh", "username", name)
		}
	})

	cfg := changeTenantsAtOnce(t, bin, env, nil, added, removed)

	// Whatever the config holds, each tenant in it has its own secret and
	// no other has one.
	for _, name := range append(added, removed...) {
		r := run(t, env, "", "secret-tool", "lookup", "service", "jwh", "username", name)
		_, err := cfg.Get(name)
		switch configured := err == nil; {
		case configured && (r.code != 0 || r.out != secretOf(name)):
			t.Errorf("tenant %s is configured but its keyring item holds %d bytes (exit %d), not its secret", name, len(r.out), r.code)
		case !configured && (r.code == 0 || r.out != ""):
			t.Errorf("tenant %s is not configured but has a secret in the keyring (an orphan)", name)
		}
	}
}
