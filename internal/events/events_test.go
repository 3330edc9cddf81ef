package events

import (
	"errors"
	"slices"
	"testing"
)

func TestKnown(t *testing.T) {
	got := Known()
	if len(got) != 20 {
		t.Fatalf("Known() has %d events, want the 20 documented ones: %v", len(got), got)
	}
	for _, name := range []string{"jira:issue_created", "comment_deleted", "issue_property_set", "sprint_started", "jira:version_merged"} {
		if !slices.Contains(got, name) {
			t.Errorf("Known() lacks %q", name)
		}
	}
	got[0] = "changed"
	if Known()[0] != "jira:issue_created" {
		t.Error("Known() returned a slice shared with the package")
	}
}

func TestCheckKnown(t *testing.T) {
	for _, name := range Known() {
		if err := Check(name); err != nil {
			t.Errorf("Check(%q) = %v, want nil", name, err)
		}
	}
}

func TestCheckUnknown(t *testing.T) {
	tests := []struct {
		name, suggestion string
	}{
		{"jira:issue_create", "jira:issue_created"},
		{"issue_updated", "jira:issue_updated"},       // prefix forgotten
		{"jira:comment_created", "comment_created"},   // prefix added
		{"JIRA:ISSUE_DELETED", "jira:issue_deleted"},  // case
		{"jira:isue_updatd", "jira:issue_updated"},    // two typos
		{"jira:isuse_udpated", "jira:issue_updated"},  // two transpositions
		{"sprint_start", "sprint_started"},            // two missing letters
		{"issue_property_sett", "issue_property_set"}, // one extra letter
		{"jira:version_releasd", "jira:version_released"},
		{"worklog_created", ""}, // a real Jira event, but not for dynamic webhooks
		{"board_created", ""},
		{"", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		err := Check(tt.name)
		var u *UnknownError
		if !errors.As(err, &u) {
			t.Errorf("Check(%q) = %v, want an *UnknownError", tt.name, err)
			continue
		}
		if u.Name != tt.name || u.Suggestion != tt.suggestion {
			t.Errorf("Check(%q) = {Name: %q, Suggestion: %q}, want suggestion %q", tt.name, u.Name, u.Suggestion, tt.suggestion)
		}
	}
}

func TestUnknownErrorText(t *testing.T) {
	if got, want := Check("jira:issue_create").Error(), `unknown event "jira:issue_create": did you mean "jira:issue_created"?`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	want := `unknown event "board_created": the events are jira:issue_created, jira:issue_updated, jira:issue_deleted, ` +
		`comment_created, comment_updated, comment_deleted, issue_property_set, issue_property_deleted, ` +
		`sprint_created, sprint_updated, sprint_closed, sprint_deleted, sprint_started, ` +
		`jira:version_released, jira:version_unreleased, jira:version_created, jira:version_moved, ` +
		`jira:version_updated, jira:version_merged, jira:version_deleted`
	if got := Check("board_created").Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestIsIssueEvent(t *testing.T) {
	for name, want := range map[string]bool{
		"jira:issue_created":     true,
		"comment_updated":        true,
		"issue_property_deleted": true,
		"sprint_closed":          false,
		"jira:version_moved":     false,
		"nonsense":               false,
	} {
		if got := IsIssueEvent(name); got != want {
			t.Errorf("IsIssueEvent(%q) = %v, want %v", name, got, want)
		}
	}
}
