package register

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

func TestRequest(t *testing.T) {
	flags := func(url, filter string, events ...string) *Options {
		return &Options{URL: url, JQL: filter, Events: events, FieldIDs: []string{"summary"}, Limits: webhookspec.Connect}
	}
	file := func(body string, lim webhookspec.Limits) (*Options, *bytes.Buffer) {
		ios, in, _, _ := iostreams.Test()
		in.WriteString(body)
		return &Options{IO: ios, File: "-", Limits: lim}, in
	}

	t.Run("valid flags", func(t *testing.T) {
		req, err := request(flags("http://localhost./hook", "project = A", "jira:issue_updated"))
		want := &jira.RegisterRequest{URL: "http://localhost./hook", Webhooks: []jira.WebhookSpec{
			{JQLFilter: "project = A", Events: []string{"jira:issue_updated"}, FieldIDsFilter: []string{"summary"}}}}
		if err != nil || !reflect.DeepEqual(req, want) {
			t.Errorf("request = %+v, %v; want %+v", req, err, want)
		}
	})

	t.Run("invalid flags", func(t *testing.T) {
		_, err := request(flags("http://app.example.com/hook", "project = A OR labels = x", "jira:issue_updated", "issue_updated"))
		want := []string{
			`invalid --url "http://app.example.com/hook": plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https`,
			`1:16: unsupported field "labels": webhook filters can use issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id]` + "\n" +
				"  project = A OR labels = x\n" +
				"                 ^^^^^^",
			`unknown event "issue_updated": did you mean "jira:issue_updated"?`,
		}
		if got := cmdutil.Messages(err); !slices.Equal(got, want) || cmdutil.ExitCode(err) != 2 {
			t.Errorf("exit %d, problems\n%s\nwant\n%s", cmdutil.ExitCode(err), strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	// A password in --url is not repeated in the error.
	t.Run("password in --url", func(t *testing.T) {
		_, err := request(flags("https://me:hunter2@app.example.com/hook", "project = A", "jira:issue_updated"))
		want := `invalid --url "https://me:xxxxx@app.example.com/hook": holds user information (user@ or user:password@): remove it`
		if err == nil || err.Error() != want || cmdutil.ExitCode(err) != 2 {
			t.Errorf("error %v, want %q (exit 2)", err, want)
		}
	})

	t.Run("valid file", func(t *testing.T) {
		o, _ := file(`{"url": "https://app.example.com/hook", "webhooks": [
			{"jqlFilter": "project = A", "events": ["jira:issue_updated"], "fieldIdsFilter": ["summary"], "issuePropertyKeysFilter": ["p"]},
			{"jqlFilter": "status = Done", "events": ["comment_created", "comment_updated"]}]}`, webhookspec.Connect)
		req, err := request(o)
		want := &jira.RegisterRequest{URL: "https://app.example.com/hook", Webhooks: []jira.WebhookSpec{
			{JQLFilter: "project = A", Events: []string{"jira:issue_updated"}, FieldIDsFilter: []string{"summary"}, IssuePropertyKeysFilter: []string{"p"}},
			{JQLFilter: "status = Done", Events: []string{"comment_created", "comment_updated"}},
		}}
		if err != nil || !reflect.DeepEqual(req, want) {
			t.Errorf("request = %+v, %v; want %+v", req, err, want)
		}
	})

	t.Run("invalid file", func(t *testing.T) {
		o, _ := file(`{"url": "ftp://x", "webhooks": [{"jqlFilter": "project = A", "events": ["nope"]}, {"events": []}]}`, webhookspec.Connect)
		_, err := request(o)
		want := []string{
			`url: scheme "ftp" is not supported: use https`,
			`webhooks[0].events[0]: ` + `unknown event "nope": the events are jira:issue_created, jira:issue_updated, jira:issue_deleted, ` +
				`comment_created, comment_updated, comment_deleted, issue_property_set, issue_property_deleted, ` +
				`sprint_created, sprint_updated, sprint_closed, sprint_deleted, sprint_started, ` +
				`jira:version_released, jira:version_unreleased, jira:version_created, jira:version_moved, ` +
				`jira:version_updated, jira:version_merged, jira:version_deleted`,
			"webhooks[1].jqlFilter: missing: every webhook needs a JQL filter, such as project = PRJ",
			"webhooks[1].events: empty: list at least one event, such as jira:issue_updated",
		}
		if got := cmdutil.Messages(err); !slices.Equal(got, want) || cmdutil.ExitCode(err) != 2 {
			t.Errorf("exit %d, problems\n%s\nwant\n%s", cmdutil.ExitCode(err), strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, bad := range []string{`[]`, `null`, `"x"`, `{`, ``} {
			o, _ := file(bad, webhookspec.Connect)
			if _, err := request(o); cmdutil.ExitCode(err) != 2 || !strings.HasPrefix(err.Error(), "standard input: ") {
				t.Errorf("body %s: %v", bad, err)
			}
		}
	})

	// The limit is the tenant's kind of app's: five webhooks per user for
	// an OAuth 2.0 app.
	t.Run("limit", func(t *testing.T) {
		body := `{"url": "https://app.example.com/hook", "webhooks": [` +
			strings.Repeat(`{"jqlFilter": "project = A", "events": ["jira:issue_updated"]},`, 5) +
			`{"jqlFilter": "project = B", "events": ["jira:issue_updated"]}]}`
		o, _ := file(body, webhookspec.Connect)
		if _, err := request(o); err != nil {
			t.Errorf("6 webhooks of a Connect app: %v", err)
		}
		o, _ = file(body, webhookspec.OAuth)
		_, err := request(o)
		want := "webhooks: 6 webhooks: Jira allows at most 5 per OAuth 2.0 app and user on a site"
		if cmdutil.ExitCode(err) != 2 || err.Error() != want {
			t.Errorf("6 webhooks of an OAuth 2.0 app: %v, want %s", err, want)
		}
	})
}

// TestRequestJSON: with -o json, invalid input is the check on standard
// output (the JSON of validate --file -o json), exit status 2 and no error
// to print.
func TestRequestJSON(t *testing.T) {
	ios, _, out, errOut := iostreams.Test()
	o := &Options{IO: ios, JSON: true, Limits: webhookspec.Connect, URL: "https://app.example.com/hook#top",
		JQL: "project = A AND priority = 1", Events: []string{"jira:issue_updated", "comment_create"}}
	_, err := request(o)
	if cmdutil.ExitCode(err) != 2 || !cmdutil.IsSilent(err) || errOut.Len() != 0 {
		t.Fatalf("error %v (exit %d), stderr %q: want a silent exit 2", err, cmdutil.ExitCode(err), errOut)
	}
	var got webhookspec.RequestJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not the check: %v\n%s", err, out)
	}
	want := webhookspec.RequestJSON{
		Errors: []webhookspec.ProblemJSON{{Message: "has a fragment (#...), which is never sent: remove it", Path: "url"}},
		Webhooks: []*webhookspec.WebhookJSON{{Aliases: map[string]string{}, Errors: []webhookspec.ProblemJSON{
			{Message: `unsupported field "priority": webhook filters can use issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id]`,
				Line: 1, Column: 17, Offset: 16},
			{Message: `unknown event "comment_create": did you mean "comment_created"?`, Event: "comment_create", Suggestion: "comment_created"},
		}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stdout\n%s\nwant %+v", out, want)
	}
}

func TestNewCmdRegister(t *testing.T) {
	const base = "--url https://app.example.com/hook --jql 'project = A' "
	flags := Options{URL: "https://app.example.com/hook", JQL: "project = A", Limits: webhookspec.Connect}
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
		{Args: "--file -", Want: Options{File: "-", Limits: webhookspec.Connect}},
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

// TestLimitsByKind: the limit is the selected tenant's kind's (5 per user
// for an OAuth 2.0 tenant), checked before any secret is read; when no
// tenant can be selected, a --dry-run is checked with Connect's, and a
// registration says why it cannot go on only after the local checks.
func TestLimitsByKind(t *testing.T) {
	hooks := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = `{"jqlFilter": "project = A", "events": ["jira:issue_updated"]}`
		}
		return `{"url": "https://app.example.com/hook", "webhooks": [` + strings.Join(ws, ",") + `]}`
	}
	noClient := func() (*jira.Client, *tenant.Tenant, error) {
		t.Error("the client was built")
		return nil, nil, errors.New("no client")
	}
	oauthTenant := func() (*tenant.Tenant, error) { return &tenant.Tenant{Name: "work", Kind: tenant.KindOAuth}, nil }
	connectTenant := func() (*tenant.Tenant, error) { return &tenant.Tenant{Name: "acme"}, nil }
	noTenant := func() (*tenant.Tenant, error) { return nil, cmdutil.CredentialsErrorf("no tenants configured") }
	for _, tc := range []struct {
		name   string
		tenant func() (*tenant.Tenant, error)
		n      int
		dryRun bool
		code   int
		want   string
	}{
		{"oauth, 6", oauthTenant, 6, false, 2, "webhooks: 6 webhooks: Jira allows at most 5 per OAuth 2.0 app and user on a site"},
		{"oauth, 6, dry run", oauthTenant, 6, true, 2, "webhooks: 6 webhooks: Jira allows at most 5 per OAuth 2.0 app and user on a site"},
		{"oauth, 5, dry run", oauthTenant, 5, true, 0, ""},
		{"connect, 6, dry run", connectTenant, 6, true, 0, ""},
		{"no tenant, 6, dry run", noTenant, 6, true, 0, ""},
		{"no tenant, 101", noTenant, 101, false, 2, "webhooks: 101 webhooks: Jira allows at most 100 per Connect app on a site"},
		{"no tenant, 6", noTenant, 6, false, 3, "no tenants configured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, in, _, _ := iostreams.Test()
			in.WriteString(hooks(tc.n))
			opts := &Options{IO: ios, File: "-", Limits: webhookspec.Connect, Tenant: tc.tenant, Client: noClient, DryRun: tc.dryRun}
			err := registerRun(context.Background(), opts)
			if code := cmdutil.ExitCode(err); code != tc.code || tc.want != "" && !slices.Contains(cmdutil.Messages(err), tc.want) {
				t.Errorf("exit %d, %v; want exit %d and %q", code, err, tc.code, tc.want)
			}
		})
	}
}
