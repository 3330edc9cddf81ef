// Package validate implements jwh validate: the offline check of webhook
// JQL filters and event names, for one filter given on the command line or
// for every webhook of a register request body.
package validate

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jql"
	"github.com/jwh-cli/jwh/internal/output"
)

// maxInput bounds what validate reads from a file or standard input.
const maxInput = 8 << 20

// Options are the inputs of jwh validate.
type Options struct {
	IO   *iostreams.IOStreams
	JSON bool // -o json

	JQL         string   // --jql; "-" reads standard input
	JQLProvided bool     // --jql was given, even as ""
	Events      []string // --event, comma lists split
	File        string   // --file; "-" reads standard input
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

A valid filter prints "✓ valid:" and its canonical form on standard output;
problems go to standard error. With -o json, the result is printed as
{"valid", "canonical", "aliases", "errors": [{"message", "line", "column",
"offset"}]} (an event error has "message" and "event" instead of a position;
--file prints {"valid", "errors", "webhooks": [...]} with one such result per
webhook).

Exit status: 0 when everything is valid, 2 when anything is not.`,
		Example: `  jwh validate --jql 'project = PRJ AND status = Done'
  jwh validate --jql 'key in (PRJ-1, PRJ-2)' --event jira:issue_updated,comment_created
  echo 'project = PRJ' | jwh validate --jql -
  jwh validate --file webhooks.json -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.JSON = f.JSON()
			opts.JQLProvided = cmd.Flags().Changed("jql")
			opts.Events = cmdutil.SplitList(eventFlags)
			fileProvided := cmd.Flags().Changed("file")
			if err := cmdutil.MutuallyExclusive("specify only one of --jql and --file", opts.JQLProvided, fileProvided); err != nil {
				return err
			}
			switch {
			case !opts.JQLProvided && !fileProvided:
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
		b, err := readInput(opts.IO, "-")
		if err != nil {
			return err
		}
		src = trimNewline(string(b))
	}
	r := check(src, opts.Events)
	if opts.JSON {
		if err := output.JSON(opts.IO.Out, r); err != nil {
			return err
		}
	} else {
		printText(opts.IO, "", r)
	}
	if !r.Valid {
		return cmdutil.SilentExit(cmdutil.ExitInput)
	}
	return nil
}

// readInput reads a file, or standard input for "-".
func readInput(ios *iostreams.IOStreams, path string) ([]byte, error) {
	var r io.Reader = ios.In
	name := "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, cmdutil.InputError(err)
		}
		defer f.Close()
		r, name = f, path
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, cmdutil.InputErrorf("read %s: %w", name, err)
	}
	if len(b) > maxInput {
		return nil, cmdutil.InputErrorf("read %s: larger than %d MiB", name, maxInput>>20)
	}
	return b, nil
}

// trimNewline drops the line ending that echo and editors leave after a
// filter read from standard input.
func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// result is the check of one filter and its events: the JSON of
// -o json, and what printText writes.
type result struct {
	Valid     bool              `json:"valid"`
	Canonical string            `json:"canonical"`
	Aliases   map[string]string `json:"aliases"`
	Errors    []any             `json:"errors"` // of jqlError, eventError, fieldError

	src         string // the filter, for the caret snippets
	jqlErrors   jql.ErrorList
	otherEvents []string // valid events that are not issue events
}

// jqlError is a problem in a filter, at a position.
type jqlError struct {
	Message string `json:"message"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Offset  int    `json:"offset"`
}

// eventError is an unknown event name.
type eventError struct {
	Message string `json:"message"`
	Event   string `json:"event"`
	path    string // where the event was given, for text output
}

// fieldError is a problem in the structure of a register body.
type fieldError struct {
	Message string `json:"message"`
	Path    string `json:"path"`
}

// check validates a filter and event names.
func check(src string, names []string) *result {
	r := newResult()
	r.addJQL(src)
	r.addEvents(names)
	return r
}

func newResult() *result {
	return &result{Valid: true, Aliases: map[string]string{}, Errors: []any{}}
}

// add records a problem.
func (r *result) add(e any) {
	r.Errors = append(r.Errors, e)
	r.Valid = false
}

// addJQL validates a filter. A valid filter sets Canonical and Aliases.
func (r *result) addJQL(src string) {
	r.src = src
	q, errs := jql.Validate(src)
	if q != nil {
		r.Canonical = q.Canonical()
		r.Aliases = q.Aliases()
	}
	r.jqlErrors = errs
	for _, e := range errs {
		r.add(jqlError{Message: e.Msg, Line: e.Line, Column: e.Column, Offset: e.Offset})
	}
}

// addEvents checks event names, and notes the valid ones that a JQL
// filter does not select.
func (r *result) addEvents(names []string) {
	for i, name := range names {
		if err := events.Check(name); err != nil {
			r.add(eventError{Message: err.Error(), Event: name, path: fmt.Sprintf("events[%d]", i)})
		} else if !events.IsIssueEvent(name) && !slices.Contains(r.otherEvents, name) {
			r.otherEvents = append(r.otherEvents, name)
		}
	}
}

// printText writes a result for people: the canonical filter and notes on
// standard output when valid, each problem on standard error otherwise.
// prefix names the webhook in a --file body ("webhooks[1]"), or is "".
func printText(ios *iostreams.IOStreams, prefix string, r *result) {
	if r.Valid {
		cs := ios.ColorScheme()
		label := "valid"
		if prefix != "" {
			label = prefix
		}
		fmt.Fprintf(ios.Out, "%s %s: %s\n", cs.SuccessIcon(), label, r.Canonical)
		aliases := make([]string, 0, len(r.Aliases))
		for a := range r.Aliases {
			aliases = append(aliases, a)
		}
		slices.Sort(aliases)
		for _, a := range aliases {
			fmt.Fprintf(ios.Out, "  alias: %s → %s\n", a, r.Aliases[a])
		}
		for _, name := range r.otherEvents {
			fmt.Fprintf(ios.Out, "  note: %s is not an issue event; the JQL filter selects issues\n", name)
		}
		return
	}
	jqlPrefix := ""
	if prefix != "" {
		jqlPrefix = prefix + ".jqlFilter: "
	}
	for _, e := range r.jqlErrors {
		fmt.Fprintf(ios.ErrOut, "%s%s\n%s", jqlPrefix, e, e.Snippet(r.src))
	}
	for _, e := range r.Errors {
		switch e := e.(type) {
		case eventError:
			if prefix != "" {
				fmt.Fprintf(ios.ErrOut, "%s.%s: ", prefix, e.path)
			}
			fmt.Fprintln(ios.ErrOut, e.Message)
		case fieldError:
			fmt.Fprintf(ios.ErrOut, "%s: %s\n", e.Path, e.Message)
		}
	}
}
