package sandbox

import (
	"fmt"
	"slices"
	"time"

	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/jql"
	"github.com/jwh-cli/jwh/internal/webhookspec"
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
// reasons for refusing it, in Jira's words. The rules are webhookspec's, as
// for jwh validate and jwh register (filter is nil when the registration
// has no jqlFilter at all). An app's webhooks of either kind, Connect or
// OAuth 2.0, are checked with it; the limit on how many an owner may have
// is checkRoom's.
func checkWebhook(names []string, filter *string, fieldIDs, propertyKeys []string) (Webhook, []string) {
	src := ""
	if filter != nil {
		src = *filter
	}
	c := webhookspec.CheckSpec(jira.WebhookSpec{JQLFilter: src, Events: names})
	var errs []string
	for _, p := range c.Problems {
		switch {
		case p.Path == "events":
			errs = append(errs, "At least one event is required.")
		case p.JQL == nil: // the other problems of CheckSpec are events'
			errs = append(errs, fmt.Sprintf("The event %s is unsupported.", quoteIfOdd(p.Event)))
		}
	}
	if filter == nil {
		errs = append(errs, "A jqlFilter is required.")
	} else {
		for _, p := range c.Problems {
			if p.JQL != nil {
				errs = append(errs, fmt.Sprintf("Invalid jqlFilter at line %d, column %d: %s", p.JQL.Line, p.JQL.Column, p.Msg))
			}
		}
	}
	if len(errs) > 0 {
		return Webhook{}, errs
	}
	w := Webhook{Events: slices.Clone(names), JQL: src, Filter: c.Query}
	if len(fieldIDs) > 0 {
		w.FieldIDs = slices.Clone(fieldIDs)
	}
	if len(propertyKeys) > 0 {
		w.PropertyKeys = slices.Clone(propertyKeys)
	}
	return w, nil
}

// checkRoom returns Jira's refusal of one more webhook for an owner that
// has n already, under lim (webhookspec.Connect for a Connect app,
// webhookspec.OAuth for an OAuth 2.0 app and user), or nil when there is
// room.
func checkRoom(n int, lim webhookspec.Limits) []string {
	if n < lim.MaxWebhooks {
		return nil
	}
	return []string{fmt.Sprintf("The app has reached the limit of %d webhooks on this site: delete some before registering more.", lim.MaxWebhooks)}
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
