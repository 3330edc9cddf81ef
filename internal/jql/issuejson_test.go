package jql

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestIssueFromJSON(t *testing.T) {
	// A delivery's issue, as the sandbox (and Jira) sends it.
	data := []byte(`{"id":"10007","self":"https://acme.atlassian.net/rest/api/2/issue/10007","key":"PRJ-7","fields":{
		"project":{"id":"10042","key":"PRJ","name":"Project X","self":"..."},
		"issuetype":{"id":"10004","name":"Bug","subtask":false},
		"status":{"id":"10001","name":"Done","statusCategory":{"id":3,"key":"done"}},
		"assignee":{"accountId":"557058:alice","displayName":"Alice"},
		"reporter":null,
		"summary":"x",
		"customfield_10014":"PRJ-1",
		"customfield_10020":{"value":"High","id":"3"},
		"customfield_10030":[{"name":"v1"},{"name":"v2"}],
		"customfield_10040":12.50,
		"customfield_10050":true,
		"customfield_10060":null}}`)
	got, err := IssueFromJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Issue{
		ID: "10007", Key: "PRJ-7",
		ProjectID: "10042", ProjectKey: "PRJ", ProjectName: "Project X",
		IssueTypeID: "10004", IssueTypeName: "Bug",
		StatusID: "10001", StatusName: "Done",
		AssigneeAccountID: "557058:alice",
		CustomFields:      map[string]string{"10014": "PRJ-1", "10020": "High", "10030": "v1", "10040": "12.50", "10050": "true"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("IssueFromJSON:\n got %+v\nwant %+v", got, want)
	}
	for filter, match := range map[string]bool{
		"project = PRJ AND status = Done":  true,
		"project = 10042":                  true,
		"issuetype = Bug AND key = prj-7":  true,
		"assignee = \"557058:alice\"":      true,
		"reporter != x":                    false, // no reporter: != never matches
		"cf[10014] = PRJ-1":                true,
		"status IN (\"To Do\", \"Doing\")": false,
		"issue.property[p] = 1":            false,
	} {
		q, errs := Validate(filter)
		if errs != nil {
			t.Fatalf("%s: %v", filter, errs)
		}
		if m := q.Match(got); m != match {
			t.Errorf("%s: match %v, want %v", filter, m, match)
		}
	}
}

func TestIssueFromJSONOddShapes(t *testing.T) {
	for _, data := range []string{`{}`, `{"id":10007,"key":"A-1","fields":{"project":"PRJ","status":[1]}}`, `{"fields":null}`} {
		is, err := IssueFromJSON([]byte(data))
		if err != nil {
			t.Errorf("%s: %v", data, err)
		}
		if strings.Contains(data, "A-1") && (is.ID != "10007" || is.Key != "A-1" || is.ProjectKey != "") {
			t.Errorf("%s: %+v", data, is)
		}
	}
	if _, err := IssueFromJSON([]byte(`{"key":`)); err == nil {
		t.Error("invalid JSON: no error")
	}
}

// TestFieldValue: a field's text is the same however the value was
// decoded (the sandbox decodes trigger bodies without UseNumber, jwh
// history with it) or built in Go.
func TestFieldValue(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"PRJ-7", "PRJ-7"},
		{json.Number("12.50"), "12.50"},
		{12.5, "12.5"},
		{float64(10001), "10001"},
		{7, "7"},
		{int64(-3), "-3"},
		{true, "true"},
		{false, "false"},
		{map[string]any{"id": "3", "value": "High"}, "High"},
		{map[string]any{"id": json.Number("3"), "self": "x"}, "3"},
		{map[string]any{"accountId": "557058:a", "displayName": "Alice"}, "Alice"},
		{map[string]any{"self": "x"}, ""},
		{[]any{map[string]any{"name": "v1"}, map[string]any{"name": "v2"}}, "v1"},
		{[]any{12.0}, "12"},
		{[]any{}, ""},
		{nil, ""},
		{[]string{"x"}, ""},
	} {
		if got := FieldValue(tc.v); got != tc.want {
			t.Errorf("FieldValue(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
