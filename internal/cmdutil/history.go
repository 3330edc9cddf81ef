package cmdutil

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/history"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
)

// This file holds what jwh history and jwh replay share: the filter
// flags, the reading of a history file, and its records as JSON.

// ReadHistory reads the records of the history file at path that f selects,
// printing a warning about a torn last line on ios.ErrOut. A file that
// does not exist or is damaged is an input error (exit 2).
func ReadHistory(ios *iostreams.IOStreams, path string, f *history.Filter) ([]*listen.Record, error) {
	recs, err := history.ReadFile(path, f, func(msg string) {
		fmt.Fprintf(ios.ErrOut, "%s %s\n", ios.ColorScheme().WarningIcon(), msg)
	})
	var lineErr *history.LineError
	switch {
	case err == nil:
		return recs, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, InputErrorf("%w: give the file that 'jwh listen --save FILE' wrote", err)
	case errors.As(err, &lineErr):
		return nil, InputErrorf("%w: the file was changed by something other than jwh listen; fix or remove that line", err)
	}
	return nil, InputError(err)
}

// RecordsJSON returns records as a JSON array with one record a line, each
// as AppendLine writes it, so that bodies keep their bytes; [] for none.
func RecordsJSON(recs []*listen.Record) []byte {
	if len(recs) == 0 {
		return []byte("[]\n")
	}
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, r := range recs {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.Write(r.AppendLine(nil))
	}
	b.WriteString("\n]\n")
	return b.Bytes()
}

// FilterFlags are the flags that select deliveries in jwh history and jwh
// replay: --event, --issue, --identifier, --jql and --last.
type FilterFlags struct {
	Events      []string // --event, comma lists split
	Issues      []string // --issue, comma lists split
	Identifiers []string // --identifier, comma lists split
	JQL         string   // --jql
	Last        int      // --last
	// Filter is the above, checked; set by Check.
	Filter *history.Filter

	eventFlags, issueFlags, idFlags []string
}

// AddFlags adds the flags to cmd.
func (ff *FilterFlags) AddFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&ff.eventFlags, "event", nil, "only deliveries of this `event` (repeatable, or a comma list)")
	fl.StringArrayVar(&ff.issueFlags, "issue", nil, "only deliveries about this issue `key` (repeatable, or a comma list)")
	fl.StringArrayVar(&ff.idFlags, "identifier", nil, "only deliveries with this X-Atlassian-Webhook-Identifier `id` (repeatable, or a comma list)")
	fl.StringVar(&ff.JQL, "jql", "", "only deliveries whose issue matches this JQL `filter`")
	fl.IntVar(&ff.Last, "last", 0, "only the last `n` of the deliveries selected")
	_ = cmd.RegisterFlagCompletionFunc("event", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return events.Known(), cobra.ShellCompDirectiveNoFileComp
	})
}

// Check checks the flags (events and filter as jwh validate does) and
// sets Filter.
func (ff *FilterFlags) Check(cmd *cobra.Command) error {
	ff.Events = SplitList(ff.eventFlags)
	ff.Issues = SplitList(ff.issueFlags)
	ff.Identifiers = SplitList(ff.idFlags)
	fl := cmd.Flags()
	if fl.Changed("last") && ff.Last < 1 {
		return UsageErrorf("invalid --last %d: at least 1", ff.Last)
	}
	if fl.Changed("jql") && ff.JQL == "" {
		return UsageErrorf("--jql needs a filter, such as 'project = PRJ'")
	}
	q, err := CheckFilter(ff.JQL, ff.Events)
	if err != nil {
		return err
	}
	ff.Filter = &history.Filter{Events: ff.Events, Issues: ff.Issues, Identifiers: ff.Identifiers, JQL: q, Last: ff.Last}
	return nil
}
