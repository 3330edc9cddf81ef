// Package sandboxcmd implements jwh sandbox: it runs the Jira stand-in of
// internal/sandbox on a local address with one tenant, prints that
// tenant's installed payload for jwh tenant import and the OAuth app for
// jwh tenant login, and logs every request and delivery attempt until it
// is interrupted.
package sandboxcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/atomicfile"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/transport"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// TenantName is the name of the sandbox's tenant, and the name the hints
// suggest importing it under.
const TenantName = "sandbox"

// OAuthTenantName is the name the hints suggest logging in to the
// sandbox's site under, with its OAuth app.
const OAuthTenantName = "sandbox-oauth"

// shutdownTimeout bounds the wait for requests and deliveries in flight
// after Ctrl-C.
const shutdownTimeout = 3 * time.Second

// Options are the inputs of jwh sandbox.
type Options struct {
	IO  *iostreams.IOStreams
	Now func() time.Time

	Addr       string        // --addr
	AddrSet    bool          // --addr was given
	State      string        // --state: the state file, "" for memory only
	RetryScale float64       // --retry-scale
	PageCap    int           // --page-cap
	Installed  string        // --installed: also write the payload to this file
	Quiet      bool          // --quiet: no request log
	DropRate   float64       // --drop-rate
	HangRate   float64       // --hang-rate
	ClockSkew  time.Duration // --clock-skew: how far its clock is ahead of this machine's

	OAuthCallbacks []string      // --oauth-callback
	AccessTokenTTL time.Duration // --access-token-ttl
	ReuseInterval  time.Duration // --refresh-reuse-interval; 0: none
	OAuthApp       string        // --oauth-app: write the OAuth app to this file

	// ready, when set, is called once the sandbox listens (tests).
	ready func(*sandbox.Server, *sandbox.Running)
}

// NewCmdSandbox returns jwh sandbox. Tests pass runF to see the parsed
// Options.
func NewCmdSandbox(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "sandbox [--addr 127.0.0.1:0] [--state <file>] [--installed <file>] [--oauth-app <file>]",
		Short: "Run a local stand-in for Jira's webhook API",
		Long: `Run a local stand-in for Jira Cloud's dynamic-webhook API, so that jwh, and a
Connect app's own tests, can work without a Jira site.

It serves register, list, delete, refresh and failed deliveries under its
base URL, checks every Connect JWT and qsh as Jira does, and enforces
Jira's limits (100 webhooks per app, one callback URL, the supported events
and the JQL subset). 'jwh trigger' makes it deliver an event to the
registered webhooks whose events and filter match, signed as Jira signs,
retrying failures as Jira does but faster (--retry-scale).

On start it prints, on standard output, the Connect "installed" payload of
its one tenant (app key, client key, a fresh random shared secret, base
URL), ready for 'jwh tenant import sandbox --file'; --installed also writes
it to a file (mode 0600). Everything else goes to standard error: the base
URL, how to import the tenant, the OAuth app, and one line per request and
per delivery attempt (--quiet: none).

It also plays Atlassian's side of an OAuth 2.0 (3LO) app, on the same
base URL (the --auth-url and --api-url of 'jwh tenant login'): a consent
page, the token endpoint with rotating refresh tokens, accessible-resources
(the tenant is a site with a cloud id) and the API gateway, where each user
has their own webhooks, at most 5, delivered with a Bearer JWT signed with
the client secret. On start it prints the app's client id and its client
secret (the sandbox's own, as throw-away as the shared secret), the
callback URLs (http://localhost:8976/callback, and those of
--oauth-callback) and a ready 'jwh tenant login' command line;
--oauth-app also writes them to a file as JSON (mode 0600).
--access-token-ttl and --refresh-reuse-interval (0: a rotated refresh
token is never taken again) change Atlassian's 1h and 10m.

Webhooks live in memory, or with --state in a file (mode 0600, written
atomically after every change) that keeps the tenant, its secret, the
webhooks, the failed deliveries, the OAuth app and its logins (so tokens
go on working) and the address across restarts: without
--addr, a restart listens where the last run did, so an imported tenant
keeps working. A state file that cannot be read back is an error (exit 2),
never emptied. A state file is used by one sandbox at a time: a second
sandbox on it fails at once (exit 1).

--drop-rate and --hang-rate make it fail a share of the API requests on
purpose, as a bad network does, to try a client's retries: a dropped
request's connection is closed without an answer, a hung request is never
answered; either may have taken effect first (a webhook registered).

--clock-skew runs the sandbox's clock that far ahead of this machine's (a
negative duration: behind), as a Jira whose clock disagrees with the app's:
its Date header, its JWT checks (which allow 30 s of skew, as Jira does) and
its expiry dates all follow it. jwh doctor measures the skew.

Ctrl-C stops it, after letting requests and deliveries in flight finish
for up to 3 seconds; the exit status is then 130. docs/sandbox.md has the
details.`,
		Example: `  # terminal 1
  jwh sandbox --installed sandbox.json
  # terminal 2
  jwh tenant import sandbox --file sandbox.json
  jwh listen --addr 127.0.0.1:8080 &
  jwh register --url http://127.0.0.1:8080/ --jql 'project = PRJ' --event jira:issue_updated
  jwh trigger jira:issue_updated --issue-key PRJ-1 --changed status`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.Now = f.Now
			opts.AddrSet = cmd.Flags().Changed("addr")
			if opts.RetryScale <= 0 {
				return cmdutil.UsageErrorf("invalid --retry-scale %v: it must be positive (1 is Jira's own timing)", opts.RetryScale)
			}
			if opts.PageCap < 1 {
				return cmdutil.UsageErrorf("invalid --page-cap %d: it must be 1 or more", opts.PageCap)
			}
			if r := opts.DropRate + opts.HangRate; opts.DropRate < 0 || opts.HangRate < 0 || r > 1 {
				return cmdutil.UsageErrorf("invalid --drop-rate %v and --hang-rate %v: each is a share between 0 and 1, and together at most 1", opts.DropRate, opts.HangRate)
			}
			if opts.State != "" {
				if dir := filepath.Dir(opts.State); !isDir(dir) {
					return cmdutil.UsageErrorf("invalid --state %q: the folder %s does not exist; create it or choose another file", opts.State, dir)
				}
			}
			if opts.AddrSet {
				if err := cmdutil.CheckAddr("--addr", opts.Addr); err != nil {
					return err
				}
			}
			if opts.AccessTokenTTL < time.Second {
				return cmdutil.UsageErrorf("invalid --access-token-ttl %s: it must be 1s or more (Atlassian's is 1h)", opts.AccessTokenTTL)
			}
			if opts.ReuseInterval < 0 {
				return cmdutil.UsageErrorf("invalid --refresh-reuse-interval %s: it must be 0 (none) or more (Atlassian's is 10m)", opts.ReuseInterval)
			}
			for _, u := range opts.OAuthCallbacks {
				if err := checkCallback(u); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return sandboxRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", sandbox.DefaultAddr, "`host:port` to listen on (port 0: any free port)")
	fl.StringVar(&opts.State, "state", "", "keep the tenant and its webhooks in this `file` across restarts")
	fl.Float64Var(&opts.RetryScale, "retry-scale", sandbox.DefaultRetryScale, "`factor` applied to Jira's delivery retry delays (1: 10 s to 30 min)")
	fl.IntVar(&opts.PageCap, "page-cap", sandbox.DefaultPageCap, "at most `n` webhooks (or failed deliveries) per page, whatever maxResults asks")
	fl.StringVar(&opts.Installed, "installed", "", "also write the installed payload to this `file` (mode 0600)")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "do not log requests and deliveries")
	fl.Float64Var(&opts.DropRate, "drop-rate", 0, "close this `share` of API connections without an answer (0 to 1)")
	fl.Float64Var(&opts.HangRate, "hang-rate", 0, "never answer this `share` of API requests (0 to 1)")
	fl.DurationVar(&opts.ClockSkew, "clock-skew", 0, "run the sandbox's clock this `duration` ahead of this machine's (negative: behind)")
	fl.StringArrayVar(&opts.OAuthCallbacks, "oauth-callback", nil, "also accept this `URL` as the OAuth app's redirect URI (repeatable)")
	fl.DurationVar(&opts.AccessTokenTTL, "access-token-ttl", sandbox.DefaultAccessTokenTTL, "lifetime of OAuth access tokens")
	fl.DurationVar(&opts.ReuseInterval, "refresh-reuse-interval", sandbox.DefaultRefreshReuseInterval, "how long a rotated refresh token is still taken (0: never)")
	fl.StringVar(&opts.OAuthApp, "oauth-app", "", "also write the OAuth app (client id and secret, URLs) to this `file` as JSON (mode 0600)")
	return cmd
}

// checkCallback checks an --oauth-callback URL as the sandbox takes it.
func checkCallback(u string) error {
	if err := urlpolicy.CheckCallbackURL(u); err != nil {
		return cmdutil.UsageErrorf("invalid --oauth-callback %q: %s", urlpolicy.Redacted(u), urlpolicy.Reason(err))
	}
	return nil
}

// sandboxRun runs the sandbox until ctx is done.
func sandboxRun(ctx context.Context, opts *Options) error {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	w := iostreams.NewLockedWriter(opts.IO.ErrOut)
	log := &logger{w: w, now: now, quiet: opts.Quiet}
	sopts := sandbox.Options{
		PageCap:    opts.PageCap,
		RetryScale: opts.RetryScale,
		DropRate:   opts.DropRate,
		HangRate:   opts.HangRate,
		OnRequest:  log.request,
		OnAttempt:  log.attempt,
		Clock:      skewedClock(now, opts.ClockSkew),
		OAuth: sandbox.OAuthOptions{
			AccessTokenTTL:       opts.AccessTokenTTL,
			RefreshReuseInterval: opts.ReuseInterval,
		},
	}
	if opts.ReuseInterval == 0 {
		sopts.OAuth.RefreshReuseInterval = -1 // none
	}
	var s *sandbox.Server
	var err error
	if opts.State != "" {
		s, err = sandbox.Open(opts.State, sopts)
		if errors.Is(err, sandbox.ErrCorruptState) {
			return cmdutil.InputError(err)
		}
		if err != nil {
			return err
		}
		defer s.Close()
	} else {
		s = sandbox.New(sopts)
	}
	ten, ok := s.Tenant(TenantName)
	if !ok {
		if ten, err = s.AddTenant(sandbox.TenantConfig{Name: TenantName, BasePath: "/"}); err != nil {
			return err
		}
	}
	for _, u := range opts.OAuthCallbacks {
		if err := s.AddCallbackURL(u); err != nil {
			return err
		}
	}

	addr := opts.Addr
	if !opts.AddrSet && s.LastAddr() != "" {
		addr = s.LastAddr()
	}
	run, err := s.Listen(addr)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && addr == s.LastAddr() && !opts.AddrSet {
			return fmt.Errorf("cannot listen on %s, where the sandbox of %s listened last (so that imported tenants keep their base URL): %v; stop the other sandbox, or choose an address with --addr and import the tenant again",
				addr, opts.State, opErr.Err)
		}
		return cmdutil.ListenError(addr, err)
	}

	payload := ten.Installed()
	if opts.Installed != "" {
		if err := atomicfile.WritePrivate(opts.Installed, payload); err != nil {
			run.Close()
			return fmt.Errorf("writing the installed payload: %w", err)
		}
	}
	app := s.OAuthApp()
	if opts.OAuthApp != "" {
		if err := atomicfile.WritePrivate(opts.OAuthApp, oauthAppJSON(app, run.URL(), s.Tenants())); err != nil {
			run.Close()
			return fmt.Errorf("writing the OAuth app: %w", err)
		}
	}
	cs := opts.IO.ErrColorScheme()
	fmt.Fprintf(w, "%s Jira sandbox at %s (app key %s, client key %s)\n", cs.SuccessIcon(), ten.BaseURL(), ten.AppKey(), ten.ClientKey())
	switch {
	case opts.State != "":
		hooks := len(ten.Webhooks()) + len(ten.OAuthWebhooks())
		fmt.Fprintf(w, "  state: %s (%s)\n", opts.State, output.Plural(hooks, "webhook"))
	default:
		fmt.Fprintln(w, "  state: in memory (--state FILE keeps it across restarts)")
	}
	if d := opts.ClockSkew; d != 0 {
		fmt.Fprintf(w, "  clock: %s (--clock-skew)\n", skewText(d))
	}
	if opts.Installed != "" {
		fmt.Fprintf(w, "  import the tenant: jwh tenant import %s --file %s\n", TenantName, opts.Installed)
	} else {
		fmt.Fprintf(w, "  import the tenant: save the JSON below to a file and run 'jwh tenant import %s --file FILE' (or start with --installed FILE)\n", TenantName)
	}
	fmt.Fprintf(w, "  OAuth 2.0 app: client id %s, client secret %s\n", app.ClientID, app.ClientSecret)
	fmt.Fprintf(w, "    auth and API URL: %s; callback URLs: %s; site %s, cloud id %s\n",
		run.URL(), strings.Join(app.CallbackURLs, ", "), ten.Name(), ten.CloudID())
	login := fmt.Sprintf("jwh tenant login %s --client-id %s --auth-url %s --api-url %s", OAuthTenantName, app.ClientID, run.URL(), run.URL())
	if opts.OAuthApp != "" {
		fmt.Fprintf(w, "    log in: jq -r .clientSecret %s | %s\n", opts.OAuthApp, login)
	} else {
		fmt.Fprintf(w, "    log in: %s (paste the client secret when asked)\n", login)
	}
	fmt.Fprintf(w, "  then: jwh register ..., jwh trigger EVENT; Ctrl-C stops the sandbox\n")
	if _, err := opts.IO.Out.Write(payload); err != nil {
		run.Close()
		return err
	}
	if opts.ready != nil {
		opts.ready(s, run)
	}

	<-ctx.Done()
	pending := s.PendingDeliveries()
	if pending > 0 {
		fmt.Fprintf(w, "stopping: waiting up to %s for %d deliveries still being retried\n", shutdownTimeout, pending)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	serr := run.Shutdown(sctx)
	log.mu.Lock()
	log.stopped = true
	fmt.Fprintf(w, "sandbox stopped after %s and %s\n", output.Plural(log.requests, "request"), output.Plural(log.attempts, "delivery attempt"))
	log.mu.Unlock()
	if serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
		return fmt.Errorf("stopping the sandbox: %w", serr)
	}
	return cmdutil.SilentExit(cmdutil.ExitInterrupted)
}

// skewedClock returns a clock that runs skew ahead of now (behind, when
// skew is negative): the clock of a sandbox started with --clock-skew. A
// zero skew returns now itself.
func skewedClock(now func() time.Time, skew time.Duration) func() time.Time {
	if skew == 0 {
		return now
	}
	return func() time.Time { return now().Add(skew) }
}

// skewText says how far the sandbox's clock is off this machine's.
func skewText(d time.Duration) string {
	if d < 0 {
		return (-d).String() + " behind this machine's"
	}
	return d.String() + " ahead of this machine's"
}

// oauthAppJSON is the --oauth-app file: what jwh tenant login, or an
// app's own tests, need to log in to the sandbox.
func oauthAppJSON(app sandbox.OAuthApp, root string, tenants []*sandbox.Tenant) []byte {
	type site struct {
		ID   string `json:"id"`
		URL  string `json:"url"`
		Name string `json:"name"`
	}
	v := struct {
		Name         string   `json:"name"`
		ClientID     string   `json:"clientId"`
		ClientSecret string   `json:"clientSecret"`
		AuthURL      string   `json:"authUrl"`
		APIURL       string   `json:"apiUrl"`
		CallbackURLs []string `json:"callbackUrls"`
		Sites        []site   `json:"sites"`
	}{app.Name, app.ClientID, app.ClientSecret, root, root, app.CallbackURLs, []site{}}
	for _, t := range tenants {
		v.Sites = append(v.Sites, site{t.CloudID(), t.BaseURL(), t.Name()})
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return append(b, '\n')
}

// logger prints the request log and delivery attempts on standard error,
// one line each; the sandbox calls it from many goroutines.
type logger struct {
	w     io.Writer
	now   func() time.Time
	quiet bool

	mu                 sync.Mutex
	requests, attempts int
	stopped            bool
}

func (l *logger) printf(format string, args ...any) {
	if l.quiet || l.stopped {
		return
	}
	fmt.Fprintf(l.w, l.now().Format("15:04:05")+" "+format+"\n", args...)
}

func (l *logger) request(r sandbox.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	// The path as it came, and the query as --debug shows one: a jwt and
	// the OAuth fields that carry credentials (an access_token, ...)
	// redacted.
	target := transport.RedactURL(&url.URL{Opaque: r.Path, RawQuery: r.RawQuery})
	line := fmt.Sprintf("%s %s %d", r.Method, target, r.Status)
	switch {
	case r.Fault != "" && r.TookEffect:
		line = fmt.Sprintf("%s %s %s after taking effect (--%s-rate)", r.Method, target, r.Fault, faultFlag(r.Fault))
	case r.Fault != "":
		line = fmt.Sprintf("%s %s %s before taking effect (--%s-rate)", r.Method, target, r.Fault, faultFlag(r.Fault))
	}
	if r.Kind == sandbox.KindOAuth {
		line += " (" + strings.Join(nonEmpty("oauth", r.Grant, r.User), ", ") + ")"
	}
	switch {
	case r.GrantError != "":
		line += ": " + r.GrantError + ": " + r.Reason
	case r.Reason != "" && r.Check != "":
		line += ": JWT " + string(r.Check) + ": " + r.Reason
	case r.Reason != "":
		line += ": " + r.Reason
	}
	l.printf("%s", line)
}

// nonEmpty returns the strings that are not "".
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// faultFlag names the flag behind a fault: drop or hang.
func faultFlag(f sandbox.Fault) string {
	if f == sandbox.FaultHung {
		return "hang"
	}
	return "drop"
}

func (l *logger) attempt(a sandbox.AttemptReport) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts++
	l.printf("%s", AttemptLine(a))
}

// AttemptLine describes a delivery attempt in one line, as jwh sandbox
// (and jwh demo) logs it.
func AttemptLine(a sandbox.AttemptReport) string {
	what := a.Event
	if a.IssueKey != "" {
		what += " " + a.IssueKey
	}
	result := fmt.Sprint(a.Attempt.Status)
	if a.Attempt.Error != "" {
		result = a.Attempt.Error
	}
	try := "delivery"
	if a.Attempt.Retry > 0 {
		try = fmt.Sprintf("retry %d of", a.Attempt.Retry)
	}
	to := a.URL
	if a.App == sandbox.KindOAuth {
		to += " (OAuth app, owner " + a.AccountID + ")"
	}
	line := fmt.Sprintf("%s %s to %s: %s", try, what, to, result)
	switch a.Outcome {
	case sandbox.OutcomePending:
		line += fmt.Sprintf("; retrying in %s", a.Next.Round(time.Millisecond))
	case sandbox.OutcomeFailed:
		if a.App == sandbox.KindOAuth {
			line += "; given up (Jira lists the failed deliveries of Connect apps only)"
		} else {
			line += "; given up, listed by 'jwh failed'"
		}
	}
	return line
}

// isDir reports whether path is an existing directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
