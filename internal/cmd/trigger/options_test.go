package trigger

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/sandbox"
)

func TestNewCmdTrigger(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Global: &cmdutil.GlobalFlags{Output: "table"}}
	var got *Options
	cmd := NewCmdTrigger(f, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"jira:issue_updated", "--issue-key", "PRJ-1", "--project", "PRJ", "--issuetype", "Bug",
		"--status", "Done", "--assignee", "a", "--reporter", "r", "--summary", "S",
		"--field", "customfield_10014=PRJ-7", "--field", `labels=["x","y"]`, "--field", "story=3",
		"--changed", "status,assignee", "--changed", "customfield_10014", "--user", "u", "--wait", "5s"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Event != "jira:issue_updated" || got.Spec.Key != "PRJ-1" || got.Spec.Project != "PRJ" || got.Spec.IssueType != "Bug" ||
		got.Spec.Status != "Done" || got.Spec.Assignee != "a" || got.Spec.Reporter != "r" || got.Spec.Summary != "S" ||
		fmt.Sprint(got.Changed) != "[status assignee customfield_10014]" || got.Wait.String() != "5s" {
		t.Errorf("options %+v", got)
	}
	ev, err := buildEvent(got)
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
