package failed

import (
	"testing"
	"time"
)

func TestSummary(t *testing.T) {
	for body, want := range map[string][2]string{
		`{"webhookEvent":"jira:issue_updated","issue":{"key":"PRJ-7"}}`: {"jira:issue_updated", "PRJ-7"},
		`{"webhookEvent":"sprint_started"}`:                             {"sprint_started", ""},
		`not json`:                                                      {"", ""},
		``:                                                              {"", ""},
	} {
		event, key := summary(body)
		if event != want[0] || key != want[1] {
			t.Errorf("summary(%q) = %q, %q; want %q", body, event, key, want)
		}
	}
}

func TestFailedAt(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := now.Add(-5 * time.Hour)
	if got := failedAt(at, now, true); got != "2026-11-23 05:00 (5h ago)" {
		t.Errorf("terminal: %q", got)
	}
	if got := failedAt(at, now, false); got != "2026-11-23T05:00:00.000Z" {
		t.Errorf("pipe: %q", got)
	}
	if failedAt(time.Time{}, now, true) != "-" || failedAt(time.Time{}, now, false) != "" {
		t.Error("zero time")
	}
}
