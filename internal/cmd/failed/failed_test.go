package failed

import "testing"

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
