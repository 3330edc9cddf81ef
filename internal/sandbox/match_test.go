package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMatchedWebhookIDs checks that the JQL evaluator, the events, expiry,
// fieldIdsFilter and issuePropertyKeysFilter decide which webhooks an
// event is delivered to, and that the payload names exactly those.
func TestMatchedWebhookIDs(t *testing.T) {
	rcv := newReceiver(t)
	f := start(t, Options{RetryScale: fast}, TenantConfig{Name: "acme"})
	hook := rcv.url("/hook")
	// 1000 expires: registered 31 days before the others.
	f.register(`{"url":"` + hook + `","webhooks":[{"jqlFilter":"project = PRJ","events":["jira:issue_updated"]}]}`)
	f.clock.Advance(31 * 24 * time.Hour)
	reg := f.register(`{"url":"` + hook + `","webhooks":[
		{"jqlFilter":"project = PRJ","events":["jira:issue_created","jira:issue_updated"]},
		{"jqlFilter":"project = PRJ AND status = Done","events":["jira:issue_updated"]},
		{"jqlFilter":"issuetype = Bug OR assignee = acc-1","events":["jira:issue_updated","comment_created"]},
		{"jqlFilter":"project = OPS","events":["jira:issue_updated","jira:issue_deleted"]},
		{"jqlFilter":"project = PRJ","events":["jira:issue_updated"],"fieldIdsFilter":["summary","customfield_10029"]},
		{"jqlFilter":"cf[10014] = PRJ-7","events":["jira:issue_created"]},
		{"jqlFilter":"issue.property[support].level = 2","events":["issue_property_set"],"issuePropertyKeysFilter":["support"]},
		{"jqlFilter":"project = PRJ","events":["issue_property_set"]},
		{"jqlFilter":"project != PRJ","events":["sprint_started"]}]}`)
	for i, r := range reg.Results {
		if r.CreatedWebhookID == nil || *r.CreatedWebhookID != int64(1001+i) {
			t.Fatalf("registration %d: %+v", i, r)
		}
	}

	prj1 := Issue{Key: "PRJ-1"}
	doneBug := Issue{Key: "PRJ-1", Fields: map[string]any{"status": "Done", "issuetype": "Bug"}}
	for _, tc := range []struct {
		name    string
		ev      Event
		matched []int64
		skipped []int64
	}{
		{"status change of a PRJ task", Event{Name: "jira:issue_updated", Issue: prj1, ChangedFields: []string{"status"}},
			[]int64{1001}, []int64{1000, 1002, 1003, 1004, 1005}},
		{"summary of a Done PRJ bug", Event{Name: "jira:issue_updated", Issue: doneBug, ChangedFields: []string{"summary"}},
			[]int64{1001, 1002, 1003, 1005}, []int64{1000, 1004}},
		{"custom field in a changelog", Event{Name: "jira:issue_updated", Issue: prj1, Changelog: []ChangeItem{{Field: "Story Points", FieldType: "custom", FieldID: "customfield_10029"}}},
			[]int64{1001, 1005}, []int64{1000, 1002, 1003, 1004}},
		{"update with no changelog", Event{Name: "jira:issue_updated", Issue: prj1},
			[]int64{1001}, []int64{1000, 1002, 1003, 1004, 1005}},
		{"created with an epic link", Event{Name: "jira:issue_created", Issue: Issue{Key: "PRJ-2", Fields: map[string]any{"customfield_10014": "prj-7"}}},
			[]int64{1001, 1006}, []int64{}},
		{"created in OPS", Event{Name: "jira:issue_created", Issue: Issue{Key: "OPS-1"}},
			[]int64{}, []int64{1001, 1006}},
		{"a project object beats the key", Event{Name: "jira:issue_deleted", Issue: Issue{Key: "X-1", Fields: map[string]any{"project": map[string]any{"key": "OPS", "id": "10042"}}}},
			[]int64{1004}, []int64{}},
		{"comment on an assigned issue", Event{Name: "comment_created", Issue: Issue{Key: "OPS-3", Fields: map[string]any{"assignee": "acc-1"}}},
			[]int64{1003}, []int64{}},
		{"comment on an unassigned task", Event{Name: "comment_created", Issue: Issue{Key: "OPS-3"}},
			[]int64{}, []int64{1003}},
		{"property in the key filter", Event{Name: "issue_property_set", Issue: Issue{Key: "PRJ-1", Properties: map[string]any{"support": map[string]any{"level": 2.0}}},
			Property: &Property{Key: "support", Value: map[string]any{"level": 2}}},
			[]int64{1007, 1008}, []int64{}},
		{"property outside the key filter", Event{Name: "issue_property_set", Issue: Issue{Key: "PRJ-1", Properties: map[string]any{"support": map[string]any{"level": 2.0}}},
			Property: &Property{Key: "other", Value: 1}},
			[]int64{1008}, []int64{1007}},
		{"sprint events ignore the filter", Event{Name: "sprint_started", Issue: prj1},
			[]int64{1009}, []int64{}},
		{"nobody listens", Event{Name: "jira:version_released"}, []int64{}, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rcv.requests())
			res := f.trigger(tc.ev)
			if fmt.Sprint(res.MatchedWebhookIDs) != fmt.Sprint(tc.matched) {
				t.Errorf("matched %v, want %v", res.MatchedWebhookIDs, tc.matched)
			}
			var skipped []int64
			for _, s := range res.Skipped {
				skipped = append(skipped, s.WebhookID)
			}
			if fmt.Sprint(skipped) != fmt.Sprint(tc.skipped) {
				t.Errorf("skipped %v (%+v), want %v", skipped, res.Skipped, tc.skipped)
			}
			got := rcv.requests()[before:]
			if len(tc.matched) == 0 {
				if len(got) != 0 || len(res.Deliveries) != 0 {
					t.Errorf("%d requests and %d deliveries for no match", len(got), len(res.Deliveries))
				}
				return
			}
			if len(got) != 1 || len(res.Deliveries) != 1 {
				t.Fatalf("%d requests and %d deliveries, want one each", len(got), len(res.Deliveries))
			}
			var body struct {
				MatchedWebhookIDs []int64 `json:"matchedWebhookIds"`
				WebhookEvent      string  `json:"webhookEvent"`
			}
			if err := json.Unmarshal(got[0].body, &body); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(body.MatchedWebhookIDs) != fmt.Sprint(tc.matched) || body.WebhookEvent != tc.ev.Name {
				t.Errorf("payload: matchedWebhookIds %v, webhookEvent %q", body.MatchedWebhookIDs, body.WebhookEvent)
			}
			if d := res.Deliveries[0]; fmt.Sprint(d.WebhookIDs) != fmt.Sprint(tc.matched) || d.URL != hook || d.Outcome != OutcomeDelivered {
				t.Errorf("delivery %+v", d)
			}
		})
	}

	reasons := map[int64]string{}
	for _, s := range f.trigger(Event{Name: "jira:issue_updated", Issue: prj1, ChangedFields: []string{"status"}}).Skipped {
		reasons[s.WebhookID] = s.Reason
	}
	for id, want := range map[int64]string{
		1000: "expired at 2019-07-01T12:42:30Z: extend it",
		1002: "the issue does not match the filter: project = PRJ AND status = Done",
		1005: "the update changed status, none of fieldIdsFilter [summary, customfield_10029]",
	} {
		if reasons[id] != want {
			t.Errorf("webhook %d skipped because %q, want %q", id, reasons[id], want)
		}
	}
}

func TestPayload(t *testing.T) {
	rcv := newReceiver(t)
	f := start(t, Options{RetryScale: fast}, TenantConfig{Name: "acme", BasePath: "/jira"})
	f.register(`{"url":"` + rcv.url("/hook") + `","webhooks":[{"jqlFilter":"project = PRJ","events":["jira:issue_updated","comment_created","issue_property_set","sprint_started","jira:version_released"]}]}`)
	site := f.ten.BaseURL()

	issue := Issue{Key: "PRJ-42"}.With(IssueSpec{
		IssueType: "Bug", Status: "In Progress", Assignee: "acc-1", Reporter: "acc-2", Summary: "It breaks",
		Fields: map[string]any{"customfield_10014": "PRJ-7", "labels": []any{"x"}},
	})
	res := f.trigger(Event{Name: "jira:issue_updated", Issue: issue, ChangedFields: []string{"status", "assignee", "customfield_10014"},
		User: &User{AccountID: "acc-9", DisplayName: "Alice"}})
	var p map[string]any
	if err := json.Unmarshal(res.Deliveries[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	check := func(path string, want any) {
		t.Helper()
		var v any = p
		for _, k := range strings.Split(path, ".") {
			switch c := v.(type) {
			case map[string]any:
				v = c[k]
			case []any:
				var i int
				fmt.Sscan(k, &i)
				v = c[i]
			default:
				t.Fatalf("%s: no %s in %v", path, k, v)
			}
		}
		if fmt.Sprint(v) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", path, v, want)
		}
	}
	check("timestamp", float64(t0.UnixMilli()))
	check("webhookEvent", "jira:issue_updated")
	check("issue_event_type_name", "issue_generic")
	check("user.accountId", "acc-9")
	check("user.displayName", "Alice")
	check("issue.id", "10042")
	check("issue.key", "PRJ-42")
	check("issue.self", site+"/rest/api/2/issue/10042")
	check("issue.fields.summary", "It breaks")
	check("issue.fields.issuetype.name", "Bug")
	check("issue.fields.issuetype.id", "10004")
	check("issue.fields.project.key", "PRJ")
	check("issue.fields.status.name", "In Progress")
	check("issue.fields.status.id", "3")
	check("issue.fields.status.statusCategory.key", "indeterminate")
	check("issue.fields.assignee.accountId", "acc-1")
	check("issue.fields.reporter.accountId", "acc-2")
	check("issue.fields.customfield_10014", "PRJ-7")
	check("issue.fields.labels", []any{"x"})
	check("issue.fields.created", "2019-06-01T12:42:30.000+0000")
	check("changelog.items.0.fieldId", "status")
	check("changelog.items.0.toString", "In Progress")
	check("changelog.items.0.to", "3")
	check("changelog.items.1.to", "acc-1")
	check("changelog.items.2.field", "Epic Link")
	check("changelog.items.2.fieldtype", "custom")
	check("changelog.items.2.toString", "PRJ-7")
	check("matchedWebhookIds", []any{float64(1000)})
	if _, ok := p["comment"]; ok {
		t.Error("an update has a comment")
	}

	res = f.trigger(Event{Name: "comment_created", Issue: Issue{Key: "PRJ-1"}, Comment: &Comment{Body: "Looks good"}})
	p = nil
	if err := json.Unmarshal(res.Deliveries[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	check("issue_event_type_name", "issue_commented")
	check("comment.body", "Looks good")
	check("comment.author.displayName", "Sandbox User")
	check("issue.fields.reporter.displayName", "Sandbox User")
	check("issue.fields.assignee", nil)
	check("issue.fields.status.name", "To Do")
	check("issue.fields.issuetype.name", "Task")
	if _, ok := p["changelog"]; ok {
		t.Error("a comment event has a changelog")
	}
	if id, _ := p["comment"].(map[string]any)["id"].(string); !strings.HasPrefix(fmt.Sprint(p["comment"].(map[string]any)["self"]), site+"/rest/api/2/issue/10001/comment/"+id) {
		t.Errorf("comment self %v", p["comment"])
	}

	res = f.trigger(Event{Name: "issue_property_set", Issue: Issue{Key: "PRJ-1"}, Property: &Property{Key: "k", Value: map[string]any{"a": 1}}})
	p = nil
	_ = json.Unmarshal(res.Deliveries[0].Payload, &p)
	check("property.key", "k")
	check("property.value.a", float64(1))

	res = f.trigger(Event{Name: "sprint_started"})
	p = nil
	_ = json.Unmarshal(res.Deliveries[0].Payload, &p)
	check("sprint.state", "active")
	if _, ok := p["issue"]; ok {
		t.Error("a sprint event has an issue")
	}
	res = f.trigger(Event{Name: "jira:version_released", Version: map[string]any{"name": "2.0"}})
	p = nil
	_ = json.Unmarshal(res.Deliveries[0].Payload, &p)
	check("version.name", "2.0")
	check("version.released", true)

	// The account id of the sandbox user is stable.
	if a, b := f.ten.actor(nil, site)["accountId"], f.ten.actor(nil, site)["accountId"]; a != b || !strings.HasPrefix(fmt.Sprint(a), "557058:") {
		t.Errorf("sandbox user ids %v, %v", a, b)
	}
}

func TestIssueWith(t *testing.T) {
	base := Issue{Key: "A-1", Fields: map[string]any{"status": "Open", "x": 1}}
	got := base.With(IssueSpec{Key: "B-2", Status: "Done", Fields: map[string]any{"y": 2}})
	if got.Key != "B-2" || got.Fields["status"] != "Done" || got.Fields["x"] != 1 || got.Fields["y"] != 2 {
		t.Errorf("With: %+v", got)
	}
	if base.Fields["status"] != "Open" || len(base.Fields) != 2 {
		t.Errorf("With changed its receiver: %+v", base)
	}
	b := buildIssue(Issue{Fields: map[string]any{"project": "OPS"}}, "http://x", map[string]any{"accountId": "a"}, t0)
	if b.match.Key != "OPS-1" || b.match.ProjectKey != "OPS" || b.match.ID != "10001" {
		t.Errorf("defaults from the project: %+v", b.match)
	}
	b = buildIssue(Issue{}, "http://x", map[string]any{"accountId": "a"}, t0)
	if b.match.Key != "SBX-1" || b.match.ReporterAccountID != "a" || b.match.IssueTypeName != "Task" || b.match.StatusName != "To Do" ||
		!slices.Contains([]string{"10000"}, b.match.StatusID) {
		t.Errorf("defaults: %+v", b.match)
	}
}
