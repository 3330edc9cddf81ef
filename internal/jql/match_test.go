package jql

import (
	"encoding/json"
	"testing"
)

// bug is the issue most match tests look at.
var bug = Issue{ // matches benchFilter
	ID:                "10001",
	Key:               "PRJ-1",
	ProjectID:         "10000",
	ProjectKey:        "PRJ",
	ProjectName:       "Main Project",
	IssueTypeID:       "10004",
	IssueTypeName:     "Bug",
	StatusID:          "3",
	StatusName:        "In Progress",
	AssigneeAccountID: "5b10ac8d82e05b22cc7d4ef5",
	ReporterAccountID: "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
	Properties: map[string]any{
		"support": map[string]any{
			"team":    map[string]any{"name": "Dev Ops", "size": 5.0},
			"level":   2.0,
			"urgent":  true,
			"tags":    []any{"a", "b"},
			"owners":  []any{map[string]any{"id": "x"}, map[string]any{"id": "y"}},
			"nothing": nil,
			"ratio":   0.5,
		},
		"flag": "on",
		"big":  json.Number("1e3"),
		"n":    7,
	},
	CustomFields: map[string]string{"10014": "PRJ-7"},
}

func TestMatch(t *testing.T) {
	unassigned := bug
	unassigned.AssigneeAccountID = ""
	noFields := Issue{Key: "OPS-2", ProjectKey: "OPS", IssueTypeName: "Task", StatusName: "Done"}

	tests := []struct {
		filter string
		issue  Issue
		want   bool
	}{
		// issueKey: key without regard to case, or numeric id.
		{`issueKey = PRJ-1`, bug, true},
		{`issueKey = prj-1`, bug, true},
		{`key = PRJ-2`, bug, false},
		{`issue = 10001`, bug, true},
		{`issueKey = 10002`, bug, false},
		{`issueKey in (PRJ-9, PRJ-1)`, bug, true},
		{`issueKey not in (PRJ-9, PRJ-1)`, bug, false},
		{`issueKey != PRJ-9`, bug, true},

		// project: key or name without regard to case; digits are the id.
		{`project = PRJ`, bug, true},
		{`project = prj`, bug, true},
		{`project = "main project"`, bug, true},
		{`project = 10000`, bug, true},
		{`project = 10001`, bug, false},
		{`project = OPS`, bug, false},
		{`project != OPS`, bug, true},
		{`project != PRJ`, bug, false},
		{`project in (OPS, PRJ)`, bug, true},
		{`project not in (OPS, "Main Project")`, bug, false},
		{`project = 10000`, noFields, false}, // no project id: digits never match the key

		// issuetype and status: name without regard to case, or id.
		{`issuetype = bug`, bug, true},
		{`type = 10004`, bug, true},
		{`issuetype in (Story, Task)`, bug, false},
		{`issuetype not in (Story, Task)`, bug, true},
		{`status = "in progress"`, bug, true},
		{`status = 3`, bug, true},
		{`status = Done`, bug, false},
		{`status != Done`, bug, true},
		{`status not in (Done, 3)`, bug, false},

		// assignee and reporter: account ids, exactly.
		{`assignee = 5b10ac8d82e05b22cc7d4ef5`, bug, true},
		{`assignee = 5B10AC8D82E05B22CC7D4EF5`, bug, false},
		{`assignee in (x, 5b10ac8d82e05b22cc7d4ef5)`, bug, true},
		{`assignee != x`, bug, true},
		{`reporter = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"`, bug, true},
		{`reporter != "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"`, bug, false},
		// An unset field matches neither = nor !=, as in Jira.
		{`assignee = x`, unassigned, false},
		{`assignee != x`, unassigned, false},
		{`assignee not in (x, y)`, unassigned, false},
		{`reporter != x`, noFields, false},

		// cf[id]: without regard to case; unset matches nothing.
		{`cf[10014] = PRJ-7`, bug, true},
		{`cf[10014] = prj-7`, bug, true},
		{`cf[10014] != PRJ-8`, bug, true},
		{`cf[10014] in (PRJ-8)`, bug, false},
		{`cf[10015] = PRJ-7`, bug, false},
		{`cf[10015] != PRJ-7`, bug, false},
		{`cf[10014] != PRJ-7`, noFields, false},

		// issue.property: JSON leaves.
		{`issue.property[flag] = on`, bug, true},
		{`issue.property[flag] = ON`, bug, false}, // strings compare exactly
		{`issue.property[support].team.name = "Dev Ops"`, bug, true},
		{`issue.property[support].team.name != "Dev Ops"`, bug, false},
		{`issue.property[support].team.size = 5`, bug, true},
		{`issue.property[support].team.size = 5.0`, bug, true},
		{`issue.property[support].team.size = "5"`, bug, true},
		{`issue.property[support].team.size = five`, bug, false},
		{`issue.property[support].level in (1, 2)`, bug, true},
		{`issue.property[support].ratio = 0.5`, bug, true},
		{`issue.property[support].urgent = true`, bug, true},
		{`issue.property[support].urgent = TRUE`, bug, true},
		{`issue.property[support].urgent = false`, bug, false},
		{`issue.property[support].urgent != false`, bug, true},
		{`issue.property[support].tags = b`, bug, true},
		{`issue.property[support].tags = c`, bug, false},
		{`issue.property[support].tags != c`, bug, true},
		{`issue.property[support].tags != a`, bug, false},
		{`issue.property[support].owners.id = y`, bug, true},
		{`issue.property[support].owners.id not in (x)`, bug, false},
		{`issue.property[support].team = x`, bug, false},            // an object is not a leaf
		{`issue.property[support].nothing = x`, bug, false},         // null is no value
		{`issue.property[support].nothing != x`, bug, false},        // ... for != too
		{`issue.property[support].team.name.first = x`, bug, false}, // path past a leaf
		{`issue.property[support].missing != x`, bug, false},
		{`issue.property[big] = 1000`, bug, true},
		{`issue.property[n] = 7`, bug, true},
		{`issue.property[absent] != x`, bug, false},
		{`issue.property[flag] = on`, noFields, false},

		// Boolean structure.
		{`project = PRJ AND status = "In Progress"`, bug, true},
		{`project = PRJ AND status = Done`, bug, false},
		{`project = OPS OR status = 3`, bug, true},
		{`project = OPS OR status = Done`, bug, false},
		{`project = OPS AND status = Done OR issuetype = Bug`, bug, true},
		{`project = OPS AND (status = Done OR issuetype = Bug)`, bug, false},
		{`(project = PRJ OR project = OPS) AND (issuetype = Task OR key = PRJ-1)`, bug, true},
		{`project in (PRJ, OPS) AND issuetype = Bug AND status != Done AND assignee in (5b10ac8d82e05b22cc7d4ef5)`, bug, true},
		{`project in (PRJ, OPS) AND issuetype = Bug AND status != Done AND assignee in (5b10ac8d82e05b22cc7d4ef5)`, noFields, false},
	}
	for _, tt := range tests {
		q, list := Validate(tt.filter)
		if list != nil {
			t.Fatalf("Validate(%q): %v", tt.filter, list)
		}
		if got := q.Match(tt.issue); got != tt.want {
			t.Errorf("%q matches issue %s: got %v, want %v", tt.filter, tt.issue.Key, got, tt.want)
		}
	}
}

func TestMatchZeroIssue(t *testing.T) {
	for _, tt := range subsetTests {
		if q, list := Validate(tt.src); list == nil && q.Match(Issue{}) {
			t.Errorf("%q matches an issue with no fields at all", tt.src)
		}
	}
}
