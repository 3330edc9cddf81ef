// Package extend implements jwh extend: the refresh of webhooks before
// Jira lets them expire, on one tenant or on every configured tenant at
// once. It is the command that cron runs.
package extend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// DefaultConcurrency is how many tenants --all-tenants works on at once.
const DefaultConcurrency = 8

// maxConcurrency bounds --concurrency.
const maxConcurrency = 64

// Options are the inputs of jwh extend.
type Options struct {
	IO  *iostreams.IOStreams
	Now func() time.Time
	// Client returns a client for the selected tenant.
	Client func() (*jira.Client, *tenant.Tenant, error)
	// Config, Resolver and ClientFor serve --all-tenants: the tenants,
	// the one judge of their secrets, and a client for each with its
	// secrets from that Resolver.
	Config    func() (*tenant.Config, error)
	Resolver  func() (*tenant.Resolver, error)
	ClientFor func(*tenant.Tenant, *tenant.Resolver) (*jira.Client, error)
	JSON      bool // -o json

	IDs         []int64
	All         bool // --all
	AllTenants  bool // --all-tenants
	Quiet       bool // --quiet
	Concurrency int  // --concurrency
}

// NewCmdExtend returns jwh extend. Tests pass runF to see the parsed
// Options.
func NewCmdExtend(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "extend {<id>... | --all | --all-tenants}",
		Short: "Extend the life of webhooks before they expire",
		Long: `Extend webhooks that Jira would otherwise let expire (30 days after they were
registered or last extended): by id, every webhook of the tenant with --all,
or every webhook of every configured tenant with --all-tenants. One request
lists the webhooks and one refreshes them all (PUT /rest/api/2/webhook/refresh);
the new expiration is printed.

Ids that are not registered are named and make the exit status 1 (Jira
itself ignores them). --all on a tenant without webhooks succeeds and says so.

--all-tenants works on --concurrency tenants at once (default 8), tenants
of both kinds, each with its own secrets from the keyring (or, for an OAuth
tenant logged in with --no-keyring, credentials.json). JWH_SHARED_SECRET and
JWH_CLIENT_SECRET stand for the secret of one tenant only: the one JWH_TENANT
names, else the default tenant, else the only one. It prints one line per
tenant, in the order of
'jwh tenant list': TENANT, RESULT (extended, none or failed), WEBHOOKS and
DETAIL (the new expiration, or the error). While it runs, progress is shown
on standard error when that is a terminal.

--quiet prints nothing on success, for cron: a failure still prints one line
per failing tenant on standard error and exits non-zero. See docs/cron.md.

With -o json, prints {"tenant", "ok", "extended": [ids], "notRegistered":
[ids], "expiration" (RFC 3339, UTC, null when nothing was extended),
"expirationMillis", "error" (null on success)}; with --all-tenants, an
array of them. It is printed when a tenant failed too, then the command
fails.

Exit status: 0 on success, 1 when Jira answered with an error, some ids were
not registered, or (with --all-tenants) any tenant failed, 2 for invalid
input, 3 for credentials problems of the selected tenant.`,
		Example: `  jwh extend --all
  jwh extend 10001 10002
  jwh extend --all --quiet            # from cron
  jwh extend --all-tenants --quiet    # from cron, every tenant`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.Now = f.Now
			g := cmdutil.GlobalsOf(cmd)
			opts.Client = func() (*jira.Client, *tenant.Tenant, error) { return f.JiraClient(g.Tenant, g.Debug) }
			opts.Config = f.Config
			opts.Resolver = func() (*tenant.Resolver, error) { return f.Resolver("") }
			opts.ClientFor = func(t *tenant.Tenant, r *tenant.Resolver) (*jira.Client, error) { return f.ClientFor(t, r, g.Debug) }
			opts.JSON = g.JSON
			switch {
			case opts.AllTenants && len(args) > 0:
				return cmdutil.UsageErrorf("--all-tenants extends every webhook of every tenant: give no ids")
			case opts.AllTenants && g.Tenant != "":
				return cmdutil.UsageErrorf("specify either --tenant or --all-tenants, not both")
			case opts.All && len(args) > 0:
				return cmdutil.UsageErrorf("specify either webhook ids or --all, not both")
			case !opts.All && !opts.AllTenants && len(args) == 0:
				return cmdutil.UsageErrorf("specify the webhook ids to extend, --all or --all-tenants")
			case cmd.Flags().Changed("concurrency") && !opts.AllTenants:
				return cmdutil.UsageErrorf("--concurrency goes with --all-tenants")
			case opts.Concurrency < 1 || opts.Concurrency > maxConcurrency:
				return cmdutil.UsageErrorf("--concurrency must be between 1 and %d", maxConcurrency)
			}
			ids, err := cmdutil.ParseIDs(args)
			if err != nil {
				return err
			}
			opts.IDs = ids
			if runF != nil {
				return runF(opts)
			}
			if opts.AllTenants {
				return allTenantsRun(cmd.Context(), opts)
			}
			return extendRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "extend every webhook of the tenant")
	fl.BoolVar(&opts.AllTenants, "all-tenants", false, "extend every webhook of every configured tenant")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing on success (for cron)")
	fl.IntVar(&opts.Concurrency, "concurrency", DefaultConcurrency, "with --all-tenants, how many tenants to work on at once")
	return cmd
}

// result is what happened on one tenant.
type result struct {
	Tenant        string
	Extended      []int64
	NotRegistered []int64
	Expiration    time.Time // zero when nothing was extended
	Err           error     // without the tenant's name, which problem adds
}

// failed reports whether the tenant's extension failed in any way.
func (r *result) failed() bool { return r.Err != nil || len(r.NotRegistered) > 0 }

// problem returns what went wrong, naming the tenant once, or nil.
func (r *result) problem() error {
	switch {
	case r.Err != nil:
		return cmdutil.OnTenant(r.Tenant, r.Err)
	case len(r.NotRegistered) > 0:
		return fmt.Errorf("not registered on tenant %s, so not extended: %s", r.Tenant, output.JoinIDs(r.NotRegistered))
	}
	return nil
}

// resultJSON is a result in -o json output.
type resultJSON struct {
	Tenant           string  `json:"tenant"`
	OK               bool    `json:"ok"`
	Extended         []int64 `json:"extended"`
	NotRegistered    []int64 `json:"notRegistered"`
	Expiration       *string `json:"expiration"`
	ExpirationMillis *int64  `json:"expirationMillis"`
	Error            *string `json:"error"`
}

func (r *result) json() resultJSON {
	j := resultJSON{Tenant: r.Tenant, OK: !r.failed(), Extended: output.NonNil(r.Extended), NotRegistered: output.NonNil(r.NotRegistered)}
	j.Expiration, j.ExpirationMillis = output.JSONTime(r.Expiration)
	if r.failed() {
		msg := r.reason()
		j.Error = &msg
	}
	return j
}

// reason says why the tenant failed without naming it, as problem does
// with its name: the row of the table and the JSON object name it.
func (r *result) reason() string {
	var te *cmdutil.TenantError
	switch {
	case r.Err == nil:
		return "not registered, so not extended: " + output.JoinIDs(r.NotRegistered)
	case errors.As(r.Err, &te) && te.Tenant == r.Tenant:
		return te.Err.Error()
	}
	return r.Err.Error()
}

// extend refreshes the webhooks of one tenant: every one with all, else
// those of ids that are registered. It lists them first (one GET for up to
// 100 webhooks) and refreshes them in one PUT.
func extend(ctx context.Context, client *jira.Client, name string, ids []int64, all bool) *result {
	r := &result{Tenant: name}
	hooks, err := client.AllWebhooks(ctx)
	if err != nil {
		r.Err = err
		return r
	}
	found, missing := jira.WebhookIDs(hooks), []int64(nil)
	if !all {
		found, missing = jira.SplitIDs(ids, hooks)
	}
	r.NotRegistered = missing
	if len(found) == 0 {
		return r
	}
	exp, err := client.RefreshWebhooks(ctx, found)
	if err != nil {
		r.Err = err
		return r
	}
	r.Extended, r.Expiration = found, exp
	return r
}

func extendRun(ctx context.Context, opts *Options) error {
	client, t, err := opts.Client()
	if err != nil {
		return err
	}
	r := extend(ctx, client, t.Name, opts.IDs, opts.All)
	switch {
	case opts.JSON:
		if err := output.JSON(opts.IO.Out, r.json()); err != nil {
			return err
		}
	case opts.Quiet, r.Err != nil:
		// Nothing on success; the error says what failed.
	case len(r.Extended) > 0:
		fmt.Fprintf(opts.IO.Out, "Extended %s of tenant %s until %s\n",
			output.Plural(len(r.Extended), "webhook"), t.Name, until(r.Expiration, opts.Now()))
	case opts.All:
		fmt.Fprintf(opts.IO.Out, "No webhooks to extend: tenant %s has none\n", t.Name)
	}
	return r.problem()
}

// until shows a new expiration: RFC 3339 and how far away it is.
func until(exp, now time.Time) string {
	return exp.UTC().Format(output.TimeLayout) + " (" + output.Relative(exp, now) + ")"
}

// allTenantsRun extends every webhook of every configured tenant, at most
// opts.Concurrency tenants at a time, and reports one line per tenant in
// the config's order. The Resolver reads the tenants' secrets ahead, in
// as few keyring calls as the platform allows, and hands the tenants out
// as their secrets become ready: the requests start at once, and no
// worker waits for the keyring while another tenant's secret is at hand.
func allTenantsRun(ctx context.Context, opts *Options) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	tenants := cfg.Tenants
	if len(tenants) == 0 {
		return fmt.Errorf("%w: %s", tenant.ErrNoTenants, tenant.AddTenantHint)
	}
	r, err := opts.Resolver()
	if err != nil {
		return err
	}
	prog := newProgress(opts.IO, len(tenants), opts.IO.IsStderrTTY() && !opts.Quiet)
	results := make([]*result, len(tenants))
	ready := r.ReadAhead(ctx, tenants, opts.Concurrency)
	var wg sync.WaitGroup
	for range min(opts.Concurrency, len(tenants)) {
		wg.Go(func() {
			for i := range ready {
				results[i] = extendTenant(ctx, opts, r, &tenants[i])
				prog.done()
			}
		})
	}
	wg.Wait()
	prog.clear()
	if err := ctx.Err(); err != nil {
		return err
	}

	var failed []string
	for _, r := range results {
		if r.failed() {
			failed = append(failed, r.Tenant)
		}
	}
	switch {
	case opts.JSON:
		list := make([]resultJSON, len(results))
		for i, r := range results {
			list[i] = r.json()
		}
		if err := output.JSON(opts.IO.Out, list); err != nil {
			return err
		}
	case opts.Quiet:
		// One line per failing tenant, and exit status 1 whatever
		// the tenants' errors would call for alone.
		var problems []error
		for _, r := range results {
			if err := r.problem(); err != nil {
				problems = append(problems, err)
			}
		}
		if len(problems) > 0 {
			return &cmdutil.MultiError{Errs: problems}
		}
		return nil
	default:
		if err := renderTable(opts.IO, results, opts.Now()); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("extend failed on %d of %s: %s", len(failed), output.Plural(len(results), "tenant"), strings.Join(failed, ", "))
	}
	return nil
}

// extendTenant extends every webhook of one tenant of --all-tenants, with
// its secrets from r. Once ctx is done it asks for none.
func extendTenant(ctx context.Context, opts *Options, r *tenant.Resolver, t *tenant.Tenant) *result {
	if err := ctx.Err(); err != nil {
		return &result{Tenant: t.Name, Err: err}
	}
	client, err := opts.ClientFor(t, r)
	if err != nil {
		return &result{Tenant: t.Name, Err: err}
	}
	return extend(ctx, client, t.Name, nil, true)
}

// renderTable prints one line per tenant: TENANT, RESULT, WEBHOOKS, DETAIL.
func renderTable(ios *iostreams.IOStreams, results []*result, now time.Time) error {
	tty := ios.IsStdoutTTY()
	tbl := output.NewTable(ios, "TENANT", "RESULT", "WEBHOOKS", "DETAIL")
	for _, r := range results {
		switch {
		case r.Err != nil:
			tbl.AddRow(r.Tenant, "failed", "", r.reason())
		case len(r.Extended) == 0:
			tbl.AddRow(r.Tenant, "none", "0", "no webhooks")
		default:
			tbl.AddRow(r.Tenant, "extended", strconv.Itoa(len(r.Extended)), output.ExpiresText(r.Expiration, now, tty))
		}
	}
	return tbl.Render()
}

// progress shows "Extending webhooks: 5/20 tenants" on a terminal's
// standard error while --all-tenants runs.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
	on    bool
}

func newProgress(ios *iostreams.IOStreams, total int, on bool) *progress {
	p := &progress{w: ios.ErrOut, total: total, on: on}
	p.print()
	return p
}

func (p *progress) print() {
	if p.on {
		fmt.Fprintf(p.w, "\rExtending webhooks: %d/%d tenants", p.n, p.total)
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.print()
}

func (p *progress) clear() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
