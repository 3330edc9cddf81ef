package validate_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

const (
	fields = "webhook filters can use issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id]"
	ops    = "webhook filters can use =, !=, IN and NOT IN"
)

// run runs jwh in-process with stdin and args and returns the exit status
// and what it printed. validate must work offline and fast: the test fails
// if the command loads the config file or opens the secret store.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	f := &cmdutil.Factory{
		IOStreams: ios,
		Version:   "1.2.3",
		Getenv: func(k string) string {
			if k == tenant.EnvConfig {
				return cfgPath
			}
			return ""
		},
		Config: func() (*tenant.Config, error) {
			t.Errorf("jwh %s loaded the config file", strings.Join(args, " "))
			return tenant.LoadConfig(cfgPath)
		},
		Secrets: func() tenant.SecretStore {
			t.Errorf("jwh %s opened the secret store", strings.Join(args, " "))
			return tenant.NewMemoryStore()
		},
	}
	code = app.Run(f, args)
	return code, out.String(), errOut.String()
}

// check compares a run with what is expected, exactly.
func check(t *testing.T, stdin string, args []string, wantCode int, wantOut, wantErr string) {
	t.Helper()
	code, out, errOut := run(t, stdin, args...)
	if code != wantCode {
		t.Errorf("jwh %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, out, errOut)
	}
	if out != wantOut {
		t.Errorf("jwh %q: stdout\n got:\n%s\n want:\n%s", args, out, wantOut)
	}
	if errOut != wantErr {
		t.Errorf("jwh %q: stderr\n got:\n%s\n want:\n%s", args, errOut, wantErr)
	}
}

func TestValidateValid(t *testing.T) {
	check(t, "", []string{"validate", "--jql", "project = PRJ and status = 'In Progress'"}, 0,
		"✓ valid: project = PRJ AND status = \"In Progress\"\n", "")
}

func TestValidateAliasesAndEvents(t *testing.T) {
	check(t, "", []string{"validate", "--jql", "key = PRJ-1 OR TYPE in (Bug)",
		"--event", "jira:issue_updated,comment_created", "--event", "sprint_started", "--event", "sprint_started"}, 0,
		"✓ valid: issueKey = PRJ-1 OR issuetype IN (Bug)\n"+
			"  alias: key → issueKey\n"+
			"  alias: type → issuetype\n"+
			"  note: sprint_started is not an issue event; the JQL filter selects issues\n", "")
}

func TestValidateInvalidFilter(t *testing.T) {
	check(t, "", []string{"validate", "--jql", "project = PRJ AND priority = High"}, 2, "",
		`1:19: unsupported field "priority": `+fields+"\n"+
			"  project = PRJ AND priority = High\n"+
			"                    ^^^^^^^^\n")
}

func TestValidateEverySubsetViolation(t *testing.T) {
	src := "assignee = currentUser() AND status ~ Done ORDER BY key"
	check(t, "", []string{"validate", "--jql", src}, 2, "",
		`1:12: unsupported function "currentUser()": webhook filters compare with literal values, such as a key or an account id`+"\n"+
			"  "+src+"\n"+
			"             ^^^^^^^^^^^^^\n"+
			`1:37: unsupported operator "~": `+ops+"\n"+
			"  "+src+"\n"+
			"                                      ^\n"+
			"1:44: ORDER BY is not supported in webhook filters: remove it (Jira sends events one at a time, so there is nothing to sort)\n"+
			"  "+src+"\n"+
			"                                             ^^^^^^^^^^^^\n")
}

func TestValidateSyntaxError(t *testing.T) {
	// Only the first syntax error: the unsupported field before it is not reported.
	check(t, "", []string{"validate", "--jql", "labels = x AND project in (PRJ,,OPS)"}, 2, "",
		"1:32: unexpected \",\": expected a value\n"+
			"  labels = x AND project in (PRJ,,OPS)\n"+
			"                                 ^\n")
}

func TestValidateEmptyFilter(t *testing.T) {
	check(t, "", []string{"validate", "--jql", ""}, 2, "",
		"1:1: empty filter: a webhook needs a JQL filter, such as project = PRJ\n  \n  ^\n")
}

func TestValidateUnknownEvent(t *testing.T) {
	check(t, "", []string{"validate", "--jql", "project = PRJ", "--event", "jira:issue_created,issue_updated"}, 2, "",
		`unknown event "issue_updated": did you mean "jira:issue_updated"?`+"\n")
	code, _, errOut := run(t, "", "validate", "--jql", "project = PRJ", "--event", "worklog_created")
	if code != 2 || !strings.HasPrefix(errOut, `unknown event "worklog_created": the events are jira:issue_created, jira:issue_updated, `) {
		t.Errorf("an event with no near miss: exit %d, stderr %q", code, errOut)
	}
}

func TestValidateFilterAndEventErrors(t *testing.T) {
	check(t, "", []string{"validate", "--jql", "summary = x", "--event", "jira:issue_updatd"}, 2, "",
		`1:1: unsupported field "summary": `+fields+"\n"+
			"  summary = x\n"+
			"  ^^^^^^^\n"+
			`unknown event "jira:issue_updatd": did you mean "jira:issue_updated"?`+"\n")
}

func TestValidateStdin(t *testing.T) {
	check(t, "project = PRJ\n", []string{"validate", "--jql", "-"}, 0, "✓ valid: project = PRJ\n", "")
	check(t, "project = PRJ\r\n", []string{"validate", "--jql", "-"}, 0, "✓ valid: project = PRJ\n", "")
	// Lines and columns count from the start of standard input.
	check(t, "project = PRJ\n  AND labels = x\n", []string{"validate", "--jql", "-"}, 2, "",
		`2:7: unsupported field "labels": `+fields+"\n"+
			"    AND labels = x\n"+
			"        ^^^^^^\n")
	check(t, "", []string{"validate", "--jql", "-"}, 2, "",
		"1:1: empty filter: a webhook needs a JQL filter, such as project = PRJ\n  \n  ^\n")
}

func TestValidateJSONValid(t *testing.T) {
	check(t, "", []string{"validate", "--jql", "issue in (PRJ-1, PRJ-2)", "-o", "json"}, 0, `{
  "valid": true,
  "canonical": "issueKey IN (PRJ-1, PRJ-2)",
  "aliases": {
    "issue": "issueKey"
  },
  "errors": []
}
`, "")
}

func TestValidateJSONInvalid(t *testing.T) {
	check(t, "", []string{"validate", "-o", "json", "--jql", "status = \"déjà vu\" AND prïority = 1", "--event", "comment_create"}, 2, `{
  "valid": false,
  "canonical": "",
  "aliases": {},
  "errors": [
    {
      "message": "unsupported field \"prïority\": `+fields+`",
      "line": 1,
      "column": 24,
      "offset": 25
    },
    {
      "message": "unknown event \"comment_create\": did you mean \"comment_created\"?",
      "line": 0,
      "column": 0,
      "offset": 0,
      "event": "comment_create",
      "suggestion": "comment_created"
    }
  ]
}
`, "")
}

func TestValidateJSONShape(t *testing.T) {
	code, out, _ := run(t, "project = PRJ\nAND (", "validate", "--jql", "-", "--output", "json")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	var got struct {
		Valid     *bool             `json:"valid"`
		Canonical *string           `json:"canonical"`
		Aliases   map[string]string `json:"aliases"`
		Errors    []map[string]any  `json:"errors"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Valid == nil || *got.Valid || got.Canonical == nil || got.Aliases == nil || len(got.Errors) != 1 {
		t.Fatalf("got %s", out)
	}
	want := map[string]any{"message": `"(" is never closed: expected a clause and ")"`, "line": 2.0, "column": 5.0, "offset": 18.0}
	for k, v := range want {
		if got.Errors[0][k] != v {
			t.Errorf("errors[0].%s = %v, want %v", k, got.Errors[0][k], v)
		}
	}
	if len(got.Errors[0]) != len(want) {
		t.Errorf("errors[0] = %v, want exactly the keys of %v", got.Errors[0], want)
	}
}

const body = `{
  "url": "https://app.example.com/hook",
  "webhooks": [
    {"jqlFilter": "project = PRJ", "events": ["jira:issue_created", "jira:issue_updated"]},
    {"jqlFilter": "key = PRJ-1 AND labels = x", "events": ["jira:issue_updated"], "fieldIdsFilter": ["summary"]},
    {"jqlFilter": "status = Done", "events": ["issue_property_sett"]},
    {"events": []}
  ]
}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const bodyErrors = `webhooks[1].jqlFilter: 1:17: unsupported field "labels": ` + fields + "\n" +
	"  key = PRJ-1 AND labels = x\n" +
	"                  ^^^^^^\n" +
	`webhooks[2].events[0]: unknown event "issue_property_sett": did you mean "issue_property_set"?` + "\n" +
	"webhooks[3].jqlFilter: missing: every webhook needs a JQL filter, such as project = PRJ\n" +
	"webhooks[3].events: empty: list at least one event, such as jira:issue_updated\n"

func TestValidateFile(t *testing.T) {
	path := writeFile(t, "webhooks.json", body)
	check(t, "", []string{"validate", "--file", path}, 2, "✓ webhooks[0]: project = PRJ\n", bodyErrors)
	// The same from standard input.
	check(t, body, []string{"validate", "--file", "-"}, 2, "✓ webhooks[0]: project = PRJ\n", bodyErrors)
}

func TestValidateFileValid(t *testing.T) {
	path := writeFile(t, "ok.json", `{"url": "https://app.example.com/hook", "webhooks": [
		{"jqlFilter": "project = PRJ", "events": ["jira:issue_created"]},
		{"jqlFilter": "type = Bug", "events": ["comment_created", "jira:version_released"], "issuePropertyKeysFilter": ["p"]}]}`)
	check(t, "", []string{"validate", "--file", path}, 0,
		"✓ webhooks[0]: project = PRJ\n"+
			"✓ webhooks[1]: issuetype = Bug\n"+
			"  alias: type → issuetype\n"+
			"  note: jira:version_released is not an issue event; the JQL filter selects issues\n", "")
}

func TestValidateFileJSON(t *testing.T) {
	code, out, errOut := run(t, body, "validate", "--file", "-", "-o", "json")
	if code != 2 || errOut != "" {
		t.Errorf("exit %d, stderr %q; want 2 and nothing", code, errOut)
	}
	var got struct {
		Valid    bool             `json:"valid"`
		Errors   []map[string]any `json:"errors"`
		Webhooks []struct {
			Valid     bool              `json:"valid"`
			Canonical string            `json:"canonical"`
			Aliases   map[string]string `json:"aliases"`
			Errors    []map[string]any  `json:"errors"`
		} `json:"webhooks"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Valid || got.Errors == nil || len(got.Errors) != 0 || len(got.Webhooks) != 4 {
		t.Fatalf("got %s", out)
	}
	w := got.Webhooks
	if !w[0].Valid || w[0].Canonical != "project = PRJ" || len(w[0].Errors) != 0 {
		t.Errorf("webhooks[0] = %+v", w[0])
	}
	if w[1].Valid || w[1].Canonical != "" || len(w[1].Errors) != 1 || w[1].Errors[0]["column"] != 17.0 || w[1].Errors[0]["offset"] != 16.0 {
		t.Errorf("webhooks[1] = %+v", w[1])
	}
	if len(w[2].Errors) != 1 || w[2].Errors[0]["event"] != "issue_property_sett" || w[2].Errors[0]["suggestion"] != "issue_property_set" ||
		w[2].Canonical != "status = Done" {
		t.Errorf("webhooks[2] = %+v", w[2])
	}
	if len(w[3].Errors) != 2 || w[3].Errors[0]["path"] != "webhooks[3].jqlFilter" || w[3].Errors[1]["path"] != "webhooks[3].events" {
		t.Errorf("webhooks[3] = %+v", w[3])
	}

	code, out, _ = run(t, `{"webhooks": []}`, "validate", "--file", "-", "-o", "json")
	want := `{
  "valid": false,
  "errors": [
    {
      "message": "missing: the body needs the URL that Jira delivers to",
      "line": 0,
      "column": 0,
      "offset": 0,
      "path": "url"
    },
    {
      "message": "empty: list at least one webhook",
      "line": 0,
      "column": 0,
      "offset": 0,
      "path": "webhooks"
    }
  ],
  "webhooks": []
}
`
	if code != 2 || out != want {
		t.Errorf("exit %d, stdout\n%s\nwant 2 and\n%s", code, out, want)
	}
}

func TestValidateFileErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.json")
	code, out, errOut := run(t, "", "validate", "--file", missing)
	if code != 2 || out != "" || errOut != "jwh: cannot read "+missing+": no such file or directory\n" {
		t.Errorf("missing file: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	path := writeFile(t, "bad.json", "{\"url\": \"u\",\n \"webhooks\": [}")
	check(t, "", []string{"validate", "--file", path}, 2, "",
		"jwh: "+path+": invalid JSON at 2:15: invalid character '}' looking for beginning of value\n")
	check(t, "[]", []string{"validate", "--file", "-"}, 2, "",
		"jwh: standard input: not a register request body: want a JSON object {\"url\": ..., \"webhooks\": [...]}\n")
	check(t, "", []string{"validate", "--file", "-"}, 2, "",
		"jwh: standard input: empty: want a JSON object {\"url\": ..., \"webhooks\": [...]}\n")
	check(t, `{"url": "http://app.example.com/hook", "webhooks": [{"jqlFilter": "project = PRJ", "events": ["jira:issue_created"]}]}`,
		[]string{"validate", "--file", "-"}, 2, "✓ webhooks[0]: project = PRJ\n",
		"url: plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https\n")
}

func TestValidateColor(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	ios.SetColorEnabled(true)
	f := &cmdutil.Factory{IOStreams: ios, Getenv: func(string) string { return "" }}
	if code := app.Run(f, []string{"validate", "--jql", "project = PRJ"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got, want := out.String(), "\x1b[32m✓\x1b[0m valid: project = PRJ\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}
