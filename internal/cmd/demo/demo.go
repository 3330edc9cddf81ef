// Package demo implements jwh demo, the README's first command: a guided
// tour of jwh against a Jira sandbox and a delivery listener that it runs
// in-process on loopback. Each step says what happens and which command a
// user would type, then runs that very command through the real command
// tree, with a throw-away config and an in-memory secret store, so the
// user's own config and keyring are never touched.
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmd/listencmd"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// Defaults of Options.
const (
	// DefaultTimeout bounds the whole tour; it takes about a second.
	DefaultTimeout = 30 * time.Second
	// retryScale speeds Jira's delivery retries up 10,000 times, so a
	// delivery to an app that is down gives up within a fifth of a second.
	retryScale = 0.0001
	// tenantName is the name of the sandbox's tenant, in the sandbox and
	// in the throw-away config.
	tenantName = "sandbox"
	// oauthName is the name of the OAuth tenant in the throw-away config:
	// the sandbox's site, logged in to with its OAuth 2.0 app as oauthUser.
	oauthName = "sandbox-oauth"
	oauthUser = sandbox.DefaultUser
)

// The webhooks of the tour: the triggered issue, DEMO-1 moving to In
// Progress, matches the first filter and not the second.
const (
	jqlMatching = "project = DEMO"
	jqlOther    = "project = DEMO AND status = Done"
	issueKey    = "DEMO-1"
	issueStatus = "In Progress"
	eventName   = "jira:issue_updated"
)

// Options are the inputs of jwh demo.
type Options struct {
	IO      *iostreams.IOStreams
	Version string
	// NewRoot builds the command tree that each step runs in; it is
	// root.NewCmdRoot, passed in because the root imports this package.
	NewRoot func(*cmdutil.Factory) *cobra.Command
	// Timeout bounds the whole tour.
	Timeout time.Duration
	// Debug adds --debug to the commands, which then print every HTTP
	// exchange.
	Debug bool
}

// NewCmdDemo returns jwh demo. newRoot builds the command tree whose
// commands the tour runs (root.NewCmdRoot, which cannot be imported here
// because the root imports this package). Tests pass runF to see the
// parsed Options.
func NewCmdDemo(f *cmdutil.Factory, newRoot func(*cmdutil.Factory) *cobra.Command, runF func(*Options) error) *cobra.Command {
	opts := &Options{Timeout: DefaultTimeout}
	return &cobra.Command{
		Use:   "demo",
		Short: "Tour jwh against a local Jira sandbox, in a few seconds",
		Long: `Tour jwh with no set-up and no Jira site: start a Jira sandbox (jwh sandbox)
and a listener that verifies deliveries (jwh listen) on 127.0.0.1, import the
sandbox's tenant of a Connect app into a throw-away config, log in to the same
site with the sandbox's OAuth 2.0 app (the sandbox approves at once, in place
of a browser), then validate a filter, register two webhooks for the Connect
app and one through Atlassian's API gateway for the OAuth app, list them,
trigger an issue update that matches one of each, watch both signed
deliveries arrive (a Connect JWT and a Bearer JWT), see the deliveries fail
while the app is down (jwh failed), extend the webhooks of both tenants and
delete them.

Every step prints the command a user would type and runs that command. The
tour uses a temporary directory for the config and the OAuth login's
credentials.json, removed at the end, and keeps the sandbox's shared secret
in memory: your config and your keyring are never read or written. Nothing
leaves this machine.

--debug is passed on to the commands, which then print every HTTP exchange
with the sandbox (Authorization redacted).

Exit status: 0 when every step went as expected, 1 when one did not.`,
		Example: `  jwh demo
  go run ./cmd/jwh demo`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			g := cmdutil.GlobalsOf(cmd)
			if g.JSON {
				return cmdutil.UsageErrorf("jwh demo prints a tour for a person and has no JSON output: run it without -o json")
			}
			if g.Tenant != "" {
				return cmdutil.UsageErrorf("jwh demo works on its own sandbox tenant and never on yours: run it without --tenant")
			}
			opts.Debug = g.Debug
			opts.IO = f.IOStreams
			opts.Version = f.Version
			opts.NewRoot = newRoot
			if runF != nil {
				return runF(opts)
			}
			return demoRun(cmd.Context(), opts)
		},
	}
}

// tour is the state of one run of the demo.
type tour struct {
	opts *Options
	out  io.Writer // the demo's standard output, shared by every step
	cs   iostreams.ColorScheme
	// sandboxLog prints the sandbox's delivery attempts.
	sandboxLog io.Writer

	dir     string // the temporary directory holding the config
	getenv  func(string) string
	secrets tenant.SecretStore

	sb        *sandbox.Server
	tenant    *sandbox.Tenant
	sbRunning *sandbox.Running

	ln         net.Listener // the listener's socket, bound before the tour
	hookURL    string       // http://127.0.0.1:PORT/: what the webhooks are registered with
	listener   *listen.Server
	renderer   *listencmd.Renderer
	stopListen context.CancelFunc
	listenDone chan error
	started    time.Time

	failed atomic.Int64 // deliveries the sandbox gave up on

	mu         sync.Mutex
	deliveries []*listen.Delivery // what the listener accepted
	rejected   []*listen.Rejected // what it refused
}

// step is one step of the tour.
type step struct {
	say  string   // what happens, for a person
	args []string // the jwh command a user would type, without "jwh"
	// argsOf, when set, gives args when the step starts: for a command
	// that names what an earlier step started.
	argsOf  func() []string
	comment string // a shell comment shown after the command
	// before, when set, runs before the command is shown.
	before func() error
	run    func(ctx context.Context, args []string) error
	// debug is set for the commands that take --debug (those that send
	// requests), which the demo's --debug adds.
	debug bool
}

func demoRun(ctx context.Context, opts *Options) (err error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	// The commands, the listener and the sandbox write to it from
	// different goroutines.
	out := iostreams.NewLockedWriter(opts.IO.Out)
	cs := opts.IO.ColorScheme()
	t := &tour{opts: opts, out: out, cs: cs, secrets: tenant.NewMemoryStore(),
		sandboxLog: &prefixWriter{w: out, prefix: cs.Gray("sandbox │ ")}}
	defer func() {
		if cerr := t.close(); err == nil && cerr != nil {
			err = &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("demo: cleaning up: %w", cerr)}
		}
	}()
	if err := t.setUp(); err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitFailure, Err: fmt.Errorf("demo: %w", err)}
	}

	fmt.Fprintf(t.out, "%s\n%s\n", t.cs.Bold("jwh demo: a tour of jwh against a local Jira sandbox"),
		t.cs.Gray("Nothing leaves this machine; a throw-away config is used, your own config and keyring are left alone."))
	steps := t.steps()
	for i, s := range steps {
		if s.argsOf != nil {
			s.args = s.argsOf()
		}
		if opts.Debug && s.debug {
			s.args = append(slices.Clip(s.args), "--debug")
		}
		fmt.Fprintf(t.out, "\n%s %s\n", t.cs.Gray(fmt.Sprintf("[%d/%d]", i+1, len(steps))), t.cs.Bold(s.say))
		err := error(nil)
		if s.before != nil {
			err = s.before()
		}
		if err == nil {
			line := t.cs.Cyan("$ jwh " + shellJoin(s.args))
			if s.comment != "" {
				line += "   " + t.cs.Gray("# "+s.comment)
			}
			fmt.Fprintln(t.out, line)
			err = s.run(ctx, s.args)
		}
		if err != nil {
			if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
				err = fmt.Errorf("the tour did not finish within %s: %w", opts.Timeout, err)
			}
			return &cmdutil.ExitError{Code: cmdutil.ExitFailure,
				Err: fmt.Errorf("demo: step %d failed (%s): %w", i+1, "jwh "+shellJoin(s.args), err)}
		}
	}
	t.handOff()
	return nil
}

// setUp prepares what the steps need before the first one is announced:
// the throw-away config's directory, the sandbox and its tenant, and the
// listener's socket, whose port the registered URL names.
func (t *tour) setUp() error {
	dir, err := os.MkdirTemp("", "jwh-demo-")
	if err != nil {
		return fmt.Errorf("cannot create a temporary directory for the throw-away config: %w", err)
	}
	t.dir = dir
	configPath := filepath.Join(dir, "config.json")

	t.sb = sandbox.New(sandbox.Options{RetryScale: retryScale, OnAttempt: t.attempt})
	ten, err := t.sb.AddTenant(sandbox.TenantConfig{Name: tenantName, BasePath: "/"})
	if err != nil {
		return err
	}
	t.tenant = ten
	// The environment of every step: the throw-away config, and the
	// sandbox's secret standing for the keyring, as in CI. Nothing else
	// of the user's environment (JWH_TENANT, ...) leaks in.
	secret := ten.Secret()
	t.getenv = func(k string) string {
		switch k {
		case tenant.EnvConfig:
			return configPath
		case tenant.EnvSecret:
			return secret
		}
		return ""
	}

	t.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("cannot listen on 127.0.0.1 for the listener: %w", err)
	}
	t.hookURL = "http://" + t.ln.Addr().String() + "/"
	return nil
}

// steps returns the tour.
func (t *tour) steps() []step {
	addr := t.ln.Addr().String()
	trigger := []string{"trigger", eventName, "--issue-key", issueKey, "--status", issueStatus, "--changed", "status"}
	return []step{
		{
			say:  "Start a Jira sandbox on 127.0.0.1: Jira Cloud's webhook API and its signed deliveries",
			args: []string{"sandbox", "--retry-scale", "0.0001"},
			run:  t.startSandbox,
		},
		{
			say:     "Start a listener, standing in for your app: it checks Jira's JWT on each delivery (Connect, or Bearer for OAuth 2.0 apps)",
			args:    []string{"listen", "--addr", addr, "--quiet"},
			comment: "without --quiet it prints each payload too",
			run:     t.startListener,
		},
		{
			say:     "Import the sandbox's tenant of a Connect app into a throw-away config, from its installed payload",
			args:    []string{"tenant", "import", tenantName, "--file", "-", "--no-keyring"},
			comment: "the payload on stdin; the secret comes from JWH_SHARED_SECRET",
			run: func(ctx context.Context, args []string) error {
				// The payload names the base URL, known once the sandbox listens.
				return t.jwh(t.tenant.Installed())(ctx, args)
			},
		},
		{
			say: "Log in to the same site as " + oauthUser + " with the sandbox's OAuth 2.0 app, the successor of Connect apps: a second tenant, reached through Atlassian's API gateway",
			argsOf: func() []string {
				u := t.sbRunning.URL()
				return []string{"tenant", "login", oauthName, "--client-id", t.sb.OAuthApp().ClientID, "--auth-url", u, "--api-url", u, "--no-browser", "--no-keyring"}
			},
			comment: "the client secret on stdin; the sandbox approves at once, in place of a browser",
			run:     t.login,
		},
		{
			say:  "Check a JQL filter offline against what dynamic webhooks accept",
			args: []string{"validate", "--jql", jqlOther, "--event", eventName},
			run:  t.jwh(nil),
		},
		{
			say:   "Register a webhook of the Connect app for updates of any issue in project DEMO",
			args:  []string{"register", "--url", t.hookURL, "--jql", jqlMatching, "--event", eventName},
			run:   t.jwh(nil),
			debug: true,
		},
		{
			say:   "Register a second one, for DEMO issues that are Done",
			args:  []string{"register", "--url", t.hookURL, "--jql", jqlOther, "--event", eventName},
			run:   t.jwh(nil),
			debug: true,
		},
		{
			say:   "Register a webhook of the OAuth 2.0 app, owned by " + oauthUser + " (Jira allows 5 per app and user)",
			args:  []string{"register", "-t", oauthName, "--url", t.hookURL, "--jql", jqlMatching, "--event", eventName},
			run:   t.jwh(nil),
			debug: true,
		},
		{
			say:   "List the Connect app's webhooks",
			args:  []string{"list"},
			run:   t.jwh(nil),
			debug: true,
		},
		{
			say:   fmt.Sprintf("Move %s to %s: the first filter matches, and so does the OAuth app's; the listener gets one delivery for each app", issueKey, issueStatus),
			args:  trigger,
			run:   t.triggerMatching,
			debug: true,
		},
		{
			say:     "Stop the listener, as if your app were down, and trigger again: the sandbox retries, then gives up",
			before:  t.stopListener,
			args:    trigger,
			comment: "exit status 1: the deliveries failed",
			run:     t.triggerFailing,
			debug:   true,
		},
		{
			say:   "List the deliveries that failed for good (Jira keeps them for Connect apps only)",
			args:  []string{"failed"},
			run:   t.jwh(nil),
			debug: true,
		},
		{
			say:   "Extend the webhooks of every tenant, both kinds, which expire after 30 days (run this daily from cron)",
			args:  []string{"extend", "--all-tenants"},
			run:   t.jwh(nil),
			debug: true,
		},
		{
			say:   "Delete every webhook of the Connect app",
			args:  []string{"delete", "--all", "--yes"},
			run:   t.jwh(nil),
			debug: true,
		},
		{
			say:   "Delete " + oauthUser + "'s webhook of the OAuth app",
			args:  []string{"delete", "-t", oauthName, "--all", "--yes"},
			run:   t.jwh(nil),
			debug: true,
		},
		{
			say:   "List again: nothing is left",
			args:  []string{"list"},
			run:   t.listEmpty,
			debug: true,
		},
	}
}

// jwh returns a step that runs its jwh command with stdin as its
// standard input.
func (t *tour) jwh(stdin []byte) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error { return describe(t.exec(ctx, args, stdin)) }
}

// exec runs the jwh command args in-process, as app.Run does, with the
// tour's environment: the throw-away config, the sandbox's secret, an
// in-memory secret store, and the demo's standard output for both of the
// command's streams, so that its messages appear in order. It returns the
// command's error as is.
func (t *tour) exec(ctx context.Context, args []string, stdin []byte) error {
	return t.execWith(ctx, args, bytes.NewReader(stdin), t.out)
}

// execWith is exec with stdin as the command's standard input and errOut
// as its standard error.
func (t *tour) execWith(ctx context.Context, args []string, stdin io.Reader, errOut io.Writer) error {
	outer := t.opts.IO
	ios := &iostreams.IOStreams{In: stdin, Out: t.out, ErrOut: errOut}
	ios.SetStdoutTTY(outer.IsStdoutTTY())
	ios.SetStderrTTY(outer.IsStdoutTTY())
	ios.SetColorEnabled(outer.ColorEnabled())
	f := &cmdutil.Factory{
		IOStreams: ios,
		Version:   t.opts.Version,
		Getenv:    t.getenv,
		Now:       time.Now,
		Config:    cmdutil.LoadConfigOnce(t.getenv),
		Secrets:   func() tenant.SecretStore { return t.secrets },
	}
	cmd := t.opts.NewRoot(f)
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}

// describe turns the error of a command that has printed its own account
// of the failure into one that says so.
func describe(err error) error {
	var e *cmdutil.ExitError
	if errors.As(err, &e) && e.Err == nil {
		return fmt.Errorf("it exited with status %d (see above)", e.Code)
	}
	return err
}

// startSandbox serves the sandbox on loopback.
func (t *tour) startSandbox(context.Context, []string) error {
	run, err := t.sb.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	t.sbRunning = run
	fmt.Fprintf(t.out, "%s Jira sandbox at %s (tenant %s, app key %s, a fresh random shared secret)\n",
		t.cs.SuccessIcon(), run.URL(), tenantName, t.tenant.AppKey())
	return nil
}

// login runs jwh tenant login --no-browser as a user at a terminal does,
// with the sandbox in place of the browser: the client secret on the first
// line of its standard input; then, once it has printed the authorization
// URL, the sandbox approves it as oauthUser at once, and the address it
// sends the browser to is the next line, pasted.
func (t *tour) login(ctx context.Context, args []string) error {
	stdin, answer := io.Pipe()
	defer stdin.Close() // a write still waiting fails
	authURL := make(chan string, 1)
	stderr := &urlWatcher{w: t.out, found: authURL}
	done := make(chan struct{})
	defer close(done)
	go func() {
		if _, err := io.WriteString(answer, t.sb.OAuthApp().ClientSecret+"\n"); err != nil {
			return
		}
		select {
		case u := <-authURL:
			loc, err := sandbox.Approve(nil, u, oauthUser)
			if err != nil {
				answer.CloseWithError(fmt.Errorf("the sandbox did not approve the login: %w", err))
				return
			}
			_, _ = io.WriteString(answer, loc.String()+"\n")
		case <-done:
		}
	}()
	return describe(t.execWith(ctx, args, stdin, stderr))
}

// authorizeURL finds the authorization URL that jwh tenant login prints.
// It is compiled on first use: every jwh process initialises this package.
var authorizeURL = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`https?://\S+` + regexp.QuoteMeta(sandbox.AuthorizePath) + `\?\S+`)
})

// urlWatcher passes writes on to w, and sends the first authorization URL
// written to found.
type urlWatcher struct {
	w     io.Writer
	found chan<- string
	seen  bool
}

func (u *urlWatcher) Write(p []byte) (int, error) {
	if !u.seen {
		if m := authorizeURL().Find(p); m != nil {
			u.seen = true
			u.found <- string(m)
		}
	}
	return u.w.Write(p)
}

// startListener serves the listener on the socket bound in setUp, printing
// its events as jwh listen does, with a gutter that sets them apart from
// the output of the commands. It verifies the deliveries of both of the
// sandbox's apps: the Connect app's with the tenant's shared secret, the
// OAuth app's with its client secret.
func (t *tour) startListener(ctx context.Context, _ []string) error {
	var tenants listen.Tenants
	if err := tenants.Add(tenantName, t.tenant.ClientKey(), []byte(t.tenant.Secret())); err != nil {
		return err
	}
	app := t.sb.OAuthApp()
	if err := tenants.AddOAuth(oauthName, app.ClientID, []byte(app.ClientSecret)); err != nil {
		return err
	}
	gutter := &prefixWriter{w: t.out, prefix: t.cs.Gray("listen  │ ")}
	ios := &iostreams.IOStreams{In: bytes.NewReader(nil), Out: gutter, ErrOut: gutter}
	ios.SetStdoutTTY(t.opts.IO.IsStdoutTTY())
	ios.SetStderrTTY(t.opts.IO.IsStdoutTTY())
	ios.SetColorEnabled(t.opts.IO.ColorEnabled())
	t.renderer = listencmd.NewRenderer(ios, listencmd.RenderOptions{Quiet: true, Tenants: tenants.Names(), OAuthTenants: tenants.OAuthNames()})
	ready := make(chan struct{})
	srv, err := listen.New(listen.Config{
		Secrets: &tenants,
		OAuth:   &tenants,
		Leeway:  listen.DefaultLeeway,
		OnEvent: func(e listen.Event) {
			t.renderer.Event(e)
			t.mu.Lock()
			switch e := e.(type) {
			case *listen.Ready:
				close(ready)
			case *listen.Delivery:
				t.deliveries = append(t.deliveries, e)
			case *listen.Rejected:
				t.rejected = append(t.rejected, e)
			}
			t.mu.Unlock()
		},
	})
	if err != nil {
		return err
	}
	t.listener = srv
	lctx, stop := context.WithCancel(context.Background())
	t.stopListen = stop
	t.listenDone = make(chan error, 1)
	t.started = time.Now()
	ln := t.ln
	t.ln = nil // Serve closes it
	go func() { t.listenDone <- srv.Serve(lctx, ln) }()
	select {
	case <-ready:
		return nil
	case err := <-t.listenDone:
		t.listenDone = nil
		return fmt.Errorf("the listener stopped: %v", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stopListener stops the listener and prints its summary.
func (t *tour) stopListener() error {
	if t.listenDone == nil {
		return errors.New("the listener is not running")
	}
	t.stopListen()
	err := <-t.listenDone
	t.listenDone = nil
	t.renderer.Summary(t.listener.Stats(), time.Since(t.started))
	if err != nil {
		return fmt.Errorf("the listener: %w", err)
	}
	return nil
}

// triggerMatching runs the first jwh trigger and checks that the listener
// accepted exactly two deliveries, verified: the Connect app's for its
// matching webhook only, and the OAuth app's.
func (t *tour) triggerMatching(ctx context.Context, args []string) error {
	matching, other, err := t.webhookIDs()
	if err != nil {
		return err
	}
	oauthHooks := t.tenant.OAuthWebhooks()
	if len(oauthHooks) != 1 {
		return fmt.Errorf("the sandbox holds %d webhooks of the OAuth app, want 1", len(oauthHooks))
	}
	if err := describe(t.exec(ctx, args, nil)); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.rejected) > 0 {
		r := t.rejected[0]
		return fmt.Errorf("the listener refused a delivery: %d %s: %s", r.Status, r.Check, r.Reason)
	}
	if len(t.deliveries) != 2 {
		return fmt.Errorf("the listener received %d deliveries, want 2", len(t.deliveries))
	}
	want := map[string][]string{
		listen.KindConnect: {fmt.Sprint(matching)},
		listen.KindOAuth:   {fmt.Sprint(oauthHooks[0].ID)},
	}
	for _, d := range t.deliveries {
		if !d.Verified || !slices.Equal(d.Meta.MatchedWebhookIDs, want[d.Kind]) {
			return fmt.Errorf("the listener received a delivery for webhooks %v (verified: %t, %s), want one for the Connect app's webhook %d only, not %d, and one for the OAuth app's %d",
				d.Meta.MatchedWebhookIDs, d.Verified, d.Kind, matching, other, oauthHooks[0].ID)
		}
		delete(want, d.Kind)
	}
	if len(want) > 0 {
		return errors.New("the listener did not receive one delivery for each app")
	}
	return nil
}

// webhookIDs returns the ids of the Connect app's two webhooks, by their
// filters.
func (t *tour) webhookIDs() (matching, other int64, err error) {
	for _, w := range t.tenant.Webhooks() {
		switch w.JQL {
		case jqlMatching:
			matching = w.ID
		case jqlOther:
			other = w.ID
		}
	}
	if matching == 0 || other == 0 {
		return 0, 0, errors.New("the sandbox does not hold the two webhooks registered")
	}
	return matching, other, nil
}

// triggerFailing runs jwh trigger again, with the listener stopped: it must
// fail, because nobody answers and the sandbox gives up on both apps'
// deliveries after its retries.
func (t *tour) triggerFailing(ctx context.Context, args []string) error {
	failedBefore := t.failed.Load()
	err := t.exec(ctx, args, nil)
	var flagErr *cmdutil.FlagError
	var exitErr *cmdutil.ExitError
	switch {
	case err == nil:
		return errors.New("jwh trigger succeeded, but nobody was listening")
	case ctx.Err() != nil, errors.As(err, &flagErr), errors.As(err, &exitErr) && exitErr.Code != cmdutil.ExitFailure:
		return describe(err)
	case t.failed.Load() != failedBefore+2:
		return fmt.Errorf("jwh trigger failed, but not because the two deliveries failed: %w", describe(err))
	}
	if !cmdutil.IsSilent(err) {
		// What a user sees on standard error (app.Run prints it).
		for _, msg := range cmdutil.Messages(err) {
			fmt.Fprintln(t.out, "jwh: "+msg)
		}
	}
	return nil
}

// listEmpty runs jwh list and checks that the sandbox holds no webhook of
// either app.
func (t *tour) listEmpty(ctx context.Context, args []string) error {
	if err := describe(t.exec(ctx, args, nil)); err != nil {
		return err
	}
	if n := len(t.tenant.Webhooks()) + len(t.tenant.OAuthWebhooks()); n != 0 {
		return fmt.Errorf("the sandbox still holds %d webhooks", n)
	}
	return nil
}

// handOff tells the user how to do the same by hand.
func (t *tour) handOff() {
	cs := t.cs
	fmt.Fprintf(t.out, "\n%s %s\n", cs.SuccessIcon(), cs.Bold("Done. The sandbox and the listener are stopped, and the throw-away config is removed."))
	fmt.Fprintf(t.out, "Try it by hand %s:\n", cs.Gray("(more in docs/sandbox.md)"))
	for _, l := range [][2]string{
		{"terminal 1:", "jwh sandbox --installed sandbox.json"},
		{"terminal 2:", "jwh tenant import sandbox --file sandbox.json && jwh listen"},
		{"terminal 3:", "jwh register --url http://127.0.0.1:8080/ --jql 'project = DEMO' --event jira:issue_updated"},
		{"", "jwh trigger jira:issue_updated --issue-key DEMO-1 --changed status"},
		{"OAuth 2.0:", "jwh tenant login sandbox-oauth --client-id ... (the line jwh sandbox prints)"},
	} {
		fmt.Fprintf(t.out, "  %-11s %s\n", l[0], cs.Cyan(l[1]))
	}
}

// close stops what the tour started and removes the throw-away config.
func (t *tour) close() error {
	var errs []error
	if t.ln != nil {
		t.ln.Close()
	}
	if t.listenDone != nil {
		t.stopListen()
		if err := <-t.listenDone; err != nil {
			errs = append(errs, fmt.Errorf("the listener: %w", err))
		}
	}
	if t.sbRunning != nil {
		if err := t.sbRunning.Close(); err != nil {
			errs = append(errs, fmt.Errorf("the sandbox: %w", err))
		}
	}
	if t.dir != "" {
		if err := os.RemoveAll(t.dir); err != nil {
			errs = append(errs, fmt.Errorf("removing the throw-away config: %w", err))
		}
	}
	return errors.Join(errs...)
}
