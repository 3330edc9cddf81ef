// Package listencmd implements jwh listen: it runs the delivery listener of
// internal/listen on a local address, verifying each delivery with the
// secret of the configured tenant it comes from (a Connect tenant's shared
// secret, or the client secret of an OAuth 2.0 tenant's app), and prints
// what arrives; with --save, --register and --inspect it also keeps a
// history, a webhook for the session and the web inspector. The Renderer
// that prints the listener's events is exported for jwh demo, which runs a
// listener in-process.
package listencmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/history"
	"github.com/jwh-cli/jwh/internal/inspect"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// Defaults of the flags.
const (
	DefaultAddr        = "127.0.0.1:8080"
	defaultMaxBody     = "10MiB"
	defaultMaxInflight = "64MiB"
)

// maxSafeLeeway is the largest --leeway accepted without --unsafe-leeway:
// the leeway is how long after its expiry a token is still accepted, so a
// large one accepts replayed deliveries.
const maxSafeLeeway = 5 * time.Minute

// Options are the inputs of jwh listen.
type Options struct {
	IO      *iostreams.IOStreams
	Config  func() (*tenant.Config, error)
	Secrets func() tenant.SecretStore
	Getenv  func(string) string
	Now     func() time.Time

	TenantFlag string        // --tenant: verify this tenant's deliveries only
	Addr       string        // --addr
	Path       string        // --path
	BasePath   string        // --base-path
	NoVerify   bool          // --no-verify
	ForwardTo  string        // --forward-to
	JSON       bool          // --json or -o json
	Quiet      bool          // --quiet
	ShowClaims bool          // --show-claims
	Leeway     time.Duration // --leeway
	// UnsafeLeeway (--unsafe-leeway) allows a Leeway above 5 minutes.
	UnsafeLeeway bool
	MaxBody      int64 // --max-body, in bytes
	MaxInflight  int64 // --max-inflight, in bytes

	// Save (--save) is the history file every answered request is
	// appended to.
	Save string
	// Respond (--respond), FailFirst (--fail-first) and Delay (--delay)
	// answer deliveries with a chosen status (see listen.Respond).
	Respond   int
	FailFirst int
	Delay     time.Duration
	// Events (--event, comma lists split) and JQL (--jql) select the
	// deliveries printed, and with Register describe the session's
	// webhook; Filter is the two, checked (nil when neither is given).
	Events []string
	JQL    string
	Filter *history.Filter

	// Register (--register) registers a webhook for PublicURL
	// (--public-url, with Path when it has none) once the listener is
	// ready, and deletes it when it stops; SessionURL is that URL.
	Register     bool
	PublicURL    string
	SessionURL   string
	FieldIDs     []string // --field-id
	PropertyKeys []string // --property-key
	// Yes (--yes) deletes webhooks left by an earlier session without
	// asking.
	Yes bool
	// Client returns the Jira client of the selected tenant, for
	// Register.
	Client func() (*jira.Client, *tenant.Tenant, error)

	// Inspect (--inspect[=ADDR]) is the loopback address of the web
	// inspector, or "" for none; InspectKeep (--inspect-keep) is how many
	// records it holds.
	Inspect     string
	InspectKeep int

	// Listener, when not nil, is listened on instead of Addr: for tests
	// and for callers that need the port before the listener starts.
	Listener net.Listener
	// InspectListener, when not nil, is where the inspector serves
	// instead of Inspect.
	InspectListener net.Listener
}

// NewCmdListen returns jwh listen. Tests pass runF to see the parsed
// Options.
func NewCmdListen(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	var maxBody, maxInflight string
	var eventFlags, fieldFlags, propFlags []string
	cmd := &cobra.Command{
		Use:   "listen [--addr 127.0.0.1:8080] [--path /] [--no-verify] [--forward-to <url>] [--json] [--save <file>] [--register --public-url <url> --jql <query> --event <event>...] [--inspect[=127.0.0.1:4040]]",
		Short: "Receive, verify and print webhook deliveries",
		Long: `Receive Jira's webhook deliveries while debugging a Connect app or an OAuth 2.0
app: point a tunnel (ngrok, cloudflared) at the listener, register the
tunnel's URL with 'jwh register --url', change an issue, and see what Jira
sent and whether the app's own JWT check would accept it.

Each delivery is checked as atlassian-connect-express checks it: the
"Authorization: JWT" token must be HS256, signed with the shared secret of
the configured tenant whose client key is its iss (only the tenant given
with --tenant, when given), not expired and not issued in the future beyond
--leeway, and its qsh must be the hash of this request, with the path taken
relative to --base-path (the path of the app's base URL as this listener
sees it). A delivery that fails is answered 401 and printed with the check
that failed and why; the answer itself names only the check, as anyone can
send requests through a tunnel. When a tenant's secret cannot be read (a
keyring that is locked or unavailable), the delivery is answered 503, which
Jira retries. --leeway above 5m needs --unsafe-leeway: a large leeway
accepts long-expired tokens, and so replayed deliveries. --no-verify
accepts every delivery and marks it unverified.

The deliveries of an OAuth 2.0 app's webhooks carry "Authorization: Bearer"
and a JWT signed with the app's client secret, whose claims Jira does not
document and which has no qsh. They are checked with the client secrets of
the configured OAuth 2.0 tenants ('jwh tenant login'; only the one given
with --tenant, when given): HS256 only, the signature (the tenant whose
client id is the token's aud first, then every other one by name), and exp
and iat when present, with --leeway. Such a delivery prints "verified (oauth
tenant NAME)". --show-claims prints the header and claims of each request's
token, of both kinds, so that you can see what Jira sends.

Every delivery prints a summary line: the time, the event, the issue key,
the user, the matched webhook ids, the X-Atlassian-Webhook-Identifier,
the retry number, and ✓ verified (or ! not verified, or ✗ and why it was
refused), followed by the JSON body as sent, indented. --quiet prints the
summary lines only. A retry of an identifier already accepted is answered
200 and printed as a duplicate. --show-claims adds, under the summary line,
the token's scheme and header and its claims (iat and exp also as times),
never its signature.

--json prints one line per accepted delivery on standard output: the
payload bytes as received (made one line if they span several), and
nothing else; the lines about refused deliveries, duplicates and forwards
go to standard error, and so do the token lines of --show-claims, each
after a line with the delivery's time, event, issue key and identifier.

--forward-to sends each accepted delivery, body and headers unchanged, to
the app running locally, and answers Jira with the app's status code, so
that Jira's retries can be exercised; the summary shows --> and <-- lines
with the status and the latency.

The path, the method, the JWT and a declared length are checked before a
body is read: a sender without a valid token never has its body read.
Bodies larger than --max-body get 413, bodies that are not a JSON object
400. The bodies being read and handled share --max-inflight bytes (a body
of unknown length counts as twice --max-body while it is read); one that
finds no room within 15 seconds is answered 503, which Jira retries. At
most 256 connections are open at once, and slow clients time out.

--save FILE appends every request the listener answers to FILE, one JSON
line each (when and from where it came, its headers with the token's
header and claims instead of the Authorization header, the body as sent,
the verdict and the status answered), before the answer is sent. While
the listener runs it holds the file's lock: a second listener on the same
file stops at once. 'jwh history FILE' lists it, 'jwh replay FILE'
re-sends from it.

--respond STATUS answers deliveries with STATUS instead of handling them
(they are still verified and saved, but not forwarded), to watch Jira
retry: with --fail-first N, only the first N deliveries of each identifier,
then as usual, so that the retries arrive with the same identifier and
X-Atlassian-Webhook-Retry counting up. --delay DURATION waits before
answering: the --respond answers, or else every delivery.

--event and --jql print only the deliveries of these events whose issue
matches the filter (sprint and version events pass --jql: Jira does not
filter them); every delivery is still answered, verified and saved, and
refusals are always printed.

--register registers, once the listener is ready, a webhook for the
session: its URL is --public-url (the tunnel's; --path is added when it
has none), its filter and events --jql and --event (with --field-id and
--property-key), checked as 'jwh register' checks them. Its id is printed
on standard error, and it is deleted when the listener stops; when that
fails, jwh says how to delete it. A webhook of the tenant with the same
URL is taken for one left by an earlier session that did not stop
cleanly: on a terminal jwh asks whether to delete it, --yes deletes it,
otherwise jwh says how. Jira allows one callback URL per app, so when the
app has webhooks for another URL, jwh says so and does not start.

--inspect serves a web page on 127.0.0.1:4040 (or the loopback address
given as --inspect ADDR or --inspect=ADDR) that shows every request the listener answers as
it arrives, as the --save file records it: the verdict and why, the
token's header and claims, the headers, the body as pretty JSON, the
changelog, and what changed since the previous delivery of the same issue.
Its Replay button re-sends a delivery to --forward-to or a URL typed in
the page, signed afresh as 'jwh replay' signs it (for the tenant that
verified it, the qsh relative to --base-path); a replay sent to this
listener is listed as a replay of the original. The page holds the last
--inspect-keep records (1000). It answers only requests addressed to its
own address (Host 127.0.0.1:PORT or localhost:PORT), and replays only for
the page itself.

The listener binds to loopback unless told otherwise (and warns then).
"Ready" and all diagnostics go to standard error. Ctrl-C (or SIGTERM)
stops it within 2 seconds and prints a summary on standard error.

Exit status: 130 when stopped; 1 when it cannot listen, another listener
holds the --save file, or Jira refused the session's webhook; 2 for
invalid flags or a --save file that is not a history; 3 when no tenant can
verify deliveries or --register has no credentials.`,
		Example: `  ngrok http 8080 &      # or: cloudflared tunnel --url http://127.0.0.1:8080
  jwh register --url https://<tunnel host>/hook --jql 'project = PRJ' --event jira:issue_updated
  jwh listen --path /hook
  jwh listen --json | jq -c '{event: .webhookEvent, key: .issue.key}'
  jwh listen --forward-to http://localhost:3000/webhook
  jwh listen --save deliveries.ndjson --respond 503 --fail-first 2
  jwh listen --register --public-url https://abcd.ngrok.app --path /hook --jql 'project = PRJ' --event jira:issue_updated
  jwh listen --inspect --forward-to http://localhost:3000/webhook   # then open http://127.0.0.1:4040`,
		// --inspect takes its address as --inspect=ADDR or, as the
		// contract writes it, --inspect ADDR: a flag with an optional value
		// leaves the second form's address as the command's one argument.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && cmd.Flags().Changed("inspect") && opts.Inspect == inspect.DefaultAddr {
				opts.Inspect = args[0]
				return nil
			}
			return cmdutil.NoArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			g := cmdutil.GlobalsOf(cmd)
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Secrets = f.Secrets
			opts.Getenv = f.Getenv
			opts.Now = f.Now
			opts.TenantFlag = g.Tenant
			opts.JSON = opts.JSON || g.JSON
			opts.Client = func() (*jira.Client, *tenant.Tenant, error) { return f.JiraClient(g.Tenant, g.Debug) }
			if err := cmdutil.MutuallyExclusive("--json and --quiet cannot be used together: with --json, standard output carries only the payloads", opts.JSON, opts.Quiet); err != nil {
				return err
			}
			if err := cmdutil.CheckAddr("--addr", opts.Addr); err != nil {
				return err
			}
			n, err := parseSize(maxBody)
			if err != nil {
				return cmdutil.UsageErrorf("invalid --max-body %q: %v", maxBody, err)
			}
			opts.MaxBody = n
			if opts.MaxInflight, err = parseSize(maxInflight); err != nil {
				return cmdutil.UsageErrorf("invalid --max-inflight %q: %v", maxInflight, err)
			}
			if err := checkRespond(cmd, opts); err != nil {
				return err
			}
			opts.Events = cmdutil.SplitList(eventFlags)
			opts.FieldIDs = cmdutil.SplitList(fieldFlags)
			opts.PropertyKeys = cmdutil.SplitList(propFlags)
			if err := checkSelection(cmd, opts); err != nil {
				return err
			}
			if err := checkRegister(cmd, opts); err != nil {
				return err
			}
			if err := checkInspect(opts, cmd.Flags().Changed("inspect-keep")); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return listenRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", DefaultAddr, "`host:port` to listen on (loopback unless you say otherwise)")
	fl.StringVar(&opts.Path, "path", "/", "`path` deliveries arrive on (the path of the registered URL as the listener sees it)")
	fl.StringVar(&opts.BasePath, "base-path", "/", "`path` of the app's base URL, which Jira computes the qsh relative to")
	fl.BoolVar(&opts.NoVerify, "no-verify", false, "accept deliveries without checking their JWT (marked unverified)")
	fl.StringVar(&opts.ForwardTo, "forward-to", "", "forward each delivery to this `URL` and answer Jira with its status")
	fl.BoolVar(&opts.JSON, "json", false, "print only the raw payloads, one line each, on standard output")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print the summary lines only, without the bodies")
	fl.BoolVar(&opts.ShowClaims, "show-claims", false, "print the header and claims of each request's token under its summary line")
	fl.DurationVar(&opts.Leeway, "leeway", listen.DefaultLeeway, "clock skew allowed on the JWT's exp and iat (at most 5m without --unsafe-leeway)")
	fl.BoolVar(&opts.UnsafeLeeway, "unsafe-leeway", false, "allow a --leeway above 5m, which accepts replayed, long-expired tokens")
	fl.StringVar(&maxBody, "max-body", defaultMaxBody, "largest body accepted (`size` in bytes, or with KiB, MiB, KB, MB)")
	fl.StringVar(&maxInflight, "max-inflight", defaultMaxInflight, "bytes of bodies read and handled at once (`size`); more wait, then get 503")
	fl.StringVar(&opts.Save, "save", "", "append every delivery to this history `file` (one JSON line each; see 'jwh history')")
	fl.IntVar(&opts.Respond, "respond", 0, "answer deliveries with this HTTP `status` instead of handling them (e.g. 503, to see Jira retry)")
	fl.IntVar(&opts.FailFirst, "fail-first", 0, "with --respond, answer only the first `N` deliveries of each identifier so, then as usual")
	fl.DurationVar(&opts.Delay, "delay", 0, "wait this `duration` before answering (the --respond answers, else every delivery)")
	fl.StringArrayVar(&eventFlags, "event", nil, "print only deliveries of this `event` (repeatable, or a comma list); with --register, the webhook's events")
	fl.StringVar(&opts.JQL, "jql", "", "print only deliveries whose issue matches this JQL `filter`; with --register, the webhook's filter")
	fl.BoolVar(&opts.Register, "register", false, "register a webhook for --public-url while listening, and delete it on exit")
	fl.StringVar(&opts.PublicURL, "public-url", "", "with --register: the tunnel's public `URL` that reaches this listener")
	fl.StringArrayVar(&fieldFlags, "field-id", nil, "with --register: only send jira:issue_updated when this `field` changed (repeatable, or a comma list)")
	fl.StringArrayVar(&propFlags, "property-key", nil, "with --register: only send issue_property_* events for this `key` (repeatable, or a comma list)")
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "with --register: delete webhooks left by an earlier session without asking")
	fl.StringVar(&opts.Inspect, "inspect", "", "serve the web inspector on this loopback `address` (--inspect alone: "+inspect.DefaultAddr+")")
	fl.Lookup("inspect").NoOptDefVal = inspect.DefaultAddr
	fl.IntVar(&opts.InspectKeep, "inspect-keep", inspect.DefaultKeep, "the inspector holds the last `count` deliveries")
	_ = cmd.RegisterFlagCompletionFunc("event", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return events.Known(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// checkRespond checks --respond, --fail-first and --delay.
func checkRespond(cmd *cobra.Command, opts *Options) error {
	fl := cmd.Flags()
	if fl.Changed("respond") && (opts.Respond < 100 || opts.Respond > 599) {
		return cmdutil.UsageErrorf("invalid --respond %d: give an HTTP status from 100 to 599, such as 503", opts.Respond)
	}
	if fl.Changed("fail-first") {
		if !fl.Changed("respond") {
			return cmdutil.UsageErrorf("--fail-first needs --respond: the status to answer the first deliveries of each identifier with, such as --respond 503")
		}
		if opts.FailFirst < 1 {
			return cmdutil.UsageErrorf("invalid --fail-first %d: at least 1", opts.FailFirst)
		}
	}
	cfg := listen.Config{}
	switch limit := cfg.WriteTimeout(); {
	case opts.Delay < 0:
		return cmdutil.UsageErrorf("invalid --delay %s: it must not be negative", opts.Delay)
	case opts.Delay >= limit:
		return cmdutil.UsageErrorf("invalid --delay %s: the listener must answer within %s of reading a request; give less", opts.Delay, limit)
	}
	return nil
}

// checkSelection checks --event and --jql as jwh validate does, and
// builds the filter of the deliveries printed.
func checkSelection(cmd *cobra.Command, opts *Options) error {
	if cmd.Flags().Changed("jql") && strings.TrimSpace(opts.JQL) == "" {
		return cmdutil.UsageErrorf("--jql needs a filter, such as 'project = PRJ'")
	}
	q, err := cmdutil.CheckFilter(opts.JQL, opts.Events)
	if err != nil {
		return err
	}
	if q != nil || len(opts.Events) > 0 {
		opts.Filter = &history.Filter{Events: opts.Events, JQL: q}
	}
	return nil
}

// checkRegister checks the flags of --register, as jwh register checks
// its own (webhookspec), and sets SessionURL.
func checkRegister(cmd *cobra.Command, opts *Options) error {
	fl := cmd.Flags()
	if !opts.Register {
		for _, name := range []string{"public-url", "field-id", "property-key", "yes"} {
			if fl.Changed(name) {
				return cmdutil.UsageErrorf("--%s goes with --register", name)
			}
		}
		return nil
	}
	switch {
	case opts.PublicURL == "":
		return cmdutil.UsageErrorf("--register needs --public-url: the public URL of the tunnel that reaches this listener, such as https://abcd.ngrok.app")
	case opts.JQL == "":
		return cmdutil.UsageErrorf("--register needs --jql: the filter of the session's webhook, such as 'project = PRJ'")
	case len(opts.Events) == 0:
		return cmdutil.UsageErrorf("--register needs --event: at least one event, such as jira:issue_updated")
	}
	u, err := sessionURL(opts.PublicURL, opts.Path)
	if err != nil {
		return cmdutil.InputErrorf("invalid --public-url %q: %v", urlpolicy.Redacted(opts.PublicURL), err)
	}
	c := webhookspec.CheckRequest(sessionRequest(opts, u), webhookspec.Connect)
	if err := cmdutil.FlagRequestError(c, "--public-url", opts.PublicURL); err != nil {
		return err
	}
	opts.SessionURL = u
	return nil
}

// sessionRequest is the registration of the session's webhook for url.
func sessionRequest(opts *Options, url string) *jira.RegisterRequest {
	return &jira.RegisterRequest{URL: url, Webhooks: []jira.WebhookSpec{{
		JQLFilter: opts.JQL, Events: opts.Events,
		FieldIDsFilter: opts.FieldIDs, IssuePropertyKeysFilter: opts.PropertyKeys,
	}}}
}

// listenRun runs the listener until ctx is done.
func listenRun(ctx context.Context, opts *Options) error {
	cfg, warnings, err := engineConfig(opts)
	if err != nil {
		return err
	}
	var tenants, oauthTenants []string
	if s, ok := cfg.Secrets.(*tenantSecrets); ok {
		tenants, oauthTenants = s.names, s.oauthNames()
	}
	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", opts.Addr); err != nil {
			return cmdutil.ListenError(opts.Addr, err)
		}
	}
	if cfg.ForwardTo != nil && forwardsToItself(cfg.ForwardTo, ln.Addr()) {
		ln.Close()
		return cmdutil.UsageErrorf("--forward-to %s is this listener (%s): each delivery would be forwarded to itself; give the address of your app", cfg.ForwardTo, ln.Addr())
	}
	insp, inspLn, err := openInspector(opts, ln.Addr())
	if err != nil {
		ln.Close()
		return err
	}
	// closeListeners closes what listenRun listens on, when it fails
	// before serving.
	closeListeners := func() {
		ln.Close()
		if inspLn != nil {
			inspLn.Close()
		}
	}
	var saved *history.File
	if opts.Save != "" {
		if saved, err = openHistory(opts.Save); err != nil {
			closeListeners()
			return err
		}
		defer saved.Close()
	}
	var sess *session
	if opts.Register {
		// With the address taken: the webhook is registered only once
		// the listener can receive its deliveries.
		if sess, err = newSession(ctx, opts, opts.SessionURL); err != nil {
			closeListeners()
			return err
		}
	}
	ropts := RenderOptions{
		JSON: opts.JSON, Quiet: opts.Quiet, Tenants: tenants, OAuthTenants: oauthTenants, Filter: opts.Filter,
		FailFirst: opts.FailFirst, Save: opts.Save, ShowClaims: opts.ShowClaims,
	}
	if insp != nil {
		ropts.Inspector = insp.URL()
	}
	r := NewRenderer(opts.IO, ropts)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	cfg.OnEvent = r.Event
	if sess != nil {
		sess.write = func(msg string) { r.w.Write(nil, []byte(msg)) }
		cfg.OnEvent = func(e listen.Event) {
			r.Event(e)
			if _, ok := e.(*listen.Ready); ok {
				go sess.register(ctx, stop)
			}
		}
	}
	var sinks []func(line []byte)
	if saved != nil {
		sinks = append(sinks, saver(saved, r))
	}
	if insp != nil {
		// Add keeps a copy of the line: the buffer is reused.
		sinks = append(sinks, func(line []byte) { insp.Add(line) })
	}
	if len(sinks) > 0 {
		cfg.OnRecord = recordLines(sinks...)
	}
	srv, err := listen.New(cfg)
	if err != nil {
		closeListeners()
		return err
	}
	if saved != nil {
		if saved.Cut > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: cut off its last line (%d bytes), which a listener that was stopped while writing it left incomplete", saved.Path(), saved.Cut))
		}
	}
	if opts.Register && !strings.HasSuffix(opts.SessionURL, opts.Path) {
		warnings = append(warnings, fmt.Sprintf("the session's webhook URL %s does not end with --path %s: the tunnel must send its requests to %s", opts.SessionURL, opts.Path, opts.Path))
	}
	for _, w := range warnings {
		fmt.Fprintf(opts.IO.ErrOut, "%s %s\n", r.errCS.WarningIcon(), w)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	stopInspector := serveInspector(ctx, opts.IO, insp, inspLn)
	err = srv.Serve(ctx, ln)
	stopInspector()
	r.Summary(srv.Stats(), now().Sub(started))
	var regErr error
	if sess != nil {
		regErr = sess.finish(ctx, func(msg string) { io.WriteString(opts.IO.ErrOut, msg) })
	}
	switch {
	case err != nil:
		return fmt.Errorf("listener stopped: %w", err)
	case regErr != nil:
		return regErr
	case ctx.Err() != nil:
		return cmdutil.SilentExit(cmdutil.ExitInterrupted)
	}
	return nil
}

// openHistory opens the --save file.
func openHistory(path string) (*history.File, error) {
	h, err := history.Open(path)
	switch {
	case err == nil:
		return h, nil
	case errors.Is(err, history.ErrLocked):
		return nil, err
	}
	return nil, cmdutil.InputErrorf("--save: %w", err)
}

// recordLines returns the listen.Config.OnRecord that writes each record
// as its line, once, into a pooled buffer, and passes the line to each
// sink in turn, before the request is answered. A sink that keeps the
// line must copy it.
func recordLines(sinks ...func(line []byte)) func(*listen.Record) {
	return func(rec *listen.Record) {
		bp := linePool.Get().(*[]byte)
		*bp = rec.AppendLine((*bp)[:0])
		for _, sink := range sinks {
			sink(*bp)
		}
		if cap(*bp) <= maxPooledLine {
			linePool.Put(bp)
		}
	}
}

// saver returns the sink of recordLines that appends each line to h. A
// write that fails is told once; the listener goes on answering.
func saver(h *history.File, r *Renderer) func(line []byte) {
	var once sync.Once
	return func(line []byte) {
		if err := h.Append(line); err != nil {
			once.Do(func() {
				r.w.Write(nil, fmt.Appendf(nil, "%s could not save to %s: %v; deliveries are still answered, but no longer saved\n",
					r.errCS.FailureIcon(), h.Path(), err))
			})
		}
	}
}

// linePool holds the buffers records are written into.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// maxPooledLine bounds the buffers kept in linePool: one for a huge body
// is given back to the collector.
const maxPooledLine = 1 << 20

// engineConfig checks the flags and builds the listener's configuration,
// without OnEvent, and the warnings to print before it starts.
func engineConfig(opts *Options) (listen.Config, []string, error) {
	cfg := listen.Config{
		Path:        opts.Path,
		BasePath:    opts.BasePath,
		NoVerify:    opts.NoVerify,
		Leeway:      opts.Leeway,
		MaxBody:     opts.MaxBody,
		MaxInflight: opts.MaxInflight,
		Now:         opts.Now,
		Respond:     listen.Respond{Status: opts.Respond, FailFirst: opts.FailFirst, Delay: opts.Delay},
		ShowClaims:  opts.ShowClaims,
	}
	switch {
	case !strings.HasPrefix(opts.Path, "/"):
		return cfg, nil, cmdutil.UsageErrorf("invalid --path %q: it must start with /", opts.Path)
	case !strings.HasPrefix(opts.BasePath, "/"):
		return cfg, nil, cmdutil.UsageErrorf("invalid --base-path %q: it must start with /", opts.BasePath)
	case opts.Leeway < 0:
		return cfg, nil, cmdutil.UsageErrorf("invalid --leeway %s: it must not be negative", opts.Leeway)
	case opts.Leeway > maxSafeLeeway && !opts.UnsafeLeeway:
		return cfg, nil, cmdutil.UsageErrorf("--leeway %s is above %s: a leeway that large accepts replayed, long-expired tokens; add --unsafe-leeway if you mean it",
			opts.Leeway, maxSafeLeeway)
	case opts.MaxBody <= 0:
		return cfg, nil, cmdutil.UsageErrorf("invalid --max-body %d: it must be positive", opts.MaxBody)
	}
	if opts.ForwardTo != "" {
		u, err := urlpolicy.ParseTargetURL(opts.ForwardTo)
		if err != nil {
			return cfg, nil, cmdutil.UsageErrorf("invalid --forward-to %q: %s", urlpolicy.Redacted(opts.ForwardTo), urlpolicy.Reason(err))
		}
		cfg.ForwardTo = u
	}
	var warnings []string
	if opts.Leeway > maxSafeLeeway && !opts.NoVerify {
		warnings = append(warnings, fmt.Sprintf("--unsafe-leeway: tokens up to %s past their expiry are accepted, replayed deliveries included", opts.Leeway))
	}
	if !underBasePath(opts.Path, opts.BasePath) {
		warnings = append(warnings, fmt.Sprintf("--path %s is not under --base-path %s: Jira computes the qsh of a delivery over its path relative to the app's base URL, so check both", opts.Path, opts.BasePath))
	}
	if opts.NoVerify {
		return cfg, warnings, nil
	}
	tc, err := opts.Config()
	if err != nil {
		return cfg, nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	secrets, more, err := newTenantSecrets(secretsOptions{
		cfg: tc, store: opts.Secrets, getenv: opts.Getenv, tenantFlag: opts.TenantFlag, now: now,
	})
	if err != nil {
		return cfg, nil, err
	}
	cfg.Secrets, cfg.OAuth = secrets, secrets
	return cfg, append(warnings, more...), nil
}

// underBasePath reports whether path is basePath or below it, by whole
// segments, as the qsh's canonical path strips it.
func underBasePath(path, basePath string) bool {
	base := strings.TrimSuffix(basePath, "/")
	return base == "" || path == base || strings.HasPrefix(path, base+"/")
}

// forwardsToItself reports whether u names the address the listener is
// bound to: a delivery forwarded there would come back, forever.
func forwardsToItself(u *url.URL, addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || u.Scheme != "http" {
		return false
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	if port != strconv.Itoa(ta.Port) {
		return false
	}
	host := u.Hostname()
	if ta.IP.IsUnspecified() {
		return true // every local address, whatever the host name says
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.Equal(ta.IP)
	}
	return urlpolicy.IsLoopbackHost(host) && ta.IP.IsLoopback()
}

// parseSize reads a size in bytes: a number, optionally followed by KiB,
// MiB (powers of 1024, also written K and M) or KB, MB (powers of 1000).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	unit := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, unit = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive number of bytes, e.g. 10MiB")
	}
	if n > (1<<62)/unit {
		return 0, errors.New("too large")
	}
	return n * unit, nil
}
