package cmdutil

import (
	"errors"
	"slices"

	"github.com/jwh-cli/jwh/internal/jql"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// CheckFilter checks the JQL filter (--jql, "" for none) and event names
// (--event) of a command that selects deliveries by them (jwh listen,
// jwh history, jwh replay) as jwh validate checks them. It returns the
// parsed filter, nil for "", or an input error (exit 2) with one message
// per problem, a problem in the filter followed by the filter with a caret
// under the offending token, as validate prints them.
func CheckFilter(filter string, events []string) (*jql.Query, error) {
	c := webhookspec.CheckWebhook(filter, events)
	if filter == "" {
		// No filter to check: only the events' problems count.
		c.Problems = slices.DeleteFunc(c.Problems, func(p webhookspec.Problem) bool { return p.Path == "jqlFilter" })
	}
	if c.Valid() {
		return c.Query, nil
	}
	msgs := c.Messages("")
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = errors.New(m)
	}
	return nil, InputError(&MultiError{Errs: errs})
}
