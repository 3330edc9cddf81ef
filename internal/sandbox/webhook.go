package sandbox

import (
	"fmt"
	"slices"
	"time"

	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/jql"
)

// Webhook is one registered dynamic webhook.
type Webhook struct {
	ID     int64
	URL    string   // the tenant's callback URL
	Events []string // as registered
	JQL    string   // the jqlFilter as registered
	// Filter is JQL parsed and checked, ready to Match; never nil.
	Filter       *jql.Query
	FieldIDs     []string // fieldIdsFilter; nil when not set
	PropertyKeys []string // issuePropertyKeysFilter; nil when not set
	ExpiresAt    time.Time
}

// Expired reports whether the webhook has expired at now. Jira keeps
// expired webhooks listed, but sends them nothing.
func (w Webhook) Expired(now time.Time) bool { return !now.Before(w.ExpiresAt) }

func (w Webhook) clone() Webhook {
	w.Events = slices.Clone(w.Events)
	w.FieldIDs = slices.Clone(w.FieldIDs)
	w.PropertyKeys = slices.Clone(w.PropertyKeys)
	return w
}

// checkWebhook returns the webhook described by a registration, or Jira's
// reasons for refusing it.
func checkWebhook(names []string, filter *string, fieldIDs, propertyKeys []string) (Webhook, []string) {
	var errs []string
	if len(names) == 0 {
		errs = append(errs, "At least one event is required.")
	}
	for _, e := range names {
		if events.Check(e) != nil {
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
	w := Webhook{Events: slices.Clone(names), JQL: src, Filter: q}
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
