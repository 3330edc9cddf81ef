// Package list implements jwh list: the app's registered webhooks on a
// tenant, all pages of them or one.
package list

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// Options are the inputs of jwh list.
type Options struct {
	IO     *iostreams.IOStreams
	Client func() (*jira.Client, *tenant.Tenant, error)
	Now    func() time.Time
	JSON   bool // -o json

	// OnePage is set by --start-at or --max-results: fetch that page only.
	OnePage    bool
	StartAt    int
	MaxResults int // 0 leaves the page size to Jira
	// ExpiringWithin, when set, keeps the webhooks that expire before
	// now + ExpiringWithin, expired ones included.
	ExpiringWithin *time.Duration
}

// NewCmdList returns jwh list. Tests pass runF to see the parsed Options.
func NewCmdList(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	var within string
	cmd := &cobra.Command{
		Use:     "list [--start-at <n> --max-results <n>] [--expiring-within <duration>]",
		Aliases: []string{"ls"},
		Short:   "List the app's webhooks on a tenant",
		Long: `List the webhooks that the app has registered on the tenant, following
Jira's pages (startAt, maxResults) until the last one. With --start-at or
--max-results, only that one page is fetched.

--expiring-within keeps the webhooks that expire within the duration (72h,
7d, 1d12h, 30m), expired ones included: what 'jwh extend' should refresh.

On a terminal the columns are ID, EVENTS, JQL and EXPIRES, the date and how
far away it is ("2026-12-23 (in 29d)", "2026-11-20 (expired 3d ago)"). On a
pipe, one tab-separated line per webhook without a header: id, events (comma
separated), JQL filter, expiration in RFC 3339 (UTC).

With -o json, prints an array ([] when there is none) of {"id", "events",
"jqlFilter", "fieldIdsFilter", "issuePropertyKeysFilter", "url",
"expiration" (RFC 3339, UTC), "expirationMillis" (epoch milliseconds),
"expired"}.

Exit status: 0 on success (also when there are no webhooks), 1 when Jira
answered with an error, 3 for credentials problems.`,
		Example: `  jwh list
  jwh list --expiring-within 7d
  jwh list --start-at 100 --max-results 50
  jwh list -o json | jq '.[] | select(.expired) | .id'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			g := cmdutil.GlobalsOf(cmd)
			opts.Client = func() (*jira.Client, *tenant.Tenant, error) { return f.JiraClient(g.Tenant, g.Debug) }
			opts.Now = f.Now
			opts.JSON = g.JSON
			opts.OnePage = cmd.Flags().Changed("start-at") || cmd.Flags().Changed("max-results")
			if opts.StartAt < 0 {
				return cmdutil.UsageErrorf("--start-at must be 0 or more")
			}
			if cmd.Flags().Changed("max-results") && opts.MaxResults < 1 {
				return cmdutil.UsageErrorf("--max-results must be 1 or more")
			}
			if cmd.Flags().Changed("expiring-within") {
				d, err := ParseDuration(within)
				if err != nil {
					return cmdutil.UsageErrorf("invalid --expiring-within %q: %v", within, err)
				}
				opts.ExpiringWithin = &d
			}
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.StartAt, "start-at", 0, "fetch one page, starting at this `index`")
	fl.IntVar(&opts.MaxResults, "max-results", 0, "fetch one page of at most this `number` of webhooks (Jira may return fewer)")
	fl.StringVar(&within, "expiring-within", "", "only webhooks that expire within this `duration` (e.g. 72h, 7d), expired ones included")
	return cmd
}

// webhookJSON is a webhook in -o json output.
type webhookJSON struct {
	ID                      int64    `json:"id"`
	Events                  []string `json:"events"`
	JQLFilter               string   `json:"jqlFilter"`
	FieldIDsFilter          []string `json:"fieldIdsFilter"`
	IssuePropertyKeysFilter []string `json:"issuePropertyKeysFilter"`
	URL                     string   `json:"url"`
	Expiration              *string  `json:"expiration"`
	ExpirationMillis        *int64   `json:"expirationMillis"`
	Expired                 bool     `json:"expired"`
}

func listRun(ctx context.Context, opts *Options) error {
	client, t, err := opts.Client()
	if err != nil {
		return err
	}
	var hooks []jira.Webhook
	if opts.OnePage {
		page, err := client.ListWebhooks(ctx, opts.StartAt, opts.MaxResults)
		if err != nil {
			return cmdutil.OnTenant(t.Name, err)
		}
		hooks = page.Values
	} else if hooks, err = client.AllWebhooks(ctx); err != nil {
		return cmdutil.OnTenant(t.Name, err)
	}
	now := opts.Now()
	if opts.ExpiringWithin != nil {
		limit := now.Add(*opts.ExpiringWithin)
		kept := hooks[:0:0]
		for _, w := range hooks {
			if !w.Expiration.IsZero() && w.Expiration.Before(limit) {
				kept = append(kept, w)
			}
		}
		hooks = kept
	}

	if opts.JSON {
		list := make([]webhookJSON, 0, len(hooks))
		for _, w := range hooks {
			exp, ms := output.JSONTime(w.Expiration)
			list = append(list, webhookJSON{
				ID: w.ID, Events: output.NonNil(w.Events), JQLFilter: w.JQLFilter,
				FieldIDsFilter: output.NonNil(w.FieldIDsFilter), IssuePropertyKeysFilter: output.NonNil(w.IssuePropertyKeysFilter),
				URL: w.URL, Expiration: exp, ExpirationMillis: ms, Expired: output.Expired(w.Expiration, now),
			})
		}
		return output.JSON(opts.IO.Out, list)
	}
	tty := opts.IO.IsStdoutTTY()
	if len(hooks) == 0 {
		if tty {
			fmt.Fprintln(opts.IO.ErrOut, emptyMessage(opts, t.Name))
		}
		return nil
	}
	tbl := output.NewTable(opts.IO, "ID", "EVENTS", "JQL", "EXPIRES")
	for _, w := range hooks {
		tbl.AddRow(strconv.FormatInt(w.ID, 10), strings.Join(w.Events, ","), w.JQLFilter,
			output.ExpiresText(w.Expiration, now, tty))
	}
	return tbl.Render()
}

func emptyMessage(opts *Options, name string) string {
	switch {
	case opts.OnePage:
		return fmt.Sprintf("No webhooks on this page (tenant %s, start at %d)", name, opts.StartAt)
	case opts.ExpiringWithin != nil:
		return fmt.Sprintf("No webhooks of tenant %s expire within %s", name, FormatDuration(*opts.ExpiringWithin))
	}
	return fmt.Sprintf("No webhooks registered on tenant %s: add one with 'jwh register'", name)
}

// ParseDuration reads a duration such as 72h, 7d, 1d12h or 90m: Go's
// time.ParseDuration units with d (24 hours) in addition. It must not be
// negative.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration: use e.g. 72h or 7d")
	}
	var total time.Duration
	rest := s
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		days, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || days < 0 || days > 100*365 {
			return 0, fmt.Errorf("use a number of days, hours or minutes, e.g. 72h or 7d")
		}
		total = time.Duration(days * float64(24*time.Hour))
		rest = rest[i+1:]
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("use a number of days, hours or minutes, e.g. 72h or 7d")
		}
		total += d
	}
	return total, nil
}

// FormatDuration writes d in days when it is a whole number of days, else
// as time.Duration does.
func FormatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}
