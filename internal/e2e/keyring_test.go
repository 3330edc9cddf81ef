//go:build keyring

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

// OAuth app of TestKeyringOAuthLogin.
const (
	oauthClientID     = "e2e-keyring-client"
	oauthClientSecret = "e2e-keyring-client-secret-3b9d"
)

// pasteLogin runs jwh tenant login --no-browser as a user at a terminal
// would: the client secret on standard input, then, once jwh has printed
// the authorization URL, the address the sandbox sends user's browser to.
func pasteLogin(t *testing.T, env []string, bin, user string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"tenant", "login", "--no-browser"}, args...)...)
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	if _, err := io.WriteString(stdin, oauthClientSecret+"\n"); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderrPipe)
	for sc.Scan() {
		line := sc.Text()
		errOut.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "  "); ok && strings.Contains(u, sandbox.AuthorizePath+"?") {
			loc, err := sandbox.Approve(nil, u, user)
			if err != nil {
				t.Errorf("the sandbox did not approve: %v", err)
				break
			}
			_, _ = io.WriteString(stdin, loc.String()+"\n")
		}
	}
	stdin.Close()
	err = cmd.Wait()
	r := result{out: out.String(), errOut: errOut.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestKeyringOAuthLogin logs in to an OAuth tenant through the paste flow
// against the sandbox, with its bundle in a real Secret Service; a command
// then refreshes the token (the sandbox's tokens live 30 s, under jwh's 60
// s margin) and the rotated refresh token is what the keyring holds. The
// config holds no secret; tenant remove deletes the keyring item.
func TestKeyringOAuthLogin(t *testing.T) {
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Skip("SKIPPED: secret-tool is not installed: apt-get install -y --no-install-recommends gnome-keyring libsecret-tools, then run under dbus-run-session with with-keyring.sh")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no session bus: run under 'env -u DISPLAY dbus-run-session -- sh with-keyring.sh go test -tags keyring ...'")
	}
	bin := buildJWH(t)
	var mu sync.Mutex
	var issued []string
	sb := sandbox.New(sandbox.Options{OAuth: sandbox.OAuthOptions{
		ClientID: oauthClientID, ClientSecret: oauthClientSecret, AccessTokenTTL: 30 * time.Second,
		OnIssue: func(access, refresh string) {
			mu.Lock()
			defer mu.Unlock()
			issued = append(issued, access, refresh)
		},
	}})
	if _, err := sb.AddTenant(sandbox.TenantConfig{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	running, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { running.Close() })
	config := filepath.Join(t.TempDir(), "jwh", "config.json")
	env := cleanEnv(config)
	name := fmt.Sprintf("e2e-oauth-%d", time.Now().UnixNano())
	t.Cleanup(func() { run(t, env, "", "secret-tool", "clear", "service", "jwh", "username", name) })
	item := func() map[string]any {
		t.Helper()
		r := run(t, env, "", "secret-tool", "lookup", "service", "jwh", "username", name)
		if r.code != 0 {
			return nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(r.out), &m); err != nil {
			t.Fatalf("the keyring item is not the JSON bundle: %v", err)
		}
		return m
	}

	r := pasteLogin(t, env, bin, "alice", name, "--client-id", oauthClientID, "--auth-url", running.URL(), "--api-url", running.URL())
	if r.code != 0 || !strings.Contains(r.errOut, "Secrets stored in the keyring (service jwh, user "+name+")") {
		t.Fatalf("jwh tenant login: exit %d\n%s", r.code, r.errOut)
	}
	first := item()
	if first == nil || first["clientSecret"] != oauthClientSecret || first["refreshToken"] == "" || first["accessToken"] == "" {
		t.Fatalf("keyring item after login: %v", first != nil)
	}

	// A command that refreshes: the rotated refresh token is stored.
	r = run(t, env, "", bin, "-t", name, "api", "--debug", "/rest/api/2/myself")
	if r.code != 0 || !strings.Contains(r.errOut, "grant_type=refresh_token") {
		t.Fatalf("jwh api: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	second := item()
	if second == nil || second["refreshToken"] == first["refreshToken"] || second["accessToken"] == first["accessToken"] || second["loginAt"] != first["loginAt"] {
		t.Error("the keyring does not hold the rotated tokens after the refresh")
	}
	var refreshes int
	for _, q := range sb.TokenRequests() {
		if q.Grant == "refresh_token" && q.GrantError == "" {
			refreshes++
		}
	}
	if refreshes != 1 {
		t.Errorf("%d refreshes, want 1", refreshes)
	}

	r = run(t, env, "", bin, "tenant", "show", name)
	if r.code != 0 || !strings.Contains(r.out, "tokens:         stored in keyring (service jwh, user "+name+")") {
		t.Errorf("jwh tenant show: exit %d\n%s", r.code, r.out)
	}

	// jwh token prints the access token the keyring holds (it lives 30 s:
	// jwh refreshes it first, and the keyring then holds the new one).
	r = run(t, env, "", bin, "-t", name, "token")
	third := item()
	if tok := strings.TrimSuffix(r.out, "\n"); r.code != 0 || third == nil || tok == "" || tok != third["accessToken"] {
		t.Errorf("jwh token: exit %d, not the keyring's access token\n%s", r.code, r.errOut)
	}

	// A listener verifies the OAuth app's delivery with the client secret
	// it reads from the keyring; jwh trigger reads the tokens there.
	listener := startListener(t, env, bin, name)
	r = run(t, env, "", bin, "-t", name, "register", "--url", listener.url, "--jql", "project = KR", "--event", "jira:issue_updated")
	if r.code != 0 {
		t.Fatalf("jwh register: exit %d\n%s", r.code, r.errOut)
	}
	r = run(t, env, "", bin, "-t", name, "trigger", "jira:issue_updated", "--issue-key", "KR-1")
	if r.code != 0 {
		t.Fatalf("jwh trigger: exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errOut)
	}
	if out := listener.stop(t); !strings.Contains(out, "KR-1") || !strings.Contains(out, "✓ verified (oauth tenant "+name+")") {
		t.Errorf("jwh listen did not verify the delivery:\n%s", out)
	}
	cfg, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	secrets := append([]string{oauthClientSecret}, issued...)
	mu.Unlock()
	for _, s := range secrets {
		if s != "" && (bytes.Contains(cfg, []byte(s)) || strings.Contains(r.out+r.errOut, s)) {
			t.Error("a secret is in the config file or the output")
		}
	}

	r = run(t, env, "", bin, "tenant", "remove", name)
	if r.code != 0 {
		t.Fatalf("jwh tenant remove: exit %d\n%s", r.code, r.errOut)
	}
	if item() != nil {
		t.Error("the keyring item is left after tenant remove")
	}
}

// listening is jwh listen running as a process.
type listening struct {
	url  string // where it receives deliveries
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

// startListener runs jwh listen --quiet for tenant on a port the system
// picks, and waits until it is ready: its "Ready!" line says where it
// listens.
func startListener(t *testing.T, env []string, bin, tenant string) *listening {
	t.Helper()
	l := &listening{out: new(bytes.Buffer), done: make(chan error, 1)}
	l.cmd = exec.Command(bin, "-t", tenant, "listen", "--addr", "127.0.0.1:0", "--quiet")
	l.cmd.Env = env
	l.cmd.Stdout = l.out
	stderr, err := l.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.cmd.Process.Kill() })
	ready := make(chan string, 1) // the URL, or "" when it stopped first
	go func() {
		sc := bufio.NewScanner(stderr)
		said := false
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "Ready! Listening for Jira's deliveries on "); ok && !said {
				said = true
				ready <- strings.TrimSuffix(rest, " (Ctrl-C to stop)")
			}
		}
		if !said {
			ready <- ""
		}
		l.done <- l.cmd.Wait()
	}()
	select {
	case l.url = <-ready:
	case <-time.After(time.Minute):
		t.Fatal("jwh listen not ready within a minute")
	}
	if l.url == "" {
		t.Fatal("jwh listen stopped before it was ready")
	}
	return l
}

// stop interrupts the listener and returns its standard output.
func (l *listening) stop(t *testing.T) string {
	t.Helper()
	if err := l.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.done:
	case <-time.After(time.Minute):
		t.Fatal("jwh listen did not stop within a minute of SIGINT")
	}
	return l.out.String()
}
