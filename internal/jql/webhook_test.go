package jql

import (
	"fmt"
	"strings"
	"testing"
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

func TestCheckBody(t *testing.T) {
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
			"url: empty: give the URL that Jira delivers to, such as https://app.example.com/hook\n"},
		{"url plain http", `{"url": "http://app.example.com/hook", "webhooks": [` + ok + `]}`, false,
			"url: plain http is allowed only for loopback hosts (localhost, 127.0.0.1): use https\n"},
		{"unknown members", `{"url": "https://u.example", "webhooks": [` + ok + `], "zeta": 1, "alpha": 2}`, false,
			"alpha: unknown field: a register body has url and webhooks\n" +
				"zeta: unknown field: a register body has url and webhooks\n"},
		{"webhooks not a list", `{"url": "https://u.example", "webhooks": {}}`, false, "webhooks: must be a list of webhook objects\n"},
		{"webhooks null", `{"url": "https://u.example", "webhooks": null}`, false, "webhooks: must be a list of webhook objects\n"},
		{"webhooks empty", `{"url": "https://u.example", "webhooks": []}`, false, "webhooks: empty: list at least one webhook\n"},
		{"too many webhooks", `{"url": "https://u.example", "webhooks": [` + strings.Repeat(ok+",", MaxWebhooks) + ok + `]}`, false,
			"webhooks: 101 webhooks: Jira allows at most 100 per app\n"},
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
			bc, err := CheckBody([]byte(tt.body))
			if err != nil {
				t.Fatalf("CheckBody: %v", err)
			}
			if bc.Valid() != tt.valid {
				t.Errorf("Valid() = %v, want %v", bc.Valid(), tt.valid)
			}
			if got := bc.Render(); got != tt.render {
				t.Errorf("Render()\n got:\n%s\n want:\n%s", got, tt.render)
			}
		})
	}
}

func TestCheckBodyWebhooks(t *testing.T) {
	bc, err := CheckBody([]byte(`{"url": "https://app.example.com/hook", "webhooks": [
		{"jqlFilter": "type = Bug", "events": ["jira:issue_created", "comment_created"]},
		{"jqlFilter": "status = Done", "events": ["jira:issue_updated"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if bc.URL != "https://app.example.com/hook" || len(bc.Webhooks) != 2 {
		t.Fatalf("URL %q, %d webhooks", bc.URL, len(bc.Webhooks))
	}
	w := bc.Webhooks[0]
	if w.Filter != "type = Bug" || w.Query.Canonical() != "issuetype = Bug" || strings.Join(w.Events, ",") != "jira:issue_created,comment_created" {
		t.Errorf("webhooks[0] = filter %q, events %q", w.Filter, w.Events)
	}
	if bc.Webhooks[1].Query == nil || !bc.Webhooks[1].Query.Match(Issue{StatusName: "done"}) {
		t.Error("webhooks[1]: the query does not match a Done issue")
	}
}

func TestCheckBodyNotAnObject(t *testing.T) {
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
		bc, err := CheckBody([]byte(tt.body))
		if err == nil {
			t.Errorf("CheckBody(%q) = %+v, want an error", tt.body, bc)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("CheckBody(%q)\n got  %v\n want %s", tt.body, err, tt.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct{ url, err string }{
		{"https://app.example.com/hook", ""},
		{"HTTPS://app.example.com", ""},
		{"https://app.example.com:8443/hook?tenant=a", ""},
		{"http://localhost:8080/hook", ""},
		{"http://127.0.0.1/hook", ""},
		{"http://[::1]:9000/", ""},
		{"", "empty: give the URL that Jira delivers to, such as https://app.example.com/hook"},
		{"  ", "empty: give the URL that Jira delivers to, such as https://app.example.com/hook"},
		{"/hook", "not an absolute URL: use https://HOST/PATH"},
		{"app.example.com/hook", "not an absolute URL: use https://HOST/PATH"},
		{"https://", "not an absolute URL: use https://HOST/PATH"},
		{"mailto:me@example.com", "not an absolute URL: use https://HOST/PATH"},
		{"http://app.example.com/hook", "plain http is allowed only for loopback hosts (localhost, 127.0.0.1): use https"},
		{"ftp://app.example.com/hook", `scheme "ftp" is not supported: use https`},
		{"https://user:pw@app.example.com/hook", "must not hold user information"},
		{"https://app.example.com/hook#x", "must not have a fragment (#...)"},
		{"https://app.example.com/hook#", "must not have a fragment (#...)"},
	}
	for _, tt := range tests {
		err := CheckURL(tt.url)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.err {
			t.Errorf("CheckURL(%q) = %q, want %q", tt.url, got, tt.err)
		}
	}
}
