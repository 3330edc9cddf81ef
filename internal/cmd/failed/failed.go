// Package failed implements jwh failed: the deliveries that Jira gave up
// on after its retries.
package failed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// Options are the inputs of jwh failed.
type Options struct {
	IO *iostreams.IOStreams
	// Tenant returns the selected tenant, whose kind is checked before any
	// secret is read.
	Tenant func() (*tenant.Tenant, error)
	Client func() (*jira.Client, *tenant.Tenant, error)
	Now    func() time.Time
	JSON   bool // -o json
}

// NewCmdFailed returns jwh failed. Tests pass runF to see the parsed
// Options.
func NewCmdFailed(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "failed",
		Short: "List the deliveries that Jira gave up on",
		Long: `List the webhook deliveries that Jira could not make after all its retries
(GET /rest/api/2/webhook/failed), following every page. Jira keeps them for
about 72 hours; the endpoint is marked experimental.

On a terminal the columns are ID, FAILED (when Jira gave up, and how long
ago), EVENT (the payload's webhookEvent and issue key, when it has them) and
URL. On a pipe, one tab-separated line per delivery without a header: id,
failure time in RFC 3339 (UTC), event, URL.

With -o json, prints an array ([] when there is none) of {"id", "url",
"failureTime" (RFC 3339, UTC), "failureTimeMillis" (epoch milliseconds),
"event", "issueKey", "body" (the payload as Jira sent it, a string)}.

Jira keeps failed deliveries for Connect apps only: on an OAuth 2.0 tenant
the command stops before anything is read or sent, with exit status 2.

Exit status: 0 on success, 1 when Jira answered with an error, 2 for an
OAuth 2.0 tenant, 3 for credentials problems.`,
		Example: `  jwh failed
  jwh failed -o json | jq -r '.[].body'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			g := cmdutil.GlobalsOf(cmd)
			opts.Tenant = func() (*tenant.Tenant, error) { return f.SelectTenant(g.Tenant) }
			opts.Client = func() (*jira.Client, *tenant.Tenant, error) { return f.JiraClient(g.Tenant, g.Debug) }
			opts.Now = f.Now
			opts.JSON = g.JSON
			if runF != nil {
				return runF(opts)
			}
			return failedRun(cmd.Context(), opts)
		},
	}
	return cmd
}

// deliveryJSON is a failed delivery in -o json output.
type deliveryJSON struct {
	ID                string  `json:"id"`
	URL               string  `json:"url"`
	FailureTime       *string `json:"failureTime"`
	FailureTimeMillis *int64  `json:"failureTimeMillis"`
	Event             string  `json:"event"`
	IssueKey          string  `json:"issueKey"`
	Body              string  `json:"body"`
}

func failedRun(ctx context.Context, opts *Options) error {
	// Jira answers GET /webhook/failed for Connect apps only: an OAuth
	// tenant is refused before its secrets are read or anything is sent.
	t, err := opts.Tenant()
	if err != nil {
		return err
	}
	if t.IsOAuth() {
		return cmdutil.InputError(cmdutil.OnTenant(t.Name,
			errors.New("Jira keeps failed deliveries for Connect apps only, and this is an OAuth 2.0 tenant; nothing was sent")))
	}
	client, t, err := opts.Client()
	if err != nil {
		return err
	}
	list, err := client.FailedWebhooks(ctx)
	if err != nil {
		return cmdutil.OnTenant(t.Name, err)
	}
	if opts.JSON {
		out := make([]deliveryJSON, len(list))
		for i, d := range list {
			event, key := summary(d.Body)
			out[i] = deliveryJSON{ID: d.ID, URL: d.URL, Event: event, IssueKey: key, Body: d.Body}
			out[i].FailureTime, out[i].FailureTimeMillis = output.JSONTime(d.FailureTime)
		}
		return output.JSON(opts.IO.Out, out)
	}
	tty := opts.IO.IsStdoutTTY()
	if len(list) == 0 {
		if tty {
			fmt.Fprintf(opts.IO.ErrOut, "No failed deliveries on tenant %s (Jira keeps them for about 72 hours)\n", t.Name)
		}
		return nil
	}
	now := opts.Now()
	tbl := output.NewTable(opts.IO, "ID", "FAILED", "EVENT", "URL")
	for _, d := range list {
		event, key := summary(d.Body)
		tbl.AddRow(d.ID, output.AgoText(d.FailureTime, now, tty), strings.TrimSpace(event+" "+key), d.URL)
	}
	return tbl.Render()
}

// summary returns the webhookEvent and issue key of a delivery's payload,
// or "" for those it does not have (or when it is not JSON).
func summary(body string) (event, issueKey string) {
	var p struct {
		WebhookEvent string `json:"webhookEvent"`
		Issue        struct {
			Key string `json:"key"`
		} `json:"issue"`
	}
	if json.Unmarshal([]byte(body), &p) != nil {
		return "", ""
	}
	return p.WebhookEvent, p.Issue.Key
}
