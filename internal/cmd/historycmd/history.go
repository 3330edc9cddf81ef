// Package historycmd implements jwh history: it lists the deliveries that
// jwh listen --save kept in a history file, selected by the filters that
// jwh replay shares.
package historycmd

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/output"
)

// Options are the inputs of jwh history.
type Options struct {
	IO   *iostreams.IOStreams
	JSON bool // -o json

	File   string
	Filter cmdutil.FilterFlags
}

// NewCmdHistory returns jwh history. Tests pass runF to see the parsed
// Options.
func NewCmdHistory(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "history <file> [--event <event>...] [--issue <key>...] [--identifier <id>...] [--jql <query>] [--last <n>]",
		Short: "List the deliveries that jwh listen --save kept",
		Long: `List the requests that 'jwh listen --save FILE' answered and kept in FILE,
oldest first: deliveries, duplicates, and the requests it refused.

The filters select deliveries; they are the same as those of 'jwh replay':
--event (repeatable, or a comma list) keeps the deliveries of these events,
--issue those about these issue keys, --identifier those with these
X-Atlassian-Webhook-Identifier values, and --jql those whose issue, as Jira
delivered it, matches the filter (checked first as 'jwh validate' checks
it; as Jira does, sprint and version events pass it). --last N keeps the
last N of what the other filters select. A refused request has no event
and no issue, so --event, --issue and --jql leave it out; --identifier
keeps the refusals sent with that identifier.

On a terminal, a table: SEQ (the number of the request in its listener's
run), RECEIVED (local time), EVENT, ISSUE, TENANT (whose secret verified
it), RETRY, STATUS (what the listener answered), RESULT and IDENTIFIER. On
a pipe, the same columns separated by tabs, without a header, RECEIVED in
RFC 3339 (UTC, milliseconds), and RESULT one word: verified, unverified,
duplicate, injected (answered by --respond) or refused:CHECK.

With -o json, the records themselves as a JSON array, one record a line,
each as jwh listen wrote it: the body's bytes are those Jira sent.
docs/scripting.md describes the record.

The file may be being written by a listener: a last line it has not
finished is skipped with a warning. A damaged line elsewhere stops the
command with its line number.

Exit status: 0, also when nothing matches; 2 for a file that does not
exist or is damaged, or an invalid filter.`,
		Example: `  jwh history deliveries.ndjson
  jwh history deliveries.ndjson --event jira:issue_updated --last 10
  jwh history deliveries.ndjson --jql 'project = PRJ AND status = Done'
  jwh history deliveries.ndjson -o json | jq -c '.[] | {seq, event, issue, status}'
  jwh history deliveries.ndjson -o json | jq '.[-1].body'`,
		Args: cmdutil.ExactArgs(1, "the history file, as written by jwh listen --save"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.JSON = cmdutil.GlobalsOf(cmd).JSON
			opts.File = args[0]
			if err := opts.Filter.Check(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return historyRun(cmd.Context(), opts)
		},
	}
	opts.Filter.AddFlags(cmd)
	return cmd
}

func historyRun(_ context.Context, opts *Options) error {
	recs, err := cmdutil.ReadHistory(opts.IO, opts.File, opts.Filter.Filter)
	if err != nil {
		return err
	}
	if opts.JSON {
		_, err := opts.IO.Out.Write(cmdutil.RecordsJSON(recs))
		return err
	}
	if len(recs) == 0 {
		if opts.IO.IsStderrTTY() {
			what := "no deliveries in " + opts.File
			if !opts.Filter.Filter.IsZero() {
				what = "no deliveries in " + opts.File + " match"
			}
			fmt.Fprintln(opts.IO.ErrOut, what)
		}
		return nil
	}
	tty := opts.IO.IsStdoutTTY()
	cs := opts.IO.ColorScheme()
	tbl := output.NewTable(opts.IO, "SEQ", "RECEIVED", "EVENT", "ISSUE", "TENANT", "RETRY", "STATUS", "RESULT", "IDENTIFIER")
	for _, r := range recs {
		received := r.Received.UTC().Format(output.TimeLayout)
		if tty {
			received = r.Received.Local().Format("2006-01-02 15:04:05.000")
		}
		tbl.AddRow(
			strconv.FormatInt(r.Seq, 10), received,
			output.Clean(r.Event, maxCell), output.Clean(r.Issue, maxCell), output.Clean(r.Tenant, maxCell),
			strconv.Itoa(r.Retry), strconv.Itoa(r.Status), result(r, tty, cs), output.Clean(r.Identifier, maxCell),
		)
	}
	return tbl.Render()
}

// maxCell bounds a cell of what a sender chose.
const maxCell = 80

// result is the RESULT cell of a record.
func result(r *listen.Record, tty bool, cs iostreams.ColorScheme) string {
	switch {
	case r.Verdict == listen.VerdictRefused && tty:
		return cs.Red("✗ " + output.Clean(r.Check, maxCell))
	case r.Verdict == listen.VerdictRefused:
		return "refused:" + output.Clean(r.Check, maxCell)
	case r.Duplicate && tty:
		return cs.Gray("= duplicate")
	case r.Duplicate:
		return "duplicate"
	case r.Injected && tty:
		return cs.Yellow("→ --respond")
	case r.Injected:
		return "injected"
	case r.Verdict == listen.VerdictUnverified && tty:
		return cs.Yellow("! unverified")
	case r.Verdict == listen.VerdictUnverified:
		return "unverified"
	case tty:
		return cs.Green("✓ verified")
	}
	return "verified"
}
