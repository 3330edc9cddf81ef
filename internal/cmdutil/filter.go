package cmdutil

import (
	"fmt"
	"slices"

	"github.com/jwh-cli/jwh/internal/jql"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
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
	return nil, InputProblems(c.Messages(""))
}

// FlagRequestError returns the problems of a register request that a
// command built from its flags (jwh register, jwh listen --register) as
// an input error, one message per problem: a problem of the callback URL
// names the flag that gave it, as `invalid --url "https://...": reason`
// with any password in url redacted, the request's other problems are
// "path: message", and the webhook's are as jwh validate --jql prints
// them. It returns nil for a valid request.
func FlagRequestError(c *webhookspec.RequestCheck, urlFlag, url string) error {
	if c.Valid() {
		return nil
	}
	var msgs []string
	for _, p := range c.Problems {
		if p.Path == "url" {
			msgs = append(msgs, fmt.Sprintf("invalid %s %q: %s", urlFlag, urlpolicy.Redacted(url), p.Msg))
		} else {
			msgs = append(msgs, p.Path+": "+p.Msg)
		}
	}
	for _, w := range c.Webhooks {
		msgs = append(msgs, w.Messages("")...)
	}
	return InputProblems(msgs)
}
