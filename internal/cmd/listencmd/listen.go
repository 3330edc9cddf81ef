// Package listencmd implements jwh listen: it runs the delivery listener of
// internal/listen on a local address, verifying each delivery with the
// shared secret of the configured tenant it comes from, and prints what
// arrives. The Renderer that prints the listener's events is exported for
// jwh demo, which runs a listener in-process.
package listencmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
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
	Leeway     time.Duration // --leeway
	// UnsafeLeeway (--unsafe-leeway) allows a Leeway above 5 minutes.
	UnsafeLeeway bool
	MaxBody      int64 // --max-body, in bytes
	MaxInflight  int64 // --max-inflight, in bytes

	// Listener, when not nil, is listened on instead of Addr: for tests
	// and for callers that need the port before the listener starts.
	Listener net.Listener
}

// NewCmdListen returns jwh listen. Tests pass runF to see the parsed
// Options.
func NewCmdListen(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	var maxBody, maxInflight string
	cmd := &cobra.Command{
		Use:   "listen [--addr 127.0.0.1:8080] [--path /] [--no-verify] [--forward-to <url>] [--json]",
		Short: "Receive, verify and print webhook deliveries",
		Long: `Receive Jira's webhook deliveries while debugging a Connect app: point a tunnel
(ngrok, cloudflared) at the listener, register the tunnel's URL with
'jwh register --url', change an issue, and see what Jira sent and whether
the app's own JWT check would accept it.

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

Every delivery prints a summary line: the time, the event, the issue key,
the user, the matched webhook ids, the X-Atlassian-Webhook-Identifier,
the retry number, and ✓ verified (or ! not verified, or ✗ and why it was
refused), followed by the JSON body as sent, indented. --quiet prints the
summary lines only. A retry of an identifier already accepted is answered
200 and printed as a duplicate.

--json prints one line per accepted delivery on standard output: the
payload bytes as received (made one line if they span several), and
nothing else; the lines about refused deliveries, duplicates and forwards
go to standard error.

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

The listener binds to loopback unless told otherwise (and warns then).
"Ready" and all diagnostics go to standard error. Ctrl-C (or SIGTERM)
stops it within 2 seconds and prints a summary on standard error; the
exit status is then 130.`,
		Example: `  ngrok http 8080 &      # or: cloudflared tunnel --url http://127.0.0.1:8080
  jwh register --url https://<tunnel host>/hook --jql 'project = PRJ' --event jira:issue_updated
  jwh listen --path /hook
  jwh listen --json | jq -c '{event: .webhookEvent, key: .issue.key}'
  jwh listen --forward-to http://localhost:3000/webhook`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			g := cmdutil.GlobalsOf(cmd)
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Secrets = f.Secrets
			opts.Getenv = f.Getenv
			opts.Now = f.Now
			opts.TenantFlag = g.Tenant
			opts.JSON = opts.JSON || g.JSON
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
	fl.DurationVar(&opts.Leeway, "leeway", listen.DefaultLeeway, "clock skew allowed on the JWT's exp and iat (at most 5m without --unsafe-leeway)")
	fl.BoolVar(&opts.UnsafeLeeway, "unsafe-leeway", false, "allow a --leeway above 5m, which accepts replayed, long-expired tokens")
	fl.StringVar(&maxBody, "max-body", defaultMaxBody, "largest body accepted (`size` in bytes, or with KiB, MiB, KB, MB)")
	fl.StringVar(&maxInflight, "max-inflight", defaultMaxInflight, "bytes of bodies read and handled at once (`size`); more wait, then get 503")
	return cmd
}

// listenRun runs the listener until ctx is done.
func listenRun(ctx context.Context, opts *Options) error {
	cfg, warnings, err := engineConfig(opts)
	if err != nil {
		return err
	}
	var tenants []string
	if s, ok := cfg.Secrets.(*tenantSecrets); ok {
		tenants = s.names
	}
	r := NewRenderer(opts.IO, RenderOptions{JSON: opts.JSON, Quiet: opts.Quiet, Tenants: tenants})
	cfg.OnEvent = r.Event
	srv, err := listen.New(cfg)
	if err != nil {
		return err
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
	for _, w := range warnings {
		fmt.Fprintf(opts.IO.ErrOut, "%s %s\n", r.errCS.WarningIcon(), w)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	err = srv.Serve(ctx, ln)
	r.Summary(srv.Stats(), now().Sub(started))
	if err != nil {
		return fmt.Errorf("listener stopped: %w", err)
	}
	if ctx.Err() != nil {
		return cmdutil.SilentExit(cmdutil.ExitInterrupted)
	}
	return nil
}

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
	cfg.Secrets = secrets
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
