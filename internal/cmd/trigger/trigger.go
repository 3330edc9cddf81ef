// Package trigger implements jwh trigger: it asks a jwh sandbox to deliver
// an event about an issue to the app's webhooks, as Jira would when the
// issue changes, and prints which webhooks matched and how the delivery
// went.
package trigger

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/jql"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// Options are the inputs of jwh trigger.
type Options struct {
	IO     *iostreams.IOStreams
	Client func() (*jira.Client, *tenant.Tenant, error)
	JSON   bool // -o json

	Event     string
	IssueFile string            // --issue: a path, or - for standard input
	Spec      sandbox.IssueSpec // --issue-key, --project, ... (Fields from --field)
	Fields    []string          // --field name=value
	Changed   []string          // --changed
	Comment   string            // --comment
	Property  string            // --property KEY[=VALUE]
	User      string            // --user
	Wait      time.Duration     // --wait
}

// NewCmdTrigger returns jwh trigger. Tests pass runF to see the parsed
// Options.
func NewCmdTrigger(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "trigger <event> [--issue-key KEY --project P --issuetype T --status S --assignee A --reporter R --field NAME=VALUE ...] [--issue <file>]",
		Short: "Make a jwh sandbox deliver an event to the registered webhooks",
		Long: `Make a jwh sandbox (see 'jwh sandbox') deliver an event, as Jira does when an
issue changes: it builds a realistic payload for the issue described by the
flags (and --issue), finds the webhooks whose events include EVENT and
whose JQL filter matches the issue (and, for jira:issue_updated, whose
fieldIdsFilter names a field in --changed), and delivers one payload to the
app's URL naming them in matchedWebhookIds, signed as Jira signs, with
Jira's identifier and retry headers, retrying failures as Jira does (faster:
see 'jwh sandbox --retry-scale'). A delivery that fails for good shows up
in 'jwh failed'.

EVENT and --issue-key are checked first (exit 2 for an unknown event, or a
key that is not a project key, a hyphen and a number, such as PRJ-1). Every
flag is optional: the issue defaults to SBX-1, a Task in To Do, unassigned,
reported by the sandbox's user. --project, --issuetype and --status take a
name or key (digits: an id); --assignee and --reporter an account id.
--field NAME=VALUE sets any field ("customfield_10014=PRJ-7" for
cf[10014]); a VALUE that is JSON (a number, true, ["a"], {"value":"x"}) is
sent as such, anything else as a string. --issue reads an issue as Jira's
REST API shows it, {"key": ..., "fields": {...}, "properties": {...}}
(properties are what issue.property[KEY] filters see); the flags are
applied over it.

The tenant must be a jwh sandbox: the event is posted, signed, to its
endpoint POST /rest/jwh-sandbox/1/trigger (for an OAuth 2.0 tenant, through
the sandbox's API gateway with the tenant's access token), and jwh waits for
the delivery to end (up to --wait). Either way the sandbox delivers to the
matching webhooks of both of its apps, the Connect app's (a Connect JWT) and
the OAuth 2.0 app's (a Bearer JWT signed with its client secret, one delivery
per user who owns matching webhooks); the DETAIL of the OAuth app's ends with
"(OAuth 2.0 app)".

Output: one row per webhook subscribed to EVENT: WEBHOOK, RESULT
(delivered, failed, pending, or skipped), ATTEMPTS and DETAIL (the status
and identifier, or why it did not match). On a pipe, the same as
tab-separated lines without a header. With -o json, prints the sandbox's
answer: {"event", "issueKey", "matchedWebhookIds", "skipped": [{"webhookId",
"reason"}], "deliveries": [{"webhookIds", "url", "identifier", "outcome",
"app" ("connect" or "oauth"), "accountId" (the owner of the OAuth app's
webhooks), "status", "error", "attempts": [{"retry", "time", "status",
"error"}], "payload"}], "complete"}.

Exit status: 0 when every delivery succeeded (or none matched), 1 when one
failed or was still being retried after --wait, 2 for bad input, 3 for
credentials problems.`,
		Example: `  jwh trigger jira:issue_updated --issue-key PRJ-1 --status Done --changed status
  jwh trigger jira:issue_created --project PRJ --issuetype Bug --assignee 5b10ac8d82e05b22cc7d4ef5
  jwh trigger comment_created --issue-key PRJ-1 --comment 'Looks good'
  jwh trigger jira:issue_updated --field customfield_10014=PRJ-7 --changed customfield_10014
  jwh trigger issue_property_set --issue-key PRJ-1 --property 'support={"level":2}'
  jwh trigger jira:issue_updated --issue issue.json -o json | jq .matchedWebhookIds`,
		Args: cmdutil.ExactArgs(1, "the event, such as jira:issue_updated"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			g := cmdutil.GlobalsOf(cmd)
			opts.Client = func() (*jira.Client, *tenant.Tenant, error) { return f.JiraClient(g.Tenant, g.Debug) }
			opts.JSON = g.JSON
			opts.Event = args[0]
			opts.Changed = cmdutil.SplitList(opts.Changed)
			if err := checkOptions(opts); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return triggerRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Spec.Key, "issue-key", "", "the issue's `key`, e.g. PRJ-1")
	fl.StringVar(&opts.Spec.Project, "project", "", "the project's `key` (digits: its id)")
	fl.StringVar(&opts.Spec.IssueType, "issuetype", "", "the issue type's `name` (digits: its id)")
	fl.StringVar(&opts.Spec.Status, "status", "", "the status's `name` (digits: its id)")
	fl.StringVar(&opts.Spec.Assignee, "assignee", "", "the assignee's `account id`")
	fl.StringVar(&opts.Spec.Reporter, "reporter", "", "the reporter's `account id`")
	fl.StringVar(&opts.Spec.Summary, "summary", "", "the issue's summary `text`")
	fl.StringArrayVar(&opts.Fields, "field", nil, "set a field: `name=value` (value as JSON when it is JSON); repeatable")
	fl.StringSliceVar(&opts.Changed, "changed", nil, "for jira:issue_updated: the `field` ids that changed; repeatable or comma-separated")
	fl.StringVar(&opts.IssueFile, "issue", "", "read the issue from a JSON `file` (- for standard input)")
	fl.StringVar(&opts.Comment, "comment", "", "for comment events: the comment's `text`")
	fl.StringVar(&opts.Property, "property", "", "for issue_property_* events: `key[=value]` (value as JSON when it is JSON)")
	fl.StringVar(&opts.User, "user", "", "the `account id` of the user who did it (default: the sandbox's user)")
	fl.DurationVar(&opts.Wait, "wait", sandbox.DefaultTriggerWait, "how long to wait for the delivery and its retries (at most 25s)")
	return cmd
}

// checkOptions checks what can be checked before anything is read or
// sent.
func checkOptions(opts *Options) error {
	if err := events.Check(opts.Event); err != nil {
		return cmdutil.InputError(err)
	}
	sp := opts.Spec
	issueFlags := sp.Key != "" || sp.Project != "" || sp.IssueType != "" || sp.Status != "" || sp.Assignee != "" ||
		sp.Reporter != "" || sp.Summary != "" || len(opts.Fields) > 0 || opts.IssueFile != ""
	switch {
	case issueFlags && !events.IsIssueEvent(opts.Event):
		return cmdutil.UsageErrorf("%s is not about an issue: the issue flags apply to issue, comment and issue property events", opts.Event)
	case len(opts.Changed) > 0 && opts.Event != "jira:issue_updated":
		return cmdutil.UsageErrorf("--changed applies to jira:issue_updated only")
	case opts.Comment != "" && !strings.HasPrefix(opts.Event, "comment_"):
		return cmdutil.UsageErrorf("--comment applies to comment_created, comment_updated and comment_deleted only")
	case opts.Property != "" && !strings.HasPrefix(opts.Event, "issue_property_"):
		return cmdutil.UsageErrorf("--property applies to issue_property_set and issue_property_deleted only")
	case opts.Wait <= 0 || opts.Wait > sandbox.MaxTriggerWait:
		return cmdutil.UsageErrorf("invalid --wait %s: give a duration up to %s", opts.Wait, sandbox.MaxTriggerWait)
	}
	if sp.Key != "" && !jql.IsIssueKey(sp.Key) {
		return cmdutil.InputErrorf("invalid --issue-key %q: an issue key is a project key, a hyphen and a number, such as PRJ-1", sp.Key)
	}
	for _, fv := range opts.Fields {
		if name, _, ok := strings.Cut(fv, "="); !ok || strings.TrimSpace(name) == "" {
			return cmdutil.UsageErrorf("invalid --field %q: use NAME=VALUE, e.g. --field customfield_10014=PRJ-7", fv)
		}
	}
	if opts.Property != "" {
		if key, _, _ := strings.Cut(opts.Property, "="); strings.TrimSpace(key) == "" {
			return cmdutil.UsageErrorf("invalid --property %q: use KEY or KEY=VALUE", opts.Property)
		}
	}
	return nil
}

// jsonOrString decodes s as JSON when it is JSON, and returns it as a
// string otherwise.
func jsonOrString(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return s
	}
	if _, err := dec.Token(); err != io.EOF {
		return s
	}
	return v
}

// buildEvent makes the event to send from the options.
func buildEvent(opts *Options) (sandbox.Event, error) {
	ev := sandbox.Event{Name: opts.Event, ChangedFields: opts.Changed}
	var issue sandbox.Issue
	if opts.IssueFile != "" {
		var err error
		if issue, err = readIssue(opts.IO, opts.IssueFile); err != nil {
			return ev, err
		}
	}
	spec := opts.Spec
	if len(opts.Fields) > 0 {
		spec.Fields = map[string]any{}
		for _, fv := range opts.Fields {
			name, value, _ := strings.Cut(fv, "=")
			spec.Fields[strings.TrimSpace(name)] = jsonOrString(value)
		}
	}
	if events.IsIssueEvent(opts.Event) {
		ev.Issue = issue.With(spec)
	}
	if opts.Comment != "" {
		ev.Comment = &sandbox.Comment{Body: opts.Comment}
	}
	if opts.Property != "" {
		key, value, hasValue := strings.Cut(opts.Property, "=")
		p := &sandbox.Property{Key: strings.TrimSpace(key), Value: true}
		if hasValue {
			p.Value = jsonOrString(value)
		}
		ev.Property = p
	}
	if opts.User != "" {
		ev.User = &sandbox.User{AccountID: opts.User}
	}
	return ev, nil
}

// readIssue reads an issue from a file or standard input; every problem
// is bad input.
func readIssue(ios *iostreams.IOStreams, file string) (sandbox.Issue, error) {
	var issue sandbox.Issue
	b, err := cmdutil.ReadInput(ios, file)
	if err != nil {
		return issue, err
	}
	what := file
	if file == "-" {
		what = "standard input"
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&issue); err != nil {
		return issue, cmdutil.InputErrorf("%s: not an issue as Jira shows it ({\"key\": ..., \"fields\": {...}}): %v", what, err)
	}
	return issue, nil
}

// cloudSuffixes are the hosts of Jira Cloud sites, which have no trigger
// endpoint.
var cloudSuffixes = []string{".atlassian.net", ".jira.com", ".jira-dev.com", ".atlassian.com"}

func triggerRun(ctx context.Context, opts *Options) error {
	ev, err := buildEvent(opts)
	if err != nil {
		return err
	}
	client, t, err := opts.Client()
	if err != nil {
		return err
	}
	host := client.BaseURL().Hostname() // in lower case, as urlpolicy.ParseBaseURL leaves it
	if slices.ContainsFunc(cloudSuffixes, func(s string) bool { return strings.HasSuffix(host, s) }) {
		return cmdutil.InputErrorf("tenant %s is the Jira site %s: jwh trigger only works against 'jwh sandbox'; select a sandbox tenant with --tenant", t.Name, t.Site())
	}
	body, err := json.Marshal(sandbox.TriggerRequest{Event: ev, WaitSeconds: opts.Wait.Seconds()})
	if err != nil {
		return err
	}
	resp, err := client.Do(ctx, "POST", sandbox.TriggerPath, body)
	if err != nil {
		var apiErr *jira.APIError
		if errors.As(err, &apiErr) && (apiErr.Status == 404 || apiErr.Status == 405) {
			return fmt.Errorf("tenant %s (%s) is not a jwh sandbox: POST %s answered %d; jwh trigger only works against 'jwh sandbox'",
				t.Name, t.Site(), sandbox.TriggerPath, apiErr.Status)
		}
		return cmdutil.OnTenant(t.Name, err)
	}
	var res sandbox.TriggerResult
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil || res.Event == "" {
		return fmt.Errorf("tenant %s (%s) is not a jwh sandbox: its answer to POST %s is not a trigger result", t.Name, t.Site(), sandbox.TriggerPath)
	}

	if opts.JSON {
		if err := output.JSON(opts.IO.Out, res); err != nil {
			return err
		}
	} else if err := render(opts.IO, t.Name, &res); err != nil {
		return err
	}
	return outcomeError(&res, opts.Wait)
}

// row is a webhook's line of the table.
type row struct {
	id                 int64
	result, tries, why string
}

func render(ios *iostreams.IOStreams, tenantName string, res *sandbox.TriggerResult) error {
	cs := ios.ErrColorScheme()
	what := res.Event
	if res.IssueKey != "" {
		what += " for " + res.IssueKey
	}
	subscribed := len(res.MatchedWebhookIDs) + len(res.Skipped)
	if subscribed == 0 {
		fmt.Fprintf(ios.ErrOut, "%s No webhook of tenant %s subscribes to %s: register one with 'jwh register --event %s ...'\n",
			cs.WarningIcon(), tenantName, res.Event, res.Event)
		return nil
	}
	var rows []row
	for _, d := range res.Deliveries {
		detail := ""
		switch {
		case d.Outcome == sandbox.OutcomeDelivered:
			detail = fmt.Sprintf("%d from %s, identifier %s", d.Status, d.URL, d.Identifier)
		case d.Error != "":
			detail = d.Error + ", identifier " + d.Identifier
		default:
			detail = "identifier " + d.Identifier
		}
		if d.App == sandbox.KindOAuth {
			detail += " (OAuth 2.0 app)"
		}
		for _, id := range d.WebhookIDs {
			rows = append(rows, row{id, d.Outcome, strconv.Itoa(len(d.Attempts)), detail})
		}
	}
	for _, s := range res.Skipped {
		rows = append(rows, row{s.WebhookID, "skipped", "", s.Reason})
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(a.id, b.id) })
	tbl := output.NewTable(ios, "WEBHOOK", "RESULT", "ATTEMPTS", "DETAIL")
	for _, r := range rows {
		tbl.AddRow(strconv.FormatInt(r.id, 10), r.result, r.tries, r.why)
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	matched := len(res.MatchedWebhookIDs)
	icon := cs.SuccessIcon()
	if matched == 0 {
		icon = cs.WarningIcon()
	}
	for _, d := range res.Deliveries {
		if d.Outcome != sandbox.OutcomeDelivered {
			icon = cs.FailureIcon()
		}
	}
	fmt.Fprintf(ios.ErrOut, "%s Triggered %s on tenant %s: %d of %d subscribed webhooks matched\n", icon, what, tenantName, matched, subscribed)
	return nil
}

// outcomeError is the error for deliveries that did not succeed.
func outcomeError(res *sandbox.TriggerResult, wait time.Duration) error {
	var problems []string
	for _, d := range res.Deliveries {
		switch d.Outcome {
		case sandbox.OutcomeDelivered:
		case sandbox.OutcomeFailed:
			if d.App == sandbox.KindOAuth {
				// Jira lists failed deliveries for Connect apps only.
				problems = append(problems, fmt.Sprintf("the delivery to %s for the OAuth 2.0 app failed: %s", d.URL, d.Error))
				break
			}
			problems = append(problems, fmt.Sprintf("the delivery to %s failed: %s; it is listed by 'jwh failed'", d.URL, d.Error))
		case sandbox.OutcomePending:
			problems = append(problems, fmt.Sprintf("the delivery to %s was still being retried after %s (--wait); the sandbox's log shows how it ends", d.URL, wait))
		default:
			problems = append(problems, fmt.Sprintf("the delivery to %s ended %s: %s", d.URL, d.Outcome, d.Error))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}
