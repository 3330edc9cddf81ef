// Package doctor implements jwh doctor: the checks of
// docs/troubleshooting.md, run on one tenant or on every tenant, each
// with its verdict and, when it does not pass, what to do. It changes
// nothing and sends only GET requests, through the same client as every
// other command (so --debug, the timeouts and the retries hold).
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// concurrency is how many tenants --all-tenants checks at once.
const concurrency = 8

// maxChecks is more than the number of checks of one tenant.
const maxChecks = 16

// Options are the inputs of jwh doctor.
type Options struct {
	IO     *iostreams.IOStreams
	Now    func() time.Time
	Getenv func(string) string
	Config func() (*tenant.Config, error)
	// Resolver returns the judge of where secrets come from, for the
	// tenant that --tenant selects ("" with --all-tenants).
	Resolver func() (*tenant.Resolver, error)
	// Client returns a client for t with its secrets from r, as every
	// webhook command gets one.
	Client func(t *tenant.Tenant, r *tenant.Resolver) (*jira.Client, error)
	JSON   bool // -o json

	Tenant     string // --tenant
	AllTenants bool   // --all-tenants
}

// NewCmdDoctor returns jwh doctor. Tests pass runF to see the parsed
// Options.
func NewCmdDoctor(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "doctor [-t <tenant> | --all-tenants]",
		Short: "Check a tenant's config, secrets, clock, credentials and webhooks",
		Long: `Check what a tenant needs to work, and say what to do about what does not:
the checks of docs/troubleshooting.md, run against Jira. It changes nothing
and sends only GET requests (a few per tenant); an OAuth access token is
refreshed only when it expires within a minute, as any command would.

It checks the selected tenant (--tenant, JWH_TENANT, the default tenant or the
only one), or with --all-tenants every configured tenant, 8 at a time. One
line per check, with a mark: ✓ passed, ! a warning (passes), ✗ failed, and
under every mark other than ✓ a "fix:" line with what to do. The checks, in
order:

  config         the config file is readable; the tenant's kind and URL
  secret         (connect) the shared secret is found, and where it comes from
  client-secret  (oauth) the client secret is found, and where it comes from
  tokens         (oauth) only when the stored login cannot be read
  access-token   (oauth) the cached access token, until when it is valid
  refresh-token  (oauth) 90 days without use end it (! within 14 days, ✗ past),
                 and without offline_access there is none
  login          (oauth) 365 days after the consent the login ends (! within
                 14 days, ✗ past)
  scopes         (oauth) the login has a scope of the webhook API
  base-url       the site (an OAuth tenant's gateway) answers
  clock          this machine's clock against the Date of Jira's answer:
                 Jira refuses a Connect JWT more than 30 s off (! above 10 s)
  auth           a signed GET /rest/api/2/myself is accepted (an OAuth tenant:
                 GET /rest/api/2/webhook); a 401 or 403 says which cause of
                 docs/troubleshooting.md fits: the clock, the app key and the
                 client key mixed up, a context path in the base URL, a new
                 shared secret (the app reinstalled or uninstalled), missing
                 scopes
  webhooks       ! when some expire within 7 days, ✗ when some have expired
  failed         (connect) ! when Jira gave up on deliveries in the last 72 h

With -o json, prints an array of {"tenant", "check", "status" ("pass",
"warn" or "fail"), "detail", "fix" ("" when there is nothing to do)}, one
per check, in the order above.

Exit status: 0 when every check passed (warnings pass), 1 when a check failed,
3 when a check of credentials failed (no secret, a login that ended, Jira
answered 401 or 403).`,
		Example: `  jwh doctor
  jwh doctor -t acme
  jwh doctor --all-tenants -o json | jq -r '.[] | select(.status != "pass") | "\(.tenant) \(.check): \(.fix)"'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			g := cmdutil.GlobalsOf(cmd)
			if opts.AllTenants && g.Tenant != "" {
				return cmdutil.UsageErrorf("specify either --tenant or --all-tenants, not both")
			}
			opts.IO = f.IOStreams
			opts.Now = f.Now
			opts.Getenv = f.Getenv
			opts.Config = f.Config
			opts.Resolver = func() (*tenant.Resolver, error) { return f.Resolver(g.Tenant) }
			opts.Client = func(t *tenant.Tenant, r *tenant.Resolver) (*jira.Client, error) {
				return f.ClientFor(t, r, g.Debug)
			}
			opts.JSON = g.JSON
			opts.Tenant = g.Tenant
			if runF != nil {
				return runF(opts)
			}
			return doctorRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.AllTenants, "all-tenants", false, "check every configured tenant")
	return cmd
}

// Status is the verdict of a check.
type Status string

// The verdicts, as -o json writes them.
const (
	Pass Status = "pass"
	Warn Status = "warn" // passes, but something needs doing soon
	Fail Status = "fail"
)

// Result is the outcome of one check on one tenant.
type Result struct {
	Tenant string `json:"tenant"` // "" when the config could not be read
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
	// credentials marks a failure of credentials: exit status 3.
	credentials bool
}

func doctorRun(ctx context.Context, opts *Options) error {
	p := newPrinter(opts.IO, opts.JSON)
	cfg, err := opts.Config()
	if err != nil {
		r := configResult(err)
		p.result(r)
		if err := p.flush(); err != nil {
			return err
		}
		return verdict([]Result{r})
	}
	var tenants []tenant.Tenant
	if opts.AllTenants {
		tenants = cfg.Tenants
		if len(tenants) == 0 {
			return fmt.Errorf("%w: %s", tenant.ErrNoTenants, tenant.AddTenantHint)
		}
	} else {
		t, err := cfg.Select(opts.Tenant, opts.Getenv(tenant.EnvTenant))
		if err != nil {
			return err
		}
		tenants = []tenant.Tenant{*t}
	}
	r, err := opts.Resolver()
	if err != nil {
		return err
	}

	// Every tenant's results flow through its own channel, checked up to
	// concurrency at a time and printed in the config's order as they come.
	// A channel holds more than the checks of one tenant, so a tenant
	// whose turn to be printed has not come never blocks while it holds
	// its place among the concurrent ones.
	chans := make([]chan Result, len(tenants))
	for i := range chans {
		chans[i] = make(chan Result, maxChecks)
	}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(chans[i])
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			c := &checker{ctx: ctx, opts: opts, cfg: cfg, r: r, t: &tenants[i], out: chans[i]}
			c.run()
		}()
	}
	var all []Result
	for i, ch := range chans {
		p.tenant(tenants[i].Name)
		for res := range ch {
			p.result(res)
			all = append(all, res)
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := p.flush(); err != nil {
		return err
	}
	return verdict(all)
}

// configResult is the check of a config file that cannot be read.
func configResult(err error) Result {
	r := Result{Check: "config", Status: Fail, Detail: err.Error(),
		Fix: "repair the file, or move it away and add the tenants again (jwh tenant import, jwh tenant login)"}
	var damaged *tenant.DamagedConfigError
	if errors.As(err, &damaged) {
		r.Detail = fmt.Sprintf("%s is damaged (%s)", damaged.Path, damaged.Reason)
	}
	return r
}

// verdict is the error of a run: nil when no check failed; else one line
// that names the failed checks, with exit status 3 when one of them is a
// failure of credentials.
func verdict(results []Result) error {
	var names []string
	byTenant := map[string][]string{}
	n, credentials := 0, false
	for _, r := range results {
		if r.Status != Fail {
			continue
		}
		n++
		credentials = credentials || r.credentials
		if _, seen := byTenant[r.Tenant]; !seen {
			names = append(names, r.Tenant)
		}
		byTenant[r.Tenant] = append(byTenant[r.Tenant], r.Check)
	}
	if n == 0 {
		return nil
	}
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = strings.Join(byTenant[name], ", ")
		if name != "" {
			parts[i] = "tenant " + name + " (" + parts[i] + ")"
		}
	}
	err := fmt.Errorf("%s failed: %s", output.Plural(n, "check"), strings.Join(parts, "; "))
	if credentials {
		return cmdutil.CredentialsError(err)
	}
	return err
}

// printer writes the results: as they come, a block per tenant, or with
// JSON one array at the end.
type printer struct {
	w    io.Writer
	json bool
	cs   iostreams.ColorScheme
	n    int // tenants printed
	all  []Result
}

func newPrinter(ios *iostreams.IOStreams, json bool) *printer {
	return &printer{w: ios.Out, json: json, cs: iostreams.ColorSchemeFor(ios.IsStdoutTTY() && ios.ColorEnabled())}
}

// checkWidth is the width of the check column: the longest check name.
const checkWidth = len("client-secret")

func (p *printer) tenant(name string) {
	if p.json {
		return
	}
	if p.n > 0 {
		fmt.Fprintln(p.w)
	}
	p.n++
	fmt.Fprintln(p.w, p.cs.Bold("tenant "+name))
}

func (p *printer) result(r Result) {
	if p.json {
		p.all = append(p.all, r)
		return
	}
	mark := p.cs.SuccessIcon()
	switch r.Status {
	case Warn:
		mark = p.cs.WarningIcon()
	case Fail:
		mark = p.cs.FailureIcon()
	}
	fmt.Fprintf(p.w, "  %s %-*s  %s\n", mark, checkWidth, r.Check, r.Detail)
	if r.Fix != "" {
		fmt.Fprintf(p.w, "    %*s  fix: %s\n", checkWidth, "", r.Fix)
	}
}

func (p *printer) flush() error {
	if !p.json {
		return nil
	}
	return output.JSON(p.w, output.NonNil(p.all))
}
