// Package validate implements jwh validate: the offline check of webhook
// JQL filters and event names, for one filter given on the command line or
// for every webhook of a register request body.
package validate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// Options are the inputs of jwh validate.
type Options struct {
	IO   *iostreams.IOStreams
	JSON bool // -o json

	JQL    string   // --jql; "-" reads standard input
	Events []string // --event, comma lists split
	File   string   // --file; "-" reads standard input
}

// NewCmdValidate returns the validate command. Tests pass runF to see the
// parsed Options instead of running the check.
func NewCmdValidate(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	var eventFlags []string
	cmd := &cobra.Command{
		Use:   "validate {--jql <query> [--event <event>...] | --file <path>}",
		Short: "Check webhook JQL filters and events offline",
		Long: `Check a JQL filter, and optionally events, against what Jira accepts in a
dynamic webhook, without sending anything.

Webhook filters use a small subset of JQL: the fields issueKey, project,
issuetype, status, assignee, reporter, issue.property[KEY] (with an optional
.path) and cf[ID]; the operators =, !=, IN (...) and NOT IN (...); AND, OR and
parentheses. The aliases key and issue (for issueKey) and type (for issuetype)
are accepted and reported. Everything else is refused with its line, column
and a caret under it: the first syntax error, or every unsupported part.

With --file, every webhook of a register request body
({"url": ..., "webhooks": [{"jqlFilter": ..., "events": [...]}]}) is checked,
and each problem names its webhook, as in webhooks[1].jqlFilter.

A valid filter prints "✓ valid:" and its canonical form on standard output,
with each alias it resolved; problems go to standard error. With -o json, the
result is printed as {"valid", "canonical", "aliases", "errors": [{"message",
"line", "column", "offset"}]}: line and column (in characters) and offset (in
bytes) locate a problem in the filter, and are 0 for an unknown event, which
has "event" and "suggestion" instead. --file prints {"valid", "errors",
"webhooks": [...]} with one such result per webhook; a problem in the body's
structure has "path", as in webhooks[0].events. docs/jql-subset.md describes
the subset.

Exit status: 0 when everything is valid, 2 when anything is not.`,
		Example: `  jwh validate --jql 'project = PRJ AND status = Done'
  jwh validate --jql 'key in (PRJ-1, PRJ-2)' --event jira:issue_updated,comment_created
  echo 'project = PRJ' | jwh validate --jql -
  jwh validate --file webhooks.json -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.UsageErrorf("unexpected argument %q: give the filter with --jql, as in jwh validate --jql 'project = PRJ'", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.JSON = cmdutil.GlobalsOf(cmd).JSON
			opts.Events = cmdutil.SplitList(eventFlags)
			jqlProvided := cmd.Flags().Changed("jql") // even as ""
			fileProvided := cmd.Flags().Changed("file")
			if err := cmdutil.MutuallyExclusive("specify only one of --jql and --file", jqlProvided, fileProvided); err != nil {
				return err
			}
			switch {
			case !jqlProvided && !fileProvided:
				return cmdutil.UsageErrorf("specify --jql or --file")
			case fileProvided && opts.File == "":
				return cmdutil.UsageErrorf("--file needs a path, or - for standard input")
			case fileProvided && len(eventFlags) > 0:
				return cmdutil.UsageErrorf("--event goes with --jql: with --file, each webhook lists its own events")
			case len(eventFlags) > 0 && len(opts.Events) == 0:
				return cmdutil.UsageErrorf("--event needs an event name, such as jira:issue_updated")
			}
			if runF != nil {
				return runF(opts)
			}
			return validateRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.JQL, "jql", "", "JQL `query` to check, or - to read it from standard input")
	fl.StringArrayVar(&eventFlags, "event", nil, "webhook `event` to check (repeatable, or a comma list)")
	fl.StringVar(&opts.File, "file", "", "register request body to check (`path`, or - for standard input)")
	_ = cmd.RegisterFlagCompletionFunc("event", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return events.Known(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("jql", cobra.NoFileCompletions)
	return cmd
}

func validateRun(opts *Options) error {
	if opts.File != "" {
		return fileRun(opts)
	}
	src := opts.JQL
	if src == "-" {
		b, err := cmdutil.ReadInput(opts.IO, "-")
		if err != nil {
			return err
		}
		src = trimNewline(string(b))
	}
	c := webhookspec.CheckWebhook(src, opts.Events)
	if opts.JSON {
		if err := output.JSON(opts.IO.Out, c.JSON("")); err != nil {
			return err
		}
	} else if c.Valid() {
		printValid(opts.IO, "", c)
	} else {
		fmt.Fprint(opts.IO.ErrOut, c.Render(""))
	}
	if !c.Valid() {
		return cmdutil.SilentExit(cmdutil.ExitInput)
	}
	return nil
}

// trimNewline drops the line ending that echo and editors leave after a
// filter read from standard input.
func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// printValid writes a valid check for people on standard output: the
// canonical filter, the aliases it resolved, and notes. prefix names the
// webhook in a --file body ("webhooks[1]"), or is "".
func printValid(ios *iostreams.IOStreams, prefix string, c *webhookspec.WebhookCheck) {
	cs := ios.ColorScheme()
	label := "valid"
	if prefix != "" {
		label = prefix
	}
	fmt.Fprintf(ios.Out, "%s %s: %s\n", cs.SuccessIcon(), label, c.Query.Canonical())
	aliases := c.Query.Aliases()
	for _, a := range slices.Sorted(maps.Keys(aliases)) {
		fmt.Fprintf(ios.Out, "  alias: %s → %s\n", a, aliases[a])
	}
	var noted []string
	for _, name := range c.Events {
		if !events.IsIssueEvent(name) && !slices.Contains(noted, name) {
			noted = append(noted, name)
			fmt.Fprintf(ios.Out, "  note: %s is not an issue event; the JQL filter selects issues\n", name)
		}
	}
}
