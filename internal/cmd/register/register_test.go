package register

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/jira"
)

func TestCheckFlags(t *testing.T) {
	req := &jira.RegisterRequest{URL: "https://app.example.com/hook", Webhooks: []jira.WebhookSpec{{
		JQLFilter: "project = A", Events: []string{"jira:issue_updated"}}}}
	if got := checkFlags(req); got != "" {
		t.Errorf("valid: %q", got)
	}
	req.URL = "http://app.example.com/hook"
	req.Webhooks[0] = jira.WebhookSpec{JQLFilter: "project = A OR labels = x", Events: []string{"jira:issue_updated", "issue_updated"}}
	got := checkFlags(req)
	lines := strings.Split(got, "\n")
	if len(lines) != 6 || lines[5] != "" {
		t.Fatalf("want 5 lines:\n%s", got)
	}
	if !strings.HasPrefix(lines[0], `invalid --url "http://app.example.com/hook": plain http is allowed only for loopback hosts`) ||
		!strings.HasPrefix(lines[1], "1:16: ") || !strings.Contains(lines[1], "labels") ||
		lines[2] != "  project = A OR labels = x" || lines[3] != "                 ^^^^^^" ||
		lines[4] != `unknown event "issue_updated": did you mean "jira:issue_updated"?` {
		t.Errorf("got:\n%s", got)
	}
}

func TestParseBody(t *testing.T) {
	req, problems, err := parseBody([]byte(`{"url": "https://app.example.com/hook", "webhooks": [
		{"jqlFilter": "project = A", "events": ["jira:issue_updated"], "fieldIdsFilter": ["summary"], "issuePropertyKeysFilter": ["p"]},
		{"jqlFilter": "status = Done", "events": ["comment_created", "comment_updated"]}]}`))
	if err != nil || problems != "" {
		t.Fatalf("valid body: %v %q", err, problems)
	}
	want := &jira.RegisterRequest{URL: "https://app.example.com/hook", Webhooks: []jira.WebhookSpec{
		{JQLFilter: "project = A", Events: []string{"jira:issue_updated"}, FieldIDsFilter: []string{"summary"}, IssuePropertyKeysFilter: []string{"p"}},
		{JQLFilter: "status = Done", Events: []string{"comment_created", "comment_updated"}},
	}}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("decoded %+v, want %+v", req, want)
	}

	req, problems, err = parseBody([]byte(`{"url": "ftp://x", "webhooks": [{"jqlFilter": "project = A", "events": ["nope"]}, {"events": []}]}`))
	if err != nil || req != nil {
		t.Fatalf("invalid body: %v %+v", err, req)
	}
	for _, want := range []string{"url: scheme \"ftp\" is not supported", "webhooks[0].events[0]: unknown event \"nope\"", "webhooks[1].jqlFilter: missing", "webhooks[1].events: empty"} {
		if !strings.Contains(problems, "\n"+want) && !strings.HasPrefix(problems, want) {
			t.Errorf("no %q in:\n%s", want, problems)
		}
	}
	for _, bad := range []string{`[]`, `null`, `"x"`, `{`, ``} {
		if _, _, err := parseBody([]byte(bad)); err == nil {
			t.Errorf("parseBody(%s): no error", bad)
		}
	}
}

func TestNewCmdRegister(t *testing.T) {
	const base = "--url https://app.example.com/hook --jql 'project = A' "
	flags := Options{URL: "https://app.example.com/hook", JQL: "project = A"}
	with := func(change func(o *Options)) Options {
		o := flags
		change(&o)
		return o
	}
	cmdtest.Flags(t, NewCmdRegister, []cmdtest.Case[Options]{
		{Args: base + "--event 'jira:issue_created, comment_created' --event jira:issue_updated --field-id a,b --property-key k",
			Want: with(func(o *Options) {
				o.Events = []string{"jira:issue_created", "comment_created", "jira:issue_updated"}
				o.FieldIDs = []string{"a", "b"}
				o.PropertyKeys = []string{"k"}
			})},
		{Args: base + "--event jira:issue_created --dry-run -o json",
			Want: with(func(o *Options) { o.Events = []string{"jira:issue_created"}; o.DryRun = true; o.JSON = true })},
		{Args: "--file -", Want: Options{File: "-"}},
		{Args: base, WantErr: "missing --event: at least one event, such as jira:issue_updated"},
		{Args: base + "--event ,", WantErr: "missing --event: at least one event, such as jira:issue_updated"},
		{Args: "--jql 'a = b' --event x", WantErr: "missing --url: the URL that Jira delivers to (or use --file)"},
		{Args: "--url https://x.example.com --event x", WantErr: "missing --jql: the filter that selects the issues, such as 'project = PRJ'"},
		{Args: "--file x.json --event x", WantErr: "specify either --file or --url, --jql and --event: the file holds the url and the webhooks"},
		{Args: "--file ''", WantErr: "--file needs a path, or - for standard input"},
		{Args: "x", WantErr: `unexpected argument "x" for "jwh register"`},
	})
}

func TestFindRegistered(t *testing.T) {
	const url = "https://app.example.com/hook"
	req := &jira.RegisterRequest{URL: url, Webhooks: []jira.WebhookSpec{
		{JQLFilter: "project = A", Events: []string{"jira:issue_updated", "jira:issue_created"}},
		{JQLFilter: "project = A", Events: []string{"jira:issue_created", "jira:issue_updated"}},
		{JQLFilter: "project = B", Events: []string{"comment_created"}, FieldIDsFilter: []string{"summary"}},
	}}
	a := jira.Webhook{JQLFilter: "project = A", Events: []string{"jira:issue_created", "jira:issue_updated"}, URL: url}
	b := jira.Webhook{JQLFilter: "project = B", Events: []string{"comment_created"}, FieldIDsFilter: []string{"summary"}, URL: url}
	with := func(w jira.Webhook, id int64, edit func(*jira.Webhook)) jira.Webhook {
		w.ID = id
		if edit != nil {
			edit(&w)
		}
		return w
	}
	for _, tc := range []struct {
		name  string
		hooks []jira.Webhook
		want  []int64
	}{
		{"all there, newest first", []jira.Webhook{with(a, 1000, nil), with(b, 1001, nil), with(a, 1002, nil), with(a, 1003, nil)}, []int64{1003, 1002, 1001}},
		{"one identical webhook for two requested", []jira.Webhook{with(a, 1000, nil), with(b, 1001, nil)}, nil},
		{"no URL in the listing", []jira.Webhook{with(a, 1, func(w *jira.Webhook) { w.URL = "" }), with(a, 2, nil), with(b, 3, nil)}, []int64{2, 1, 3}},
		{"another URL", []jira.Webhook{with(a, 1, nil), with(a, 2, nil), with(b, 3, func(w *jira.Webhook) { w.URL = "https://other.example.com/" })}, nil},
		{"other events", []jira.Webhook{with(a, 1, nil), with(a, 2, func(w *jira.Webhook) { w.Events = w.Events[:1] }), with(b, 3, nil)}, nil},
		{"other filter", []jira.Webhook{with(a, 1, nil), with(a, 2, func(w *jira.Webhook) { w.JQLFilter = "project = a" }), with(b, 3, nil)}, nil},
		{"other field ids", []jira.Webhook{with(a, 1, nil), with(a, 2, nil), with(b, 3, func(w *jira.Webhook) { w.FieldIDsFilter = nil })}, nil},
		{"other property keys", []jira.Webhook{with(a, 1, nil), with(a, 2, nil), with(b, 3, func(w *jira.Webhook) { w.IssuePropertyKeysFilter = []string{"p"} })}, nil},
		{"none", nil, nil},
	} {
		if got := findRegistered(req, tc.hooks); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
