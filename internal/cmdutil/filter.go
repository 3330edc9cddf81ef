package cmdutil

import (
	"strings"

	"github.com/jwh-cli/jwh/internal/jql"
)

// CheckFilter checks the JQL filter (--jql, "" for none) and event names
// (--event) of a command that selects deliveries by them (jwh listen,
// jwh history, jwh replay) as jwh validate checks them. It returns the
// parsed filter, nil for "", or an input error (exit 2) whose messages
// are the problems, a problem in the filter followed by the filter with a
// caret under the offending token, as validate prints them.
func CheckFilter(filter string, events []string) (*jql.Query, error) {
	c := jql.CheckWebhook(filter, events)
	if filter == "" {
		// No filter to check: only the events' problems count.
		kept := c.Problems[:0]
		for _, p := range c.Problems {
			if p.Path != "jqlFilter" {
				kept = append(kept, p)
			}
		}
		c.Problems = kept
	}
	if c.Valid() {
		return c.Query, nil
	}
	return nil, ProblemsError(c.Render(""))
}

// ProblemsError returns problems rendered as jwh validate prints them
// (jql.WebhookCheck.Render) as an input error (exit 2) with one message
// per problem: a line that does not start with a space starts a problem,
// and the lines under it that do (a filter and its caret) belong to it.
func ProblemsError(problems string) error {
	var errs []error
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			errs = append(errs, problem(strings.Join(cur, "\n")))
		}
		cur = nil
	}
	for line := range strings.Lines(problems) {
		line = strings.TrimSuffix(line, "\n")
		if !strings.HasPrefix(line, " ") {
			flush()
		}
		cur = append(cur, line)
	}
	flush()
	return InputError(&MultiError{Errs: errs})
}

// problem is one problem of a local check, in the lines validate prints.
type problem string

func (p problem) Error() string { return string(p) }
