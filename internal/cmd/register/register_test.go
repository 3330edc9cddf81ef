package register

import (
	"reflect"
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
