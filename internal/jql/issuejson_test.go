package jql

import (
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
