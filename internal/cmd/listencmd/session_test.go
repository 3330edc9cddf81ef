package listencmd

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// sessionWorld is a sandbox with tenant acme and a jwh config for it, for
// jwh listen --register on a terminal (the scripts cover the rest).
type sessionWorld struct {
	ten  *sandbox.Tenant
	f    *cmdutil.Factory
	ios  *iostreams.IOStreams
	in   *strings.Builder
	errs *syncBuffer
}

func newSessionWorld(t *testing.T) *sessionWorld {
	t.Helper()
	srv := sandbox.New(sandbox.Options{})
	ten, err := srv.AddTenant(sandbox.TenantConfig{Name: "acme", Secret: string(secretOf("acme"))})
	if err != nil {
		t.Fatal(err)
	}
	run, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	cfgPath := filepath.Join(t.TempDir(), "jwh", "config.json")
	cfg, err := tenant.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Update(context.Background(), func(c *tenant.Config) error {
		c.Put(tenant.Tenant{Name: "acme", BaseURL: run.BaseURL("acme"), AppKey: ten.AppKey(), ClientKey: ten.ClientKey()})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	store := tenant.NewMemoryStore()
	store.Set("acme", secretOf("acme"))
	env := map[string]string{tenant.EnvConfig: cfgPath}
	getenv := func(k string) string { return env[k] }
	ios, _, _, _ := iostreams.Test()
	w := &sessionWorld{ten: ten, ios: ios, errs: &syncBuffer{}}
	ios.Out, ios.ErrOut = &syncBuffer{}, w.errs
	w.f = &cmdutil.Factory{
		IOStreams: ios, Version: "test", Getenv: getenv, Now: time.Now,
		Config: cmdutil.LoadConfigOnce(getenv), Secrets: func() tenant.SecretStore { return store },
	}
	return w
}

func (w *sessionWorld) client(t *testing.T) *jira.Client {
	t.Helper()
	c, _, err := w.f.JiraClient("", false)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor waits, generously, until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRegisterAsksAboutLeftovers: on a terminal, jwh listen --register
// asks before deleting a webhook an earlier session left, and does what
// the answer says.
func TestRegisterAsksAboutLeftovers(t *testing.T) {
	for _, tc := range []struct {
		answer  string
		deleted bool
	}{{"y\n", true}, {"n\n", false}} {
		t.Run(strings.TrimSpace(tc.answer), func(t *testing.T) {
			w := newSessionWorld(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			public := "http://" + ln.Addr().String()
			left, err := w.client(t).RegisterWebhooks(context.Background(), jira.RegisterRequest{URL: public + "/hook",
				Webhooks: []jira.WebhookSpec{{JQLFilter: "project = OLD", Events: []string{"jira:issue_created"}}}})
			if err != nil || left[0].ID == 0 {
				t.Fatal(left, err)
			}

			var opts *Options
			cmd := NewCmdListen(w.f, func(o *Options) error { opts = o; return nil })
			if err := cmdtest.Run(cmd, "--register", "--public-url", public, "--path", "/hook",
				"--jql", "project = PRJ", "--event", "jira:issue_updated"); err != nil {
				t.Fatal(err)
			}
			opts.Listener = ln
			w.ios.In = strings.NewReader(tc.answer)
			w.ios.SetStdinTTY(true)
			w.ios.SetStderrTTY(true)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- listenRun(ctx, opts) }()
			want := 2
			if tc.deleted {
				want = 1
			}
			waitFor(t, "the session's webhook is registered", func() bool {
				hooks := w.ten.Webhooks()
				return len(hooks) == want && hooks[len(hooks)-1].JQL == "project = PRJ"
			})
			cancel()
			if err := <-done; cmdutil.ExitCode(err) != 130 {
				t.Errorf("listenRun: %v", err)
			}
			errOut := w.errs.String()
			question := "Tenant acme has 1 webhook 1000 for " + public + "/hook, left by an earlier 'jwh listen --register' that did not stop cleanly. Delete it now? [y/N] "
			if !strings.Contains(errOut, question) {
				t.Errorf("no question on stderr:\n%s", errOut)
			}
			hooks := w.ten.Webhooks()
			switch {
			case tc.deleted && (len(hooks) != 0 || !strings.Contains(errOut, "Deleted 1 webhook of tenant acme left by an earlier session: 1000\n")):
				t.Errorf("webhooks %v; stderr:\n%s", hooks, errOut)
			case !tc.deleted && (len(hooks) != 1 || hooks[0].ID != 1000 || !strings.Contains(errOut, "delete it with: jwh delete 1000 --tenant acme")):
				t.Errorf("webhooks %v; stderr:\n%s", hooks, errOut)
			}
			if !strings.Contains(errOut, "Deleted the session's webhook 1001 of tenant acme\n") {
				t.Errorf("the session's webhook was not deleted:\n%s", errOut)
			}
		})
	}
}

// TestRegisterRefused: a webhook Jira refuses ends the listener with
// Jira's reason (exit 1). Here the app has its 100 webhooks already, on
// the session's URL, kept (off a terminal, without --yes).
func TestRegisterRefused(t *testing.T) {
	w := newSessionWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	req := jira.RegisterRequest{URL: public + "/"}
	for range 100 {
		req.Webhooks = append(req.Webhooks, jira.WebhookSpec{JQLFilter: "project = OLD", Events: []string{"jira:issue_created"}})
	}
	if _, err := w.client(t).RegisterWebhooks(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var opts *Options
	cmd := NewCmdListen(w.f, func(o *Options) error { opts = o; return nil })
	if err := cmdtest.Run(cmd, "--register", "--public-url", public, "--jql", "project = PRJ", "--event", "jira:issue_updated"); err != nil {
		t.Fatal(err)
	}
	opts.Listener = ln
	err = listenRun(t.Context(), opts)
	if err == nil || cmdutil.ExitCode(err) != 1 ||
		!strings.HasPrefix(err.Error(), "tenant acme: jira refused the session's webhook for "+public+"/: The app has reached the limit of 100 webhooks") {
		t.Errorf("listenRun: %v (exit %d)\n%s", err, cmdutil.ExitCode(err), w.errs)
	}
	if errOut := w.errs.String(); !strings.Contains(errOut, "Stopped after") || !strings.Contains(errOut, "has 100 webhooks") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if n := len(w.ten.Webhooks()); n != 100 {
		t.Errorf("%d webhooks", n)
	}
}

// TestRegisterDeleteFails: when the session's webhook cannot be deleted,
// jwh says how to delete it by hand, and the exit status stays that of
// the interrupt.
func TestRegisterDeleteFails(t *testing.T) {
	w := newSessionWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts *Options
	cmd := NewCmdListen(w.f, func(o *Options) error { opts = o; return nil })
	if err := cmdtest.Run(cmd, "--register", "--public-url", "http://"+ln.Addr().String(), "--jql", "project = PRJ", "--event", "jira:issue_updated"); err != nil {
		t.Fatal(err)
	}
	opts.Listener = ln
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- listenRun(ctx, opts) }()
	waitFor(t, "the session's webhook is registered", func() bool { return len(w.ten.Webhooks()) == 1 })
	w.ten.Deny(403)
	cancel()
	if err := <-done; cmdutil.ExitCode(err) != 130 {
		t.Errorf("listenRun: %v (exit %d)", err, cmdutil.ExitCode(err))
	}
	if errOut := w.errs.String(); !strings.Contains(errOut, "jwh: could not delete the session's webhook 1000 of tenant acme: ") ||
		!strings.Contains(errOut, "; delete it with: jwh delete 1000 --tenant acme\n") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if n := len(w.ten.Webhooks()); n != 1 {
		t.Errorf("%d webhooks", n)
	}
}
