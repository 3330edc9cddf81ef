package history

import (
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/jql"
	"github.com/jwh-cli/jwh/internal/listen"
)

// A Filter selects deliveries: jwh history and jwh replay select records
// with it, jwh listen the deliveries it prints. A delivery must pass every
// part that is set; the zero Filter (and a nil one) selects everything.
type Filter struct {
	// Events selects deliveries whose webhookEvent is one of these.
	Events []string
	// Issues selects deliveries about one of these issue keys (compared
	// without regard to case, as Jira compares keys).
	Issues []string
	// Identifiers selects deliveries with one of these
	// X-Atlassian-Webhook-Identifier values.
	Identifiers []string
	// JQL selects deliveries whose issue (the body's "issue", as Jira
	// delivered it) the filter matches, as the project's evaluator
	// (internal/jql) matches it. As Jira applies a webhook's filter to
	// issue events only, deliveries of sprint and version events pass
	// it; any other delivery without an issue does not. Issue properties
	// are not delivered, so issue.property clauses match no issue.
	JQL *jql.Query
	// Last keeps only the last Last of the selected records (Select);
	// zero keeps them all.
	Last int
}

// IsZero reports whether f selects everything.
func (f *Filter) IsZero() bool {
	return f == nil || (len(f.Events) == 0 && len(f.Issues) == 0 && len(f.Identifiers) == 0 && f.JQL == nil && f.Last == 0)
}

// Match reports whether a delivery with this event, issue key, identifier
// and body passes the filter (Last aside). The body is read only for JQL.
func (f *Filter) Match(event, issue, identifier string, body []byte) bool {
	if f == nil {
		return true
	}
	if len(f.Events) > 0 && !slices.Contains(f.Events, event) {
		return false
	}
	if len(f.Issues) > 0 && !slices.ContainsFunc(f.Issues, func(k string) bool { return strings.EqualFold(k, issue) }) {
		return false
	}
	if len(f.Identifiers) > 0 && !slices.Contains(f.Identifiers, identifier) {
		return false
	}
	if f.JQL != nil && !notFiltered(event) {
		is, ok := deliveredIssue(body)
		if !ok || !f.JQL.Match(is) {
			return false
		}
	}
	return true
}

// MatchRecord reports whether the record's delivery passes the filter
// (Last aside).
func (f *Filter) MatchRecord(r *listen.Record) bool {
	return f.Match(r.Event, r.Issue, r.Identifier, r.Body)
}

// Select reads records from next until io.EOF and returns those that
// pass the filter, in order, the last Last of them when Last is set; only
// those are kept in memory. An error of next other than io.EOF ends it.
func (f *Filter) Select(next func() (*listen.Record, error)) ([]*listen.Record, error) {
	last := 0
	if f != nil {
		last = f.Last
	}
	var out []*listen.Record
	kept := 0 // with Last: how many records out holds, as a ring
	for {
		r, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if !f.MatchRecord(r) {
			continue
		}
		switch {
		case last <= 0 || len(out) < last:
			out = append(out, r)
		default:
			out[kept%last] = r
		}
		kept++
	}
	if last > 0 && kept > last {
		// Unroll the ring: the oldest is at kept % last.
		i := kept % last
		out = slices.Concat(out[i:], out[:i])
	}
	return out, nil
}

// notFiltered reports whether Jira delivers the event without applying a
// webhook's JQL filter: a documented event that is not about an issue.
func notFiltered(event string) bool {
	return events.Check(event) == nil && !events.IsIssueEvent(event)
}

// deliveredIssue reads the issue a delivery body is about.
func deliveredIssue(body []byte) (jql.Issue, bool) {
	var p struct {
		Issue json.RawMessage `json:"issue"`
	}
	if json.Unmarshal(body, &p) != nil || len(p.Issue) == 0 || p.Issue[0] != '{' {
		return jql.Issue{}, false
	}
	is, err := jql.IssueFromJSON(p.Issue)
	return is, err == nil
}
