// Package webhookspec owns what a dynamic-webhook registration may
// contain: the shape of the register request body (POST /rest/api/2/webhook),
// its callback URL (judged by urlpolicy), each webhook's JQL filter (the
// subset that package jql checks) and events (package events), and Jira's
// limits on how many webhooks an app may have. It reports every problem
// with where it is, as jwh validate and jwh register print it, on a
// terminal or as JSON, and it decodes the request in the same pass, so that
// register sends exactly what was checked. The sandbox refuses what Jira
// would with the same rules.
package webhookspec

import (
	"errors"
	"fmt"

	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/jql"
)

// Limits are what Jira allows one owner of webhooks on one site.
type Limits struct {
	// MaxWebhooks is how many webhooks the owner may have: a register
	// request with more can never be registered whole.
	MaxWebhooks int
	// Owner names who the limit is for, in messages.
	Owner string
}

// The limits of the two kinds of app that may use dynamic webhooks.
var (
	// Connect is the limit of a Connect app: 100 webhooks per site.
	Connect = Limits{MaxWebhooks: 100, Owner: "Connect app"}
	// OAuth is the limit of an OAuth 2.0 (3LO) app, whose webhooks belong
	// to the app and the user who registered them: 5 per user per site.
	OAuth = Limits{MaxWebhooks: 5, Owner: "OAuth 2.0 app and user"}
)

// Problem is one thing wrong with a webhook or a register request.
type Problem struct {
	// Path says where the problem is: relative to the webhook for a
	// WebhookCheck ("jqlFilter", "events", "events[1]", "fieldIdsFilter",
	// or "" for the webhook object itself), relative to the request for
	// a RequestCheck ("url", "webhooks", or an unknown member).
	Path string
	// Msg says what is wrong and what to do instead.
	Msg string
	// JQL is set for a problem in the text of the filter: the error with
	// its position. Msg is then JQL.Msg.
	JQL *jql.Error
	// Event is set for an unknown event name: the name as given, and the
	// documented name it is probably a typo of ("" when none is close).
	Event, Suggestion string
}

// WebhookCheck is the offline check of one webhook: its JQL filter against
// the webhook subset, its events against the documented list and, in a
// request, its shape.
type WebhookCheck struct {
	Filter string   // the filter as checked
	Events []string // the event names as given
	// Query is the valid filter, ready to print or match; nil when the
	// filter is invalid or missing.
	Query *jql.Query
	// Problems lists everything wrong, in order: the filter's problems in
	// source order, then the events' in the order given, then the other
	// members'.
	Problems []Problem
}

// CheckWebhook checks a filter and event names, as jwh validate --jql does.
// An empty list of events is not a problem here: validate may check a
// filter alone. In a request every webhook needs an event; see
// CheckRequest and ParseRequest.
func CheckWebhook(filter string, eventNames []string) *WebhookCheck {
	c := &WebhookCheck{}
	c.checkFilter(filter)
	c.checkEvents(eventNames)
	return c
}

// CheckSpec checks one webhook of a register request: its filter, and its
// events, of which it needs at least one. CheckRequest checks each webhook
// with it; the sandbox, which answers for each webhook, too.
func CheckSpec(w jira.WebhookSpec) *WebhookCheck {
	c := &WebhookCheck{}
	c.checkFilter(w.JQLFilter)
	c.requireEvents(w.Events)
	return c
}

// Valid reports whether the webhook has no problem.
func (c *WebhookCheck) Valid() bool { return len(c.Problems) == 0 }

func (c *WebhookCheck) problem(path, msg string) {
	c.Problems = append(c.Problems, Problem{Path: path, Msg: msg})
}

func (c *WebhookCheck) checkFilter(filter string) {
	c.Filter = filter
	q, errs := jql.Validate(filter)
	c.Query = q
	for _, e := range errs {
		c.Problems = append(c.Problems, Problem{Path: "jqlFilter", Msg: e.Msg, JQL: e})
	}
}

// requireEvents checks the events of a webhook in a request, which
// needs at least one.
func (c *WebhookCheck) requireEvents(names []string) {
	if len(names) == 0 {
		c.problem("events", "empty: list at least one event, such as jira:issue_updated")
	}
	c.checkEvents(names)
}

func (c *WebhookCheck) checkEvents(names []string) {
	c.Events = names
	for i, name := range names {
		err := events.Check(name)
		if err == nil {
			continue
		}
		p := Problem{Path: fmt.Sprintf("events[%d]", i), Msg: err.Error(), Event: name}
		var u *events.UnknownError
		if errors.As(err, &u) {
			p.Suggestion = u.Suggestion
		}
		c.Problems = append(c.Problems, p)
	}
}
