package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// The scripts cannot give jwh a terminal on stdout or stderr, nor a clock:
// these tests run the whole CLI in-process (app.Run) with test streams
// that claim to be terminals and a clock of their own, against a sandbox
// on loopback.

// world is a sandbox with tenants and a jwh config for them.
type world struct {
	srv     *sandbox.Server
	run     *sandbox.Running
	env     map[string]string
	secrets tenant.SecretStore // the keyring, with every tenant's secret
	tenant  *sandbox.Tenant    // the first
}

func newWorld(tb testing.TB, opts sandbox.Options, names ...string) *world {
	tb.Helper()
	srv, run, err := startSandbox(opts, names, "")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { run.Close() })
	path := filepath.Join(tb.TempDir(), "config.json")
	if err := writeConfig(path, srv, run, names); err != nil {
		tb.Fatal(err)
	}
	first, _ := srv.Tenant(names[0])
	secrets := tenant.NewMemoryStore()
	for _, name := range names {
		if err := secrets.Set(name, []byte(sharedSecret)); err != nil {
			tb.Fatal(err)
		}
	}
	return &world{srv: srv, run: run, tenant: first, secrets: secrets,
		env: map[string]string{tenant.EnvConfig: path, tenant.EnvSecret: sharedSecret}}
}

// invocation is one run of jwh.
type invocation struct {
	ios             *iostreams.IOStreams
	in, out, errOut *bytes.Buffer
	now             func() time.Time
}

func (w *world) invocation() *invocation {
	ios, in, out, errOut := iostreams.Test()
	return &invocation{ios: ios, in: in, out: out, errOut: errOut, now: time.Now}
}

func (w *world) jwh(inv *invocation, args ...string) int {
	getenv := func(k string) string { return w.env[k] }
	f := &cmdutil.Factory{
		IOStreams: inv.ios,
		Version:   "test",
		Getenv:    getenv,
		Now:       inv.now,
		Config:    cmdutil.LoadConfigOnce(getenv),
		Secrets:   func() tenant.SecretStore { return w.secrets },
	}
	return app.Run(f, args)
}

func TestListOnTerminal(t *testing.T) {
	w := newWorld(t, sandbox.Options{}, "acme")
	if err := seed(w.tenant, 2); err != nil {
		t.Fatal(err)
	}
	inv := w.invocation()
	inv.ios.SetStdoutTTY(true)
	if code := w.jwh(inv, "list"); code != 0 {
		t.Fatalf("exit %d: %s", code, inv.errOut)
	}
	lines := strings.Split(strings.TrimRight(inv.out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 rows, got:\n%s", inv.out)
	}
	if !regexp.MustCompile(`^ID\s+EVENTS\s+JQL\s+EXPIRES\s*$`).MatchString(lines[0]) {
		t.Errorf("header: %q", lines[0])
	}
	row := regexp.MustCompile(`^1000\s+jira:issue_updated\s+project = P1\s+\d{4}-\d\d-\d\d \(in 30d\)\s*$`)
	if !row.MatchString(lines[1]) {
		t.Errorf("row: %q", lines[1])
	}

	// 33 days later on jwh's clock, the webhooks expired 3 days ago.
	later := w.invocation()
	later.ios.SetStdoutTTY(true)
	later.now = func() time.Time { return time.Now().Add(33 * 24 * time.Hour) }
	if code := w.jwh(later, "list"); code != 0 {
		t.Fatalf("exit %d: %s", code, later.errOut)
	}
	if got := strings.Count(later.out.String(), "(expired 3d ago)"); got != 2 {
		t.Errorf("want 2 webhooks that expired 3d ago:\n%s", later.out)
	}
	exp := w.invocation()
	exp.now = later.now
	if code := w.jwh(exp, "list", "-o", "json"); code != 0 || strings.Count(exp.out.String(), `"expired": true`) != 2 {
		t.Errorf("exit %d, want 2 expired in JSON:\n%s", code, exp.out)
	}
	within := w.invocation()
	within.now = func() time.Time { return time.Now().Add(25 * 24 * time.Hour) }
	if code := w.jwh(within, "list", "--expiring-within", "7d"); code != 0 || strings.Count(within.out.String(), "\n") != 2 {
		t.Errorf("25 days on, both expire within 7d: exit %d\n%s", code, within.out)
	}
}

// TestListEmptyOnTerminal: an empty listing prints nothing on standard
// output, and on a terminal a note on standard error that says what was
// looked at.
func TestListEmptyOnTerminal(t *testing.T) {
	w := newWorld(t, sandbox.Options{}, "acme")
	for _, tc := range []struct {
		args []string
		note string
	}{
		{[]string{"list"}, "No webhooks registered on tenant acme: add one with 'jwh register'\n"},
		{[]string{"list", "--expiring-within", "168h"}, "No webhooks of tenant acme expire within 7d\n"},
		{[]string{"list", "--start-at", "5"}, "No webhooks on this page (tenant acme, start at 5)\n"},
	} {
		inv := w.invocation()
		inv.ios.SetStdoutTTY(true)
		if code := w.jwh(inv, tc.args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", tc.args, code, inv.errOut)
		}
		if inv.out.Len() != 0 || inv.errOut.String() != tc.note {
			t.Errorf("%q: stdout %q, stderr %q; want nothing and %q", tc.args, inv.out, inv.errOut, tc.note)
		}
	}
}

func TestDeleteAllAsks(t *testing.T) {
	w := newWorld(t, sandbox.Options{}, "acme")
	if err := seed(w.tenant, 2); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		answer string
		code   int
		left   int
	}{{"n\n", 2, 2}, {"\n", 2, 2}, {"yes\n", 0, 0}} {
		inv := w.invocation()
		inv.ios.SetStdinTTY(true)
		inv.ios.SetStderrTTY(true)
		inv.in.WriteString(tc.answer)
		code := w.jwh(inv, "delete", "--all")
		if code != tc.code {
			t.Errorf("answer %q: exit %d, want %d; stderr:\n%s", tc.answer, code, tc.code, inv.errOut)
		}
		if !strings.Contains(inv.errOut.String(), "Delete all 2 webhooks of tenant acme? [y/N] ") {
			t.Errorf("answer %q: no question on stderr:\n%s", tc.answer, inv.errOut)
		}
		if n := len(w.tenant.Webhooks()); n != tc.left {
			t.Errorf("answer %q: %d webhooks left, want %d", tc.answer, n, tc.left)
		}
	}
}

func TestExtendAllTenantsOnTerminal(t *testing.T) {
	w := newWorld(t, sandbox.Options{}, "acme", "beta", "gamma")
	for _, name := range []string{"acme", "gamma"} {
		ten, _ := w.srv.Tenant(name)
		if err := seed(ten, 2); err != nil {
			t.Fatal(err)
		}
	}
	inv := w.invocation()
	inv.ios.SetStdoutTTY(true)
	inv.ios.SetStderrTTY(true)
	if code := w.jwh(inv, "extend", "--all-tenants", "--concurrency", "2"); code != 0 {
		t.Fatalf("exit %d: %s", code, inv.errOut)
	}
	// The progress counts the tenants done, each once, up to all of them,
	// whatever order they finish in; then the line is cleared.
	errOut := inv.errOut.String()
	var counts []string
	for _, m := range regexp.MustCompile(`\rExtending webhooks: (\d+)/3 tenants`).FindAllStringSubmatch(errOut, -1) {
		counts = append(counts, m[1])
	}
	if got := strings.Join(counts, " "); got != "0 1 2 3" || !strings.HasSuffix(errOut, "\r\x1b[K") {
		t.Errorf("progress on stderr %q: counts %s, want 0 1 2 3 and the line cleared", errOut, got)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^TENANT\s+RESULT\s+WEBHOOKS\s+DETAIL\s*$`),
		regexp.MustCompile(`^acme\s+extended\s+2\s+\d{4}-\d\d-\d\d \(in 30d\)\s*$`),
		regexp.MustCompile(`^beta\s+none\s+0\s+no webhooks\s*$`),
		regexp.MustCompile(`^gamma\s+extended\s+2\s+\d{4}-\d\d-\d\d \(in 30d\)\s*$`),
	}
	lines := strings.Split(strings.TrimRight(inv.out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("want %d lines:\n%s", len(want), inv.out)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d: %q does not match %s", i, lines[i], re)
		}
	}

	// --quiet shows no progress, even on a terminal.
	quiet := w.invocation()
	quiet.ios.SetStderrTTY(true)
	if code := w.jwh(quiet, "extend", "--all-tenants", "--quiet"); code != 0 || quiet.out.Len()+quiet.errOut.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, quiet.out, quiet.errOut)
	}
}

func TestRegisterRefusedOnTerminal(t *testing.T) {
	w := newWorld(t, sandbox.Options{}, "acme")
	if err := seed(w.tenant, 100); err != nil {
		t.Fatal(err)
	}
	inv := w.invocation()
	inv.ios.SetStdoutTTY(true)
	code := w.jwh(inv, "register", "--url", "https://app.example.com/hook", "--jql", "project = X", "--event", "jira:issue_created")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, inv.errOut)
	}
	if !regexp.MustCompile(`(?m)^-\s+jira:issue_created\s+project = X\s+refused: The app has reached the limit of 100 webhooks`).MatchString(inv.out.String()) {
		t.Errorf("stdout:\n%s", inv.out)
	}
}

func TestFailedOnTerminal(t *testing.T) {
	w := newWorld(t, sandbox.Options{}, "acme")
	now := time.Now()
	empty := w.invocation()
	empty.ios.SetStdoutTTY(true)
	if code := w.jwh(empty, "failed"); code != 0 || empty.out.Len() != 0 ||
		!strings.Contains(empty.errOut.String(), "No failed deliveries on tenant acme") {
		t.Errorf("none: exit %d, stdout %q, stderr %q", code, empty.out, empty.errOut)
	}

	if err := w.tenant.RecordFailedDelivery(sandbox.FailedDelivery{
		ID: "d-1", Body: `{"webhookEvent":"jira:issue_updated","issue":{"key":"PRJ-7"}}`,
		URL: "https://app.example.com/hook", FailureTime: now.Add(-5 * time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	inv := w.invocation()
	inv.ios.SetStdoutTTY(true)
	inv.now = func() time.Time { return now }
	if code := w.jwh(inv, "failed"); code != 0 {
		t.Fatalf("exit %d: %s", code, inv.errOut)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^ID\s+FAILED\s+EVENT\s+URL\s*$`),
		regexp.MustCompile(`^d-1\s+\d{4}-\d\d-\d\d \d\d:\d\d \(5h ago\)\s+jira:issue_updated PRJ-7\s+https://app\.example\.com/hook\s*$`),
	}
	lines := strings.Split(strings.TrimRight(inv.out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("want %d lines:\n%s", len(want), inv.out)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d: %q does not match %s", i, lines[i], re)
		}
	}
}

// Registrations on a network that drops 30 % of the connections: each one
// either succeeds (when its answer was lost, jwh lists the webhooks and
// finds it) or says that it may have been registered and how to check, and
// none is ever sent twice. The seed makes the run meet every case.
func TestRegisterUnderDrops(t *testing.T) {
	w := newWorld(t, sandbox.Options{DropRate: 0.3, Seed: registerSeed}, "acme")
	var plain, found, unsure int
	for i := range 12 {
		before := len(w.tenant.Webhooks())
		w.srv.ResetRequests()
		inv := w.invocation()
		code := w.jwh(inv, "register", "--url", "https://app.example.com/hook", "--jql", fmt.Sprintf("project = P%d", i), "--event", "jira:issue_updated")
		added := len(w.tenant.Webhooks()) - before
		posts := 0
		for _, r := range w.srv.Requests() {
			if r.Method == "POST" {
				posts++
			}
		}
		if posts != 1 {
			t.Errorf("register %d: %d POSTs, want 1", i, posts)
		}
		switch {
		case code == 0 && added == 1:
			hooks := w.tenant.Webhooks()
			id := strconv.FormatInt(hooks[len(hooks)-1].ID, 10)
			if !strings.HasPrefix(inv.out.String(), id+"\t") {
				t.Errorf("register %d: stdout %q, want the new id %s", i, inv.out, id)
			}
			if inv.errOut.Len() == 0 {
				plain++
				continue
			}
			found++
			if !regexp.MustCompile(`^tenant acme: Jira closed the connection \(1 attempt\) after the registration was sent; listing the webhooks shows them registered\n$`).MatchString(inv.errOut.String()) {
				t.Errorf("register %d: stderr %q", i, inv.errOut)
			}
		case code == 1 && added <= 1:
			unsure++
			if !regexp.MustCompile(`^jwh: tenant acme: .*they may have been registered.*; check with 'jwh list' before registering again\n$`).MatchString(inv.errOut.String()) || inv.out.Len() != 0 {
				t.Errorf("register %d: stdout %q, stderr %q", i, inv.out, inv.errOut)
			}
		default:
			t.Errorf("register %d: exit %d with %d webhooks added; stderr %q", i, code, added, inv.errOut)
		}
	}
	if plain == 0 || found == 0 || unsure == 0 {
		t.Errorf("%d registered, %d found after a lost answer, %d unsure: the seed no longer covers every case; choose another", plain, found, unsure)
	}
}

// registerSeed is a seed of the sandbox's faults under which
// TestRegisterUnderDrops meets a registration that succeeds, one whose
// answer is lost although it took effect, and one that may or may not have.
const registerSeed = 1
