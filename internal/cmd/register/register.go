// Package register implements jwh register: the registration of webhooks,
// from flags or from a register request body, each checked locally before
// anything is sent.
package register

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// Options are the inputs of jwh register.
type Options struct {
	IO *iostreams.IOStreams
	// Tenant returns the selected tenant, whose kind decides Limits.
	Tenant func() (*tenant.Tenant, error)
	Client func() (*jira.Client, *tenant.Tenant, error)
	JSON   bool // -o json
	// Limits are what Jira allows the tenant's kind of app: a request
	// with more webhooks is refused locally. registerRun replaces them
	// with those of the selected tenant's kind; they stay when no tenant
	// can be selected (a --dry-run without a config).
	Limits webhookspec.Limits

	// From flags.
	URL          string
	JQL          string
	Events       []string // --event, comma lists split
	FieldIDs     []string // --field-id, comma lists split
	PropertyKeys []string // --property-key, comma lists split

	File   string // --file: a register request body; "-" reads standard input
	DryRun bool   // --dry-run: print the request body, send nothing
}

// NewCmdRegister returns jwh register. Tests pass runF to see the parsed
// Options.
func NewCmdRegister(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	var eventFlags, fieldFlags, propFlags []string
	cmd := &cobra.Command{
		Use:   "register {--url <url> --jql <query> --event <event>... | --file <path>}",
		Short: "Register webhooks",
		Long: `Register dynamic webhooks on the tenant: one from flags, or several from a
file holding the API's own request body:

  {"url": "https://app.example.com/hook",
   "webhooks": [{"jqlFilter": "project = PRJ", "events": ["jira:issue_updated"],
                 "fieldIdsFilter": ["summary"], "issuePropertyKeysFilter": ["my-prop"]}]}

Every JQL filter and event is checked locally first, as 'jwh validate' checks
them, and the URL must be https (http only for loopback hosts: localhost,
127.0.0.0/8, ::1). If anything is invalid, nothing is sent, the exit status
is 2, and each problem is printed on standard error on a line starting with
"jwh: ". With -o json the problems go to standard output instead, as
'jwh validate --file -o json' prints them: {"valid": false, "errors",
"webhooks"}, where a request from flags is the body they make ("url" is
--url, webhooks[0] the webhook). --dry-run prints the request body that
would be sent and sends nothing.

Jira allows 100 webhooks per Connect app on a site, and 5 per OAuth 2.0 app
and user on a site (the webhooks of an OAuth tenant belong to the user who
logged in): a request with more than that is refused locally, exit status 2.
Jira refuses, per webhook, those that would pass the limit together with the
webhooks already registered.

Jira answers each webhook separately: one row per webhook shows its new id,
or Jira's reasons for refusing it. On a pipe, one tab-separated line per
webhook without a header: id (empty when refused), events, JQL filter,
"registered" or "refused: " and Jira's errors.

With -o json, prints an array with one element per requested webhook, in
order: {"id" (null when refused), "jqlFilter", "events", "registered",
"errors"}.

The registration is sent once: if the connection fails after it was sent,
Jira may have acted on it, so it is not repeated. jwh then lists the
webhooks: when every one is there it prints them (and a note on standard
error) and succeeds; otherwise it says that they may have been registered
and to check with 'jwh list', and exits 1.

Exit status: 0 when every webhook was registered, 1 when Jira refused any
(or answered with an error, or the network failed), 2 for invalid input
(nothing sent), 3 for credentials problems.`,
		Example: `  jwh register --url https://app.example.com/hook --jql 'project = PRJ AND status = Done' --event jira:issue_updated
  jwh register --url https://app.example.com/hook --jql 'project = PRJ' --event jira:issue_created,comment_created --field-id summary
  jwh register --file webhooks.json
  jwh register --url https://app.example.com/hook --jql 'project = PRJ' --event jira:issue_updated --dry-run`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			g := cmdutil.GlobalsOf(cmd)
			opts.Tenant = func() (*tenant.Tenant, error) { return f.SelectTenant(g.Tenant) }
			opts.Client = func() (*jira.Client, *tenant.Tenant, error) { return f.JiraClient(g.Tenant, g.Debug) }
			opts.JSON = g.JSON
			opts.Limits = webhookspec.Connect
			opts.Events = cmdutil.SplitList(eventFlags)
			opts.FieldIDs = cmdutil.SplitList(fieldFlags)
			opts.PropertyKeys = cmdutil.SplitList(propFlags)
			fl := cmd.Flags()
			fileGiven := fl.Changed("file")
			flagsGiven := fl.Changed("url") || fl.Changed("jql") || fl.Changed("event") || fl.Changed("field-id") || fl.Changed("property-key")
			if err := cmdutil.MutuallyExclusive("specify either --file or --url, --jql and --event: the file holds the url and the webhooks", fileGiven, flagsGiven); err != nil {
				return err
			}
			switch {
			case fileGiven && opts.File == "":
				return cmdutil.UsageErrorf("--file needs a path, or - for standard input")
			case fileGiven:
			case !fl.Changed("url"):
				return cmdutil.UsageErrorf("missing --url: the URL that Jira delivers to (or use --file)")
			case !fl.Changed("jql"):
				return cmdutil.UsageErrorf("missing --jql: the filter that selects the issues, such as 'project = PRJ'")
			case len(opts.Events) == 0:
				return cmdutil.UsageErrorf("missing --event: at least one event, such as jira:issue_updated")
			}
			if runF != nil {
				return runF(opts)
			}
			return registerRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.URL, "url", "", "the `URL` that Jira delivers to (https; http only on loopback)")
	fl.StringVar(&opts.JQL, "jql", "", "JQL `filter` that selects the issues")
	fl.StringArrayVar(&eventFlags, "event", nil, "webhook `event` (repeatable, or a comma list)")
	fl.StringArrayVar(&fieldFlags, "field-id", nil, "only send jira:issue_updated when this `field` changed (repeatable, or a comma list)")
	fl.StringArrayVar(&propFlags, "property-key", nil, "only send issue_property_* events for this `key` (repeatable, or a comma list)")
	fl.StringVar(&opts.File, "file", "", "register request body (`path`, or - for standard input)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the request body and send nothing")
	_ = cmd.RegisterFlagCompletionFunc("event", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return events.Known(), cobra.ShellCompDirectiveNoFileComp
	})
	for _, name := range []string{"url", "jql", "field-id", "property-key"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
	return cmd
}

// resultJSON is one webhook's result in -o json output.
type resultJSON struct {
	ID         *int64   `json:"id"`
	JQLFilter  string   `json:"jqlFilter"`
	Events     []string `json:"events"`
	Registered bool     `json:"registered"`
	Errors     []string `json:"errors"`
}

func registerRun(ctx context.Context, opts *Options) error {
	// The limits depend on the kind of the tenant, which is known before
	// any secret is read. A tenant that cannot be selected is reported
	// after the local checks, which do not need one.
	var selectErr error
	if opts.Tenant != nil {
		var t *tenant.Tenant
		if t, selectErr = opts.Tenant(); selectErr == nil {
			opts.Limits = cmdutil.WebhookLimits(t)
		}
	}
	req, err := request(opts)
	if err != nil {
		return err
	}
	if opts.DryRun {
		if err := output.JSON(opts.IO.Out, req); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "Dry run: the body above was checked; nothing was sent (POST %s)\n", jira.WebhookPath)
		return nil
	}
	if selectErr != nil {
		return selectErr
	}
	client, t, err := opts.Client()
	if err != nil {
		return err
	}
	results, err := client.RegisterWebhooks(ctx, *req)
	var lost *transport.Error
	switch {
	case err == nil:
	case errors.As(err, &lost) && lost.Sent && ctx.Err() == nil:
		// The POST may have reached Jira: the transport did not repeat it,
		// and the listing says whether it landed.
		ids, lerr := landed(ctx, client, req)
		if lerr != nil {
			return cmdutil.OnTenant(t.Name, lerr)
		}
		if ids == nil {
			return cmdutil.OnTenant(t.Name, fmt.Errorf("%s after the registration was sent, and the webhooks are not all listed (yet): they may have been registered all the same; check with 'jwh list' before registering again", lost.What()))
		}
		fmt.Fprintf(opts.IO.ErrOut, "tenant %s: %s after the registration was sent; listing the webhooks shows them registered\n", t.Name, lost.What())
		results = make([]jira.RegistrationResult, len(ids))
		for i, id := range ids {
			results[i].ID = id
		}
	default:
		return cmdutil.OnTenant(t.Name, err)
	}

	refused := 0
	for _, r := range results {
		if r.ID == 0 {
			refused++
		}
	}
	if opts.JSON {
		list := make([]resultJSON, len(results))
		for i, r := range results {
			w := req.Webhooks[i]
			list[i] = resultJSON{JQLFilter: w.JQLFilter, Events: w.Events, Registered: r.ID != 0, Errors: output.NonNil(r.Errors)}
			if r.ID != 0 {
				list[i].ID = &r.ID
			}
		}
		if err := output.JSON(opts.IO.Out, list); err != nil {
			return err
		}
	} else {
		tty := opts.IO.IsStdoutTTY()
		tbl := output.NewTable(opts.IO, "ID", "EVENTS", "JQL", "RESULT")
		for i, r := range results {
			w := req.Webhooks[i]
			id, result := strconv.FormatInt(r.ID, 10), "registered"
			if r.ID == 0 {
				id, result = "", "refused: "+refusal(r.Errors)
				if tty {
					id = "-"
				}
			}
			tbl.AddRow(id, strings.Join(w.Events, ","), w.JQLFilter, result)
		}
		if err := tbl.Render(); err != nil {
			return err
		}
	}
	if refused > 0 {
		return fmt.Errorf("jira refused %d of %s on tenant %s", refused, output.Plural(len(results), "webhook"), t.Name)
	}
	return nil
}

// landed lists the tenant's webhooks after a registration whose answer
// was lost, and returns the id of a listed webhook for each requested one,
// in order, or nil when some are not listed. The error says that the
// listing failed, and that the webhooks may have been registered.
func landed(ctx context.Context, client *jira.Client, req *jira.RegisterRequest) ([]int64, error) {
	hooks, err := client.AllWebhooks(ctx)
	if err != nil {
		what := err.Error()
		var te *transport.Error
		if errors.As(err, &te) {
			what = te.What()
		}
		// Not wrapped: whatever the listing met, the registration's
		// outcome is unknown, which is exit status 1.
		return nil, fmt.Errorf("the answer to the registration was lost, and listing the webhooks failed too (%s): they may have been registered; check with 'jwh list' before registering again", what)
	}
	return findRegistered(req, hooks), nil
}

// findRegistered returns, for each webhook of req in order, the id of a
// listed webhook with the same callback URL, filter, events, field ids
// and property keys (the newest one not taken by an earlier webhook of
// req), or nil when one has none. A listing without URLs matches any.
func findRegistered(req *jira.RegisterRequest, hooks []jira.Webhook) []int64 {
	hooks = slices.Clone(hooks)
	slices.SortFunc(hooks, func(a, b jira.Webhook) int { return cmp.Compare(b.ID, a.ID) })
	taken := make(map[int64]bool)
	ids := make([]int64, 0, len(req.Webhooks))
	for _, w := range req.Webhooks {
		i := slices.IndexFunc(hooks, func(h jira.Webhook) bool {
			return !taken[h.ID] && (h.URL == "" || h.URL == req.URL) && h.JQLFilter == w.JQLFilter &&
				sameSet(h.Events, w.Events) && sameSet(h.FieldIDsFilter, w.FieldIDsFilter) &&
				sameSet(h.IssuePropertyKeysFilter, w.IssuePropertyKeysFilter)
		})
		if i < 0 {
			return nil
		}
		taken[hooks[i].ID] = true
		ids = append(ids, hooks[i].ID)
	}
	return ids
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func refusal(errs []string) string {
	if len(errs) == 0 {
		return "no reason given"
	}
	return strings.Join(errs, "; ")
}
