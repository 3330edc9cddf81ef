package sandbox

import (
	"fmt"
	"slices"
	"time"

	"github.com/jwh-cli/jwh/internal/jql"
)

// Webhook is one registered dynamic webhook.
type Webhook struct {
	ID     int64
	URL    string   // the tenant's callback URL
	Events []string // as registered
	JQL    string   // the jqlFilter as registered
	// Filter is JQL parsed and checked, ready for Matches; never nil.
	Filter       *jql.Query
	FieldIDs     []string // fieldIdsFilter; nil when not set
	PropertyKeys []string // issuePropertyKeysFilter; nil when not set
	ExpiresAt    time.Time
}

// Expired reports whether the webhook has expired at now. Jira keeps
// expired webhooks listed, but sends them nothing.
func (w Webhook) Expired(now time.Time) bool { return !now.Before(w.ExpiresAt) }

// Matches reports whether an event about the issue selects the webhook:
// the webhook subscribes to the event and its filter matches the issue. It
// does not look at expiry, fieldIdsFilter or issuePropertyKeysFilter.
func (w Webhook) Matches(event string, issue jql.Issue) bool {
	return slices.Contains(w.Events, event) && w.Filter.Match(issue)
}

func (w Webhook) clone() Webhook {
	w.Events = slices.Clone(w.Events)
	w.FieldIDs = slices.Clone(w.FieldIDs)
	w.PropertyKeys = slices.Clone(w.PropertyKeys)
	return w
}

// supportedEvents are the events Jira accepts in a dynamic webhook: issue,
// comment and issue property events (which honour the JQL filter), and the
// sprint and version events of the current API model.
var supportedEvents = []string{
	"jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
	"comment_created", "comment_updated", "comment_deleted",
	"issue_property_set", "issue_property_deleted",
	"sprint_created", "sprint_updated", "sprint_closed", "sprint_deleted", "sprint_started",
	"jira:version_released", "jira:version_unreleased", "jira:version_created", "jira:version_moved",
	"jira:version_updated", "jira:version_merged", "jira:version_deleted",
}

// checkWebhook returns the webhook described by a registration, or Jira's
// reasons for refusing it.
func checkWebhook(events []string, filter *string, fieldIDs, propertyKeys []string) (Webhook, []string) {
	var errs []string
	if len(events) == 0 {
		errs = append(errs, "At least one event is required.")
	}
	for _, e := range events {
		if !slices.Contains(supportedEvents, e) {
			errs = append(errs, fmt.Sprintf("The event %s is unsupported.", quoteIfOdd(e)))
		}
	}
	src := ""
	if filter != nil {
		src = *filter
	}
	var q *jql.Query
	if filter == nil {
		errs = append(errs, "A jqlFilter is required.")
	} else {
		var jerrs jql.ErrorList
		q, jerrs = jql.Validate(src)
		for _, e := range jerrs {
			errs = append(errs, fmt.Sprintf("Invalid jqlFilter at line %d, column %d: %s", e.Line, e.Column, e.Msg))
		}
	}
	if len(errs) > 0 {
		return Webhook{}, errs
	}
	w := Webhook{Events: slices.Clone(events), JQL: src, Filter: q}
	if len(fieldIDs) > 0 {
		w.FieldIDs = slices.Clone(fieldIDs)
	}
	if len(propertyKeys) > 0 {
		w.PropertyKeys = slices.Clone(propertyKeys)
	}
	return w, nil
}

// quoteIfOdd leaves an event name as it is unless it is empty or holds
// spaces or control characters, which would make the message ambiguous.
func quoteIfOdd(s string) string {
	if s == "" {
		return `""`
	}
	for _, c := range s {
		if c <= ' ' || c == 0x7f {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
