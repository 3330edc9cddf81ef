// Package events knows the webhook event names that Jira Cloud's dynamic
// webhook API documents, which of them concern an issue (and so are
// filtered by the webhook's JQL), and how to tell a user who mistyped one
// what they probably meant.
package events

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jwh-cli/jwh/internal/editdist"
)

// The documented events, in the order the API documentation lists them.
var (
	// issueEvents concern an issue or its comments and properties: Jira
	// applies the webhook's jqlFilter to them.
	issueEvents = []string{
		"jira:issue_created",
		"jira:issue_updated",
		"jira:issue_deleted",
		"comment_created",
		"comment_updated",
		"comment_deleted",
		"issue_property_set",
		"issue_property_deleted",
	}
	// otherEvents are the sprint and version events that the current API
	// model also lists.
	otherEvents = []string{
		"sprint_created",
		"sprint_updated",
		"sprint_closed",
		"sprint_deleted",
		"sprint_started",
		"jira:version_released",
		"jira:version_unreleased",
		"jira:version_created",
		"jira:version_moved",
		"jira:version_updated",
		"jira:version_merged",
		"jira:version_deleted",
	}
)

// Known returns every documented event name: the issue and comment events
// first, then the sprint and version events. The slice is the caller's.
func Known() []string {
	return slices.Concat(issueEvents, otherEvents)
}

// IsIssueEvent reports whether the event concerns an issue (an issue,
// comment or issue property event), which is what a webhook's JQL filter
// selects. Sprint and version events do not.
func IsIssueEvent(name string) bool { return slices.Contains(issueEvents, name) }

// UnknownError is the error Check returns for a name Jira does not
// document.
type UnknownError struct {
	Name string
	// Suggestion is the documented name closest to Name, or "" when none
	// is close enough to be a likely typo.
	Suggestion string
}

func (e *UnknownError) Error() string {
	if e.Suggestion != "" {
		return fmt.Sprintf("unknown event %q: did you mean %q?", e.Name, e.Suggestion)
	}
	return fmt.Sprintf("unknown event %q: the events are %s", e.Name, strings.Join(Known(), ", "))
}

// Check returns nil for a documented event name and an *UnknownError
// otherwise. Names are case-sensitive, as Jira's are.
func Check(name string) error {
	if slices.Contains(issueEvents, name) || slices.Contains(otherEvents, name) {
		return nil
	}
	return &UnknownError{Name: name, Suggestion: suggest(name)}
}

// suggest returns the documented name nearest to name, or "" when the
// nearest is too far to be a typo. It compares without regard to case and
// to the "jira:" prefix, which is easy to add or forget, so that
// "issue_updated" suggests "jira:issue_updated".
func suggest(name string) string {
	bare := func(s string) string { return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "jira:") }
	n := bare(name)
	if n == "" {
		return ""
	}
	best, bestDist := "", -1
	for _, k := range Known() {
		if d := editdist.Distance(n, bare(k)); bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	// A typo changes a few characters; allow about one in four, at most 3.
	if bestDist <= min(3, max(1, len(n)/4)) {
		return best
	}
	return ""
}
