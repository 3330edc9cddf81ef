package webhookspec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/jql"
)

func TestCheckWebhookValid(t *testing.T) {
	c := CheckWebhook(`key = PRJ-1 AND type = Bug`, []string{"jira:issue_updated", "sprint_started"})
	if !c.Valid() || c.Query == nil || len(c.Problems) != 0 {
		t.Fatalf("CheckWebhook = %+v, want valid", c)
	}
	if got := c.Query.Canonical(); got != `issueKey = PRJ-1 AND issuetype = Bug` {
		t.Errorf("Canonical() = %q", got)
	}
	if c.Render("") != "" || c.Render("webhooks[0]") != "" {
		t.Errorf("a valid webhook renders %q", c.Render(""))
	}
	if c.Filter != `key = PRJ-1 AND type = Bug` || strings.Join(c.Events, ",") != "jira:issue_updated,sprint_started" {
		t.Errorf("Filter %q, Events %q: want them as given", c.Filter, c.Events)
	}
	// A filter alone is fine: whether events are required is the caller's call.
	if c := CheckWebhook(`project = PRJ`, nil); !c.Valid() {
		t.Errorf("a valid filter without events: %s", c.Render(""))
	}
}

func TestCheckWebhookProblems(t *testing.T) {
	src := "project = PRJ\nAND priority = High AND status ~ Done"
	c := CheckWebhook(src, []string{"jira:issue_updated", "issue_created", "board_created"})
	if c.Valid() || c.Query != nil {
		t.Fatalf("CheckWebhook(%q) is valid", src)
	}
	type brief struct {
		path, event, suggestion string
		line, column            int
	}
	var got []brief
	for _, p := range c.Problems {
		b := brief{path: p.Path, event: p.Event, suggestion: p.Suggestion}
		if p.JQL != nil {
			b.line, b.column = p.JQL.Line, p.JQL.Column
			if p.Msg != p.JQL.Msg {
				t.Errorf("Msg %q differs from JQL.Msg %q", p.Msg, p.JQL.Msg)
			}
		}
		got = append(got, b)
	}
	want := []brief{
		{path: "jqlFilter", line: 2, column: 5},
		{path: "jqlFilter", line: 2, column: 32},
		{path: "events[1]", event: "issue_created", suggestion: "jira:issue_created"},
		{path: "events[2]", event: "board_created"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("problems\n got  %v\n want %v", got, want)
	}

	fields := "webhook filters can use issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id]"
	ops := "webhook filters can use =, !=, IN and NOT IN"
	events := `unknown event "board_created": the events are jira:issue_created, jira:issue_updated, jira:issue_deleted, ` +
		`comment_created, comment_updated, comment_deleted, issue_property_set, issue_property_deleted, ` +
		`sprint_created, sprint_updated, sprint_closed, sprint_deleted, sprint_started, ` +
		`jira:version_released, jira:version_unreleased, jira:version_created, jira:version_moved, ` +
		`jira:version_updated, jira:version_merged, jira:version_deleted`
	wantText := `2:5: unsupported field "priority": ` + fields + "\n" +
		"  AND priority = High AND status ~ Done\n" +
		"      ^^^^^^^^\n" +
		`2:32: unsupported operator "~": ` + ops + "\n" +
		"  AND priority = High AND status ~ Done\n" +
		"                                 ^\n" +
		`unknown event "issue_created": did you mean "jira:issue_created"?` + "\n" +
		events + "\n"
	if got := c.Render(""); got != wantText {
		t.Errorf("Render(\"\")\n got:\n%s\n want:\n%s", got, wantText)
	}

	wantPrefixed := `webhooks[3].jqlFilter: 2:5: unsupported field "priority": ` + fields + "\n" +
		"  AND priority = High AND status ~ Done\n" +
		"      ^^^^^^^^\n" +
		`webhooks[3].jqlFilter: 2:32: unsupported operator "~": ` + ops + "\n" +
		"  AND priority = High AND status ~ Done\n" +
		"                                 ^\n" +
		`webhooks[3].events[1]: unknown event "issue_created": did you mean "jira:issue_created"?` + "\n" +
		"webhooks[3].events[2]: " + events + "\n"
	if got := c.Render("webhooks[3]"); got != wantPrefixed {
		t.Errorf("Render(\"webhooks[3]\")\n got:\n%s\n want:\n%s", got, wantPrefixed)
	}
}

func TestCheckWebhookSyntaxError(t *testing.T) {
	c := CheckWebhook(`priority = 1 AND (`, []string{"jira:issue_created"})
	if len(c.Problems) != 1 || c.Problems[0].JQL == nil {
		t.Fatalf("problems %+v, want the one syntax error", c.Problems)
	}
	want := "1:18: \"(\" is never closed: expected a clause and \")\"\n" +
		"  priority = 1 AND (\n" +
		"                   ^\n"
	if got := c.Render(""); got != want {
		t.Errorf("Render\n got:\n%s\n want:\n%s", got, want)
	}
}

func TestParseRequest(t *testing.T) {
	const ok = `{"jqlFilter": "project = PRJ", "events": ["jira:issue_created"]}`
	tests := []struct {
		name, body string
		valid      bool
		render     string // Render(), exactly
	}{
		{"valid", `{"url": "https://app.example.com/hook", "webhooks": [` + ok + `,
			{"jqlFilter": "key = PRJ-1", "events": ["comment_created"], "fieldIdsFilter": ["summary"], "issuePropertyKeysFilter": ["p"]}]}`,
			true, ""},
		{"missing url and webhooks", `{}`, false,
			"url: missing: the body needs the URL that Jira delivers to\n" +
				"webhooks: missing: the body needs a list of webhooks\n"},
		{"url not a string", `{"url": 1, "webhooks": [` + ok + `]}`, false, "url: must be a string\n"},
		{"url null", `{"url": null, "webhooks": [` + ok + `]}`, false, "url: must be a string\n"},
		{"url empty", `{"url": "", "webhooks": [` + ok + `]}`, false,
			"url: empty: give one such as https://app.example.com/hook\n"},
		{"url plain http", `{"url": "http://app.example.com/hook", "webhooks": [` + ok + `]}`, false,
			"url: plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https\n"},
		{"url loopback", `{"url": "http://localhost./hook", "webhooks": [` + ok + `]}`, true, ""},
		{"unknown members", `{"url": "https://u.example", "webhooks": [` + ok + `], "zeta": 1, "alpha": 2}`, false,
			"alpha: unknown field: a register body has url and webhooks\n" +
				"zeta: unknown field: a register body has url and webhooks\n"},
		{"webhooks not a list", `{"url": "https://u.example", "webhooks": {}}`, false, "webhooks: must be a list of webhook objects\n"},
		{"webhooks null", `{"url": "https://u.example", "webhooks": null}`, false, "webhooks: must be a list of webhook objects\n"},
		{"webhooks empty", `{"url": "https://u.example", "webhooks": []}`, false, "webhooks: empty: list at least one webhook\n"},
		{"too many webhooks", `{"url": "https://u.example", "webhooks": [` + strings.Repeat(ok+",", Connect.MaxWebhooks) + ok + `]}`, false,
			"webhooks: 101 webhooks: Jira allows at most 100 per Connect app on a site\n"},
		{"webhook not an object", `{"url": "https://u.example", "webhooks": [` + ok + `, "project = PRJ", null]}`, false,
			`webhooks[1]: must be a webhook object, such as {"jqlFilter": "project = PRJ", "events": ["jira:issue_updated"]}` + "\n" +
				`webhooks[2]: must be a webhook object, such as {"jqlFilter": "project = PRJ", "events": ["jira:issue_updated"]}` + "\n"},
		{"webhook members", `{"url": "https://u.example", "webhooks": [{"jqlFilter": 3, "events": "jira:issue_created", "fieldIdsFilter": "summary", "issuePropertyKeysFilter": [1], "jql": "x"},
			{}, {"jqlFilter": null, "events": []}, {"jqlFilter": "project = PRJ", "events": null}]}`, false,
			"webhooks[0].jqlFilter: must be a string\n" +
				"webhooks[0].events: must be a list of event names\n" +
				"webhooks[0].fieldIdsFilter: must be a list of strings\n" +
				"webhooks[0].issuePropertyKeysFilter: must be a list of strings\n" +
				"webhooks[0].jql: unknown field: a webhook has jqlFilter, events, fieldIdsFilter and issuePropertyKeysFilter\n" +
				"webhooks[1].jqlFilter: missing: every webhook needs a JQL filter, such as project = PRJ\n" +
				"webhooks[1].events: missing: every webhook needs at least one event, such as jira:issue_updated\n" +
				"webhooks[2].jqlFilter: must be a string\n" +
				"webhooks[2].events: empty: list at least one event, such as jira:issue_updated\n" +
				"webhooks[3].events: must be a list of event names\n"},
		{"filters and events", `{"url": "https://u.example", "webhooks": [` + ok + `,
			{"jqlFilter": "project = PRJ AND labels = x", "events": ["jira:issue_created", "jira:issue_update"]},
			{"jqlFilter": "", "events": ["comment_created"]}]}`, false,
			`webhooks[1].jqlFilter: 1:19: unsupported field "labels": webhook filters can use issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id]` + "\n" +
				"  project = PRJ AND labels = x\n" +
				"                    ^^^^^^\n" +
				`webhooks[1].events[1]: unknown event "jira:issue_update": did you mean "jira:issue_updated"?` + "\n" +
				"webhooks[2].jqlFilter: 1:1: empty filter: a webhook needs a JQL filter, such as project = PRJ\n" +
				"  \n" +
				"  ^\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, c, err := ParseRequest([]byte(tt.body), Connect)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if c.Valid() != tt.valid || (req != nil) != tt.valid {
				t.Errorf("Valid() = %v, request %v; want valid %v", c.Valid(), req, tt.valid)
			}
			if got := c.Render(); got != tt.render {
				t.Errorf("Render()\n got:\n%s\n want:\n%s", got, tt.render)
			}
		})
	}
}

func TestParseRequestDecodes(t *testing.T) {
	body := `{"url": "https://app.example.com/hook", "webhooks": [
		{"jqlFilter": "type = Bug", "events": ["jira:issue_created", "comment_created"], "fieldIdsFilter": ["summary"]},
		{"jqlFilter": "status = Done", "events": ["jira:issue_updated"], "issuePropertyKeysFilter": ["p"]}]}`
	req, c, err := ParseRequest([]byte(body), Connect)
	if err != nil || !c.Valid() {
		t.Fatalf("ParseRequest: %v, %s", err, c.Render())
	}
	var want jira.RegisterRequest
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*req, want) {
		t.Errorf("request\n got  %+v\n want %+v", *req, want)
	}
	if len(c.Webhooks) != 2 {
		t.Fatalf("%d webhook checks", len(c.Webhooks))
	}
	w := c.Webhooks[0]
	if w.Filter != "type = Bug" || w.Query.Canonical() != "issuetype = Bug" || strings.Join(w.Events, ",") != "jira:issue_created,comment_created" {
		t.Errorf("webhooks[0] = filter %q, events %q", w.Filter, w.Events)
	}
	if c.Webhooks[1].Query == nil || !c.Webhooks[1].Query.Match(jql.Issue{StatusName: "done"}) {
		t.Error("webhooks[1]: the query does not match a Done issue")
	}
}

// TestCheckRequest: a request built in Go (jwh register's flags) is held
// to the rules of a body.
func TestCheckRequest(t *testing.T) {
	hook := func(filter string, events ...string) jira.WebhookSpec {
		return jira.WebhookSpec{JQLFilter: filter, Events: events}
	}
	tests := []struct {
		req  jira.RegisterRequest
		body string // the same request as a body
	}{
		{jira.RegisterRequest{URL: "https://app.example.com/hook", Webhooks: []jira.WebhookSpec{hook("project = A", "jira:issue_created")}},
			`{"url": "https://app.example.com/hook", "webhooks": [{"jqlFilter": "project = A", "events": ["jira:issue_created"]}]}`},
		{jira.RegisterRequest{URL: "http://app.localhost/hook", Webhooks: []jira.WebhookSpec{hook("priority = 1", "issue_created"), hook("", "jira:issue_created"), hook("project = A")}},
			`{"url": "http://app.localhost/hook", "webhooks": [{"jqlFilter": "priority = 1", "events": ["issue_created"]},
				{"jqlFilter": "", "events": ["jira:issue_created"]}, {"jqlFilter": "project = A", "events": []}]}`},
		{jira.RegisterRequest{URL: "", Webhooks: nil}, `{"url": "", "webhooks": []}`},
	}
	for _, tt := range tests {
		c := CheckRequest(&tt.req, Connect)
		_, want, err := ParseRequest([]byte(tt.body), Connect)
		if err != nil {
			t.Fatal(err)
		}
		if c.Valid() != want.Valid() || c.Render() != want.Render() {
			t.Errorf("CheckRequest(%+v)\n got:\n%s\n want, as for the body:\n%s", tt.req, c.Render(), want.Render())
		}
	}
}

// TestLimits: the limit is a parameter: 100 for a Connect app, 5 for an
// OAuth 2.0 app and user.
func TestLimits(t *testing.T) {
	req := func(n int) *jira.RegisterRequest {
		r := &jira.RegisterRequest{URL: "https://app.example.com/hook"}
		for range n {
			r.Webhooks = append(r.Webhooks, jira.WebhookSpec{JQLFilter: "project = A", Events: []string{"jira:issue_created"}})
		}
		return r
	}
	for _, tt := range []struct {
		lim  Limits
		n    int
		want string
	}{
		{OAuth, 5, ""},
		{OAuth, 6, "webhooks: 6 webhooks: Jira allows at most 5 per OAuth 2.0 app and user on a site\n"},
		{Connect, 6, ""},
		{Connect, 100, ""},
		{Connect, 101, "webhooks: 101 webhooks: Jira allows at most 100 per Connect app on a site\n"},
	} {
		if got := CheckRequest(req(tt.n), tt.lim).Render(); got != tt.want {
			t.Errorf("%d webhooks for a %s: %q, want %q", tt.n, tt.lim.Owner, got, tt.want)
		}
		body, _ := json.Marshal(req(tt.n))
		if _, c, _ := ParseRequest(body, tt.lim); c.Render() != tt.want {
			t.Errorf("%d webhooks for a %s, as a body: %q, want %q", tt.n, tt.lim.Owner, c.Render(), tt.want)
		}
	}
}

func TestParseRequestNotAnObject(t *testing.T) {
	want := `want a JSON object {"url": ..., "webhooks": [...]}`
	tests := []struct{ body, want string }{
		{"", "empty: " + want},
		{" \n\t", "empty: " + want},
		{"[]", "not a register request body: " + want},
		{`"text"`, "not a register request body: " + want},
		{"null", "not a register request body: " + want},
		{"42", "not a register request body: " + want},
		{`{"url": "u",}`, "invalid JSON at 1:13: invalid character '}' looking for beginning of object key string"},
		{"{\n  \"url\": \"u\"\n  \"webhooks\": []\n}", "invalid JSON at 3:3: invalid character '\"' after object key:value pair"},
		{`{"url": "é", x}`, "invalid JSON at 1:14: invalid character 'x' looking for beginning of object key string"},
		{`{"url"`, "invalid JSON at 1:6: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		req, c, err := ParseRequest([]byte(tt.body), Connect)
		if err == nil || req != nil || c != nil {
			t.Errorf("ParseRequest(%q) = %+v, %+v, want an error", tt.body, req, c)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseRequest(%q)\n got  %v\n want %s", tt.body, err, tt.want)
		}
	}
}

// TestJSON pins the JSON form that validate -o json and register -o json
// print.
func TestJSON(t *testing.T) {
	_, c, err := ParseRequest([]byte(`{"url": "http://app.example.com/hook", "zeta": 1, "webhooks": [
		{"jqlFilter": "key = A-1", "events": ["jira:issue_created"]},
		{"jqlFilter": "project = A AND\n priority = 1", "events": ["issue_created", "x"], "jql": 1},
		{"events": ["comment_created"]}]}`), Connect)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(c.JSON())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"valid":false,"errors":[` +
		`{"message":"plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https","line":0,"column":0,"offset":0,"path":"url"},` +
		`{"message":"unknown field: a register body has url and webhooks","line":0,"column":0,"offset":0,"path":"zeta"}],` +
		`"webhooks":[` +
		`{"valid":true,"canonical":"issueKey = A-1","aliases":{"key":"issueKey"},"errors":[]},` +
		`{"valid":false,"canonical":"","aliases":{},"errors":[` +
		`{"message":"unsupported field \"priority\": webhook filters can use issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id]","line":2,"column":2,"offset":17},` +
		`{"message":"unknown event \"issue_created\": did you mean \"jira:issue_created\"?","line":0,"column":0,"offset":0,"event":"issue_created","suggestion":"jira:issue_created"},` +
		`{"message":"` + strings.ReplaceAll(eventsMessage("x"), `"`, `\"`) + `","line":0,"column":0,"offset":0,"event":"x"},` +
		`{"message":"unknown field: a webhook has jqlFilter, events, fieldIdsFilter and issuePropertyKeysFilter","line":0,"column":0,"offset":0,"path":"webhooks[1].jql"}]},` +
		`{"valid":false,"canonical":"","aliases":{},"errors":[` +
		`{"message":"missing: every webhook needs a JQL filter, such as project = PRJ","line":0,"column":0,"offset":0,"path":"webhooks[2].jqlFilter"}]}]}`
	if string(got) != want {
		t.Errorf("JSON\n got  %s\n want %s", got, want)
	}
}

// eventsMessage is the message for an unknown event with no close match.
func eventsMessage(name string) string {
	return `unknown event "` + name + `": the events are jira:issue_created, jira:issue_updated, jira:issue_deleted, ` +
		`comment_created, comment_updated, comment_deleted, issue_property_set, issue_property_deleted, ` +
		`sprint_created, sprint_updated, sprint_closed, sprint_deleted, sprint_started, ` +
		`jira:version_released, jira:version_unreleased, jira:version_created, jira:version_moved, ` +
		`jira:version_updated, jira:version_merged, jira:version_deleted`
}

// FuzzCheckWebhook checks that no filter or event name panics the check,
// that every problem renders, and that a filter is never a valid event
// name too.
func FuzzCheckWebhook(f *testing.F) {
	for _, src := range []string{"project = PRJ", "key = A-1 OR type = Bug", "priority = 1 AND (", "", "jira:issue_created", "x = 'é'\n AND y ~ z"} {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c := CheckWebhook(src, []string{src})
		if c.Valid() || c.Render("webhooks[0]") == "" || len(c.Messages("")) != len(c.Problems) {
			t.Fatalf("CheckWebhook(%q, [%q]) = %+v: the filter cannot be an event name too", src, src, c.Problems)
		}
		filterOK := !slices.ContainsFunc(c.Problems, func(p Problem) bool { return p.Path == "jqlFilter" })
		if (c.Query != nil) != filterOK {
			t.Fatalf("CheckWebhook(%q): Query %v with problems %+v", src, c.Query, c.Problems)
		}
	})
}
