package replaycmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/tenant"
)

const acmeKey = "5e8f3a42-acme-client-key"

var acmeSecret = []byte("SECRET-of-acme-b6f1c0ffee")

func TestNewCmdReplay(t *testing.T) {
	cmdtest.Flags(t, NewCmdReplay, []cmdtest.Case[Options]{
		{Args: "h.ndjson", Want: Options{File: "h.ndjson", BasePath: "/"}},
		{Args: "h.ndjson -t acme --to http://localhost:3000/hook --same-identifier --base-path /app --dry-run --last 2 --event jira:issue_updated",
			Want: Options{File: "h.ndjson", TenantFlag: "acme", To: "http://localhost:3000/hook", SameIdentifier: true, BasePath: "/app",
				DryRun: true, Filter: cmdutil.FilterFlags{Last: 2, Events: []string{"jira:issue_updated"}}}},
		{Args: "h.ndjson -o json", Want: Options{File: "h.ndjson", BasePath: "/", JSON: true}},
		{Args: "h.ndjson --dry-run -o json", WantErr: "--dry-run prints text: leave out -o json"},
		{Args: "", WantErr: "missing the history file, as written by jwh listen --save"},
		{Args: "h.ndjson --to localhost:3000", WantErr: `invalid --to "localhost:3000": not an absolute URL: give one such as http://localhost:3000/webhook`},
		{Args: "h.ndjson --base-path app", WantErr: `invalid --base-path "app": it must start with /`},
		{Args: "h.ndjson --last -1", WantErr: "invalid --last -1: at least 1"},
	}, cmpopts.IgnoreFields(cmdutil.FilterFlags{}, "Filter"))
}

// app is the app's webhook endpoint: a listen.Server checking Connect
// JWTs on /app/hook relative to the base path /app, as the app's own
// check would, keeping the records of what it received.
type app struct {
	url  string
	mu   sync.Mutex
	recs []*listen.Record
}

func newApp(t *testing.T, respond listen.Respond) *app {
	t.Helper()
	var ts listen.Tenants
	if err := ts.Add("acme", acmeKey, acmeSecret); err != nil {
		t.Fatal(err)
	}
	a := &app{}
	srv, err := listen.New(listen.Config{
		Path: "/app/hook", BasePath: "/app", Secrets: ts, Leeway: listen.DefaultLeeway, Respond: respond,
		OnEvent: func(listen.Event) {},
		OnRecord: func(r *listen.Record) {
			rec, _ := listen.ParseLine(r.AppendLine(nil))
			a.mu.Lock()
			a.recs = append(a.recs, rec)
			a.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	a.url = hs.URL
	return a
}

func (a *app) received() []*listen.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*listen.Record(nil), a.recs...)
}

// harness is a config with tenant acme, its secret in a memory store, and
// a history file of a listener's run on another path.
type harness struct {
	ios         *iostreams.IOStreams
	out, errOut *bytes.Buffer
	f           *cmdutil.Factory
	store       tenant.SecretStore
	file        string
	recs        []*listen.Record
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	cfgPath := filepath.Join(t.TempDir(), "jwh", "config.json")
	cfg, err := tenant.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Update(context.Background(), func(c *tenant.Config) error {
		c.Put(tenant.Tenant{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: acmeKey})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	store := tenant.NewMemoryStore()
	store.Set("acme", acmeSecret)
	env := map[string]string{tenant.EnvConfig: cfgPath}
	h := &harness{ios: ios, out: out, errOut: errOut, store: store}
	h.f = &cmdutil.Factory{
		IOStreams: ios, Getenv: func(k string) string { return env[k] }, Now: time.Now,
		Config:  cmdutil.LoadConfigOnce(func(k string) string { return env[k] }),
		Secrets: func() tenant.SecretStore { return h.store },
	}
	at := time.Now().Add(-72 * time.Hour)
	body := func(key string) []byte {
		return []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"` + key + `"},"big":123456789012345678901234567890}`)
	}
	h.recs = []*listen.Record{
		{Seq: 1, Received: at, Method: "POST", Path: "/hook?x=1", Listener: "http://127.0.0.1:1", Body: body("PRJ-1"),
			Tenant: "acme", Kind: "connect", Verdict: "verified", Identifier: "id-1", Status: 200, Event: "jira:issue_updated", Issue: "PRJ-1"},
		{Seq: 2, Received: at, Method: "POST", Path: "/hook", Listener: "http://127.0.0.1:1", Verdict: "refused", Check: "qsh", Status: 401, Identifier: "id-x"},
		{Seq: 3, Received: at, Method: "POST", Path: "/hook", Listener: "http://127.0.0.1:1", Body: body("PRJ-2"),
			Verdict: "unverified", Identifier: "id-2", Retry: 1, Status: 200, Event: "jira:issue_updated", Issue: "PRJ-2"},
	}
	var b bytes.Buffer
	for _, r := range h.recs {
		b.Write(r.AppendLine(nil))
		b.WriteByte('\n')
	}
	h.file = filepath.Join(t.TempDir(), "deliveries.ndjson")
	if err := os.WriteFile(h.file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.Contains(out.String()+errOut.String(), string(acmeSecret)) {
			t.Error("the secret was printed")
		}
	})
	return h
}

func (h *harness) run(t *testing.T, argv ...string) error {
	t.Helper()
	h.out.Reset()
	h.errOut.Reset()
	return cmdtest.Run(NewCmdReplay(h.f, nil), argv...)
}

var latencyRE = regexp.MustCompile(`\d+\.\dms`)

func TestReplay(t *testing.T) {
	h := newHarness(t)
	a := newApp(t, listen.Respond{})
	if err := h.run(t, h.file, "--to", a.url+"/app/hook", "--base-path", "/app"); err != nil {
		t.Fatalf("%v\n%s", err, h.errOut)
	}
	got := a.received()
	if len(got) != 2 {
		t.Fatalf("the app received %d deliveries, want 2 (the refusal is not one)", len(got))
	}
	for i, want := range []*listen.Record{h.recs[0], h.recs[2]} {
		r := got[i]
		if r.Verdict != listen.VerdictVerified || r.Status != 200 || !bytes.Equal(r.Body, want.Body) ||
			r.Identifier == want.Identifier || r.Retry != 0 || r.Path != "/app/hook?x=1" && i == 0 {
			t.Errorf("the app received %+v", r)
		}
	}
	lines := strings.Split(strings.TrimSpace(latencyRE.ReplaceAllString(h.out.String(), "Nms")), "\n")
	if len(lines) != 2 || lines[0] != "→ 200 OK  Nms  jira:issue_updated PRJ-1  (identifier "+got[0].Identifier+")" ||
		lines[1] != "→ 200 OK  Nms  jira:issue_updated PRJ-2  (identifier "+got[1].Identifier+")" {
		t.Errorf("stdout:\n%s", h.out)
	}

	// Again with the same identifiers: the app sees the second
	// attempts of deliveries it never had, then duplicates.
	for range 2 {
		if err := h.run(t, h.file, "--to", a.url+"/app/hook", "--base-path", "/app", "--same-identifier", "--issue", "PRJ-2"); err != nil {
			t.Fatal(err)
		}
	}
	got = a.received()
	if r := got[len(got)-1]; !r.Duplicate || r.Identifier != "id-2" || r.Retry != 1 {
		t.Errorf("the second --same-identifier replay: %+v", r)
	}
}

func TestReplayNot2xx(t *testing.T) {
	h := newHarness(t)
	a := newApp(t, listen.Respond{Status: 500})
	err := h.run(t, h.file, "--to", a.url+"/app/hook", "--base-path", "/app", "-o", "json")
	if err == nil || err.Error() != "replays not answered 2xx: 2 of 2" || cmdutil.ExitCode(err) != 1 {
		t.Errorf("error %v", err)
	}
	var results []map[string]any
	if err := json.Unmarshal(h.out.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, h.out)
	}
	if len(results) != 2 || results[0]["status"] != 500.0 || results[0]["ok"] != false || results[0]["seq"] != 1.0 ||
		results[0]["error"] != nil || results[1]["issue"] != "PRJ-2" || results[0]["target"] != a.url+"/app/hook?x=1" {
		t.Errorf("results %v", results)
	}

	// Without --base-path the qsh is over the whole path: the app refuses.
	err = h.run(t, h.file, "--to", a.url+"/app/hook", "--last", "1")
	if cmdutil.ExitCode(err) != 1 || !strings.Contains(h.out.String(), "→ 401 Unauthorized  ") ||
		!strings.Contains(h.out.String(), `"invalid JWT: qsh"`) {
		t.Errorf("%v\n%s", err, h.out)
	}
}

// TestReplayNoAnswer: a target that does not answer is a failed replay.
func TestReplayNoAnswer(t *testing.T) {
	h := newHarness(t)
	gone := httptest.NewServer(nil)
	gone.Close()
	err := h.run(t, h.file, "--to", gone.URL, "--last", "1")
	if cmdutil.ExitCode(err) != 1 || !strings.HasPrefix(h.out.String(), "→ ✗ no answer: ") {
		t.Errorf("%v\n%s", err, h.out)
	}
}

func TestReplayCredentials(t *testing.T) {
	h := newHarness(t)
	a := newApp(t, listen.Respond{})
	h.store = tenant.NewMemoryStore() // no secret
	err := h.run(t, h.file, "--to", a.url+"/app/hook")
	if cmdutil.ExitCode(err) != 3 || !strings.Contains(err.Error(), `no shared secret for tenant "acme"`) {
		t.Errorf("no secret: %v (exit %d)", err, cmdutil.ExitCode(err))
	}
	if n := len(a.received()); n != 0 {
		t.Errorf("%d sent without a secret", n)
	}

	h = newHarness(t)
	err = h.run(t, h.file, "--to", a.url+"/app/hook", "-t", "globex")
	if cmdutil.ExitCode(err) != 3 || !strings.Contains(err.Error(), `no such tenant "globex"`) {
		t.Errorf("--tenant globex: %v (exit %d)", err, cmdutil.ExitCode(err))
	}
	if n := len(a.received()); n != 0 {
		t.Errorf("%d sent", n)
	}
}

func TestReplayDryRun(t *testing.T) {
	h := newHarness(t)
	if err := h.run(t, h.file, "--dry-run"); err != nil {
		t.Fatal(err)
	}
	want := "would send POST http://127.0.0.1:1/hook?x=1  jira:issue_updated PRJ-1  (a new identifier)\n" +
		"would send POST http://127.0.0.1:1/hook  jira:issue_updated PRJ-2  (a new identifier)\n"
	if h.out.String() != want || h.errOut.String() != "Dry run: nothing was sent\n" {
		t.Errorf("stdout:\n%s\nstderr:\n%s", h.out, h.errOut)
	}
}

// TestReplayNothing: a selection with no delivery in it sends nothing and
// succeeds: an empty array with -o json, nothing on a pipe, a line on a
// terminal's standard error.
func TestReplayNothing(t *testing.T) {
	h := newHarness(t)
	a := newApp(t, listen.Respond{})
	only := []string{h.file, "--to", a.url, "--event", "comment_created"}
	if err := h.run(t, append(only, "-o", "json")...); err != nil || h.out.String() != "[]\n" || h.errOut.Len() != 0 {
		t.Errorf("-o json: %v\nstdout %q\nstderr %q", err, h.out, h.errOut)
	}
	if err := h.run(t, only...); err != nil || h.out.Len() != 0 || h.errOut.Len() != 0 {
		t.Errorf("piped: %v\nstdout %q\nstderr %q", err, h.out, h.errOut)
	}
	h.ios.SetStderrTTY(true)
	if err := h.run(t, only...); err != nil || h.out.Len() != 0 || h.errOut.String() != "no deliveries in "+h.file+" to replay\n" {
		t.Errorf("terminal: %v\nstdout %q\nstderr %q", err, h.out, h.errOut)
	}
	if n := len(a.received()); n != 0 {
		t.Errorf("%d sent", n)
	}
}
