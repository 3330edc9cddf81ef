package trigger

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/sandbox"
)

func TestNewCmdTrigger(t *testing.T) {
	const wait = sandbox.DefaultTriggerWait
	cmdtest.Flags(t, NewCmdTrigger, []cmdtest.Case[Options]{
		{Args: "jira:issue_created", Want: Options{Event: "jira:issue_created", Wait: wait}},
		{Args: "jira:issue_created -o json -t sandbox", Want: Options{Event: "jira:issue_created", Wait: wait, JSON: true}},
		{Args: "jira:issue_updated --issue-key PRJ-1 --project PRJ --issuetype Bug --status Done --assignee a --reporter r --summary S " +
			`--field customfield_10014=PRJ-7 --field 'labels=["x","y"]' --field story=3 ` +
			"--changed status,assignee --changed customfield_10014 --user u --wait 5s",
			Want: Options{
				Event:   "jira:issue_updated",
				Spec:    sandbox.IssueSpec{Key: "PRJ-1", Project: "PRJ", IssueType: "Bug", Status: "Done", Assignee: "a", Reporter: "r", Summary: "S"},
				Fields:  []string{"customfield_10014=PRJ-7", `labels=["x","y"]`, "story=3"},
				Changed: []string{"status", "assignee", "customfield_10014"},
				User:    "u",
				Wait:    5 * time.Second,
			}},
		{Args: "jira:issue_created --issue -", Want: Options{Event: "jira:issue_created", IssueFile: "-", Wait: wait}},
		{Args: "comment_created --issue-key prj_2-10 --comment 'Looks good'",
			Want: Options{Event: "comment_created", Spec: sandbox.IssueSpec{Key: "prj_2-10"}, Comment: "Looks good", Wait: wait}},
		{Args: "issue_updated", WantErr: `unknown event "issue_updated": did you mean "jira:issue_updated"?`},
		{Args: "", WantErr: "missing the event, such as jira:issue_updated"},
		{Args: "jira:issue_created --changed status", WantErr: "--changed applies to jira:issue_updated only"},
		{Args: "jira:issue_created --comment x", WantErr: "--comment applies to comment_created, comment_updated and comment_deleted only"},
		{Args: "comment_created --property k=1", WantErr: "--property applies to issue_property_set and issue_property_deleted only"},
		{Args: "sprint_started --issue-key A-1", WantErr: "sprint_started is not about an issue: the issue flags apply to issue, comment and issue property events"},
		{Args: "jira:issue_created --field novalue", WantErr: `invalid --field "novalue": use NAME=VALUE, e.g. --field customfield_10014=PRJ-7`},
		{Args: "issue_property_set --property =1", WantErr: `invalid --property "=1": use KEY or KEY=VALUE`},
		{Args: "jira:issue_created --wait 1m", WantErr: "invalid --wait 1m0s: give a duration up to 25s"},
		{Args: "jira:issue_created --issue-key 'bad key'", WantErr: `invalid --issue-key "bad key": an issue key is a project key, a hyphen and a number, such as PRJ-1`},
		{Args: "jira:issue_created --issue-key PRJ", WantErr: `invalid --issue-key "PRJ": an issue key is a project key, a hyphen and a number, such as PRJ-1`},
		{Args: "jira:issue_created --issue-key 1-1", WantErr: `invalid --issue-key "1-1": an issue key is a project key, a hyphen and a number, such as PRJ-1`},
		{Args: "jira:issue_created --issue-key PRJ-0", WantErr: `invalid --issue-key "PRJ-0": an issue key is a project key, a hyphen and a number, such as PRJ-1`},
	})
}

// TestBuildEvent: the issue flags and --field values make the issue of
// the event, values that are JSON sent as such.
func TestBuildEvent(t *testing.T) {
	ev, err := buildEvent(&Options{
		Event:   "jira:issue_updated",
		Spec:    sandbox.IssueSpec{Key: "PRJ-1", Project: "PRJ", IssueType: "Bug", Status: "Done", Assignee: "a", Reporter: "r", Summary: "S"},
		Fields:  []string{"customfield_10014=PRJ-7", `labels=["x","y"]`, "story=3"},
		Changed: []string{"status", "assignee", "customfield_10014"},
		User:    "u",
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"jira:issue_updated","issue":{"key":"PRJ-1","fields":{"assignee":"a","customfield_10014":"PRJ-7","issuetype":"Bug",` +
		`"labels":["x","y"],"project":"PRJ","reporter":"r","status":"Done","story":3,"summary":"S"}},` +
		`"changedFields":["status","assignee","customfield_10014"],"user":{"accountId":"u"}}`
	if string(b) != want {
		t.Errorf("event\n got %s\nwant %s", b, want)
	}
}

func TestJSONOrString(t *testing.T) {
	for in, want := range map[string]string{
		`PRJ-7`:                `"PRJ-7"`,
		`3`:                    `3`,
		`12345678901234567890`: `12345678901234567890`,
		`true`:                 `true`,
		`{"value":"x"}`:        `{"value":"x"}`,
		`"quoted"`:             `"quoted"`,
		`[1] [2]`:              `"[1] [2]"`,
		``:                     `""`,
		`{`:                    `"{"`,
		`null`:                 `null`,
	} {
		b, _ := json.Marshal(jsonOrString(in))
		if string(b) != want {
			t.Errorf("jsonOrString(%q) = %s, want %s", in, b, want)
		}
	}
}

func TestPropertyFlag(t *testing.T) {
	for in, want := range map[string]string{
		"support":           `{"key":"support","value":true}`,
		`support={"a":1}`:   `{"key":"support","value":{"a":1}}`,
		"support=some text": `{"key":"support","value":"some text"}`,
	} {
		ev, err := buildEvent(&Options{Event: "issue_property_set", Property: in})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(ev.Property)
		if string(b) != want {
			t.Errorf("--property %q: %s, want %s", in, b, want)
		}
	}
}

// TestOutcomeError pins the error, and so exit status 1, of each outcome
// that is not a success.
func TestOutcomeError(t *testing.T) {
	res := &sandbox.TriggerResult{Deliveries: []sandbox.DeliveryResult{
		{URL: "http://a/", Outcome: sandbox.OutcomeDelivered},
		{URL: "http://b/", Outcome: sandbox.OutcomeFailed, Error: "answered 400 Bad Request, which Jira does not retry"},
		{URL: "http://c/", Outcome: sandbox.OutcomePending},
		{URL: "http://d/", Outcome: sandbox.OutcomeCanceled, Error: "canceled before attempt 2 ended: the sandbox stopped"},
	}}
	err := outcomeError(res, 3*time.Second)
	want := "the delivery to http://b/ failed: answered 400 Bad Request, which Jira does not retry; it is listed by 'jwh failed'; " +
		"the delivery to http://c/ was still being retried after 3s (--wait); the sandbox's log shows how it ends; " +
		"the delivery to http://d/ ended canceled: canceled before attempt 2 ended: the sandbox stopped"
	if err == nil || err.Error() != want || cmdutil.ExitCode(err) != cmdutil.ExitFailure {
		t.Errorf("error %v (exit %d), want %q (exit 1)", err, cmdutil.ExitCode(err), want)
	}
	if err := outcomeError(&sandbox.TriggerResult{Deliveries: res.Deliveries[:1]}, time.Second); err != nil {
		t.Errorf("delivered: %v", err)
	}
}
