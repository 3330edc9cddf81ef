package sandbox

import (
	"encoding/json"
	"hash/fnv"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/jql"
)

// Issue is an issue as Jira's REST API shows it: an id, a key and its
// fields by field id ("summary", "status", "customfield_10014", ...). It is
// what a trigger describes and what a delivery's "issue" is built from.
//
// Every field may be left out: Trigger fills in Jira's usual fields with
// defaults (the key SBX-1, the type Task, the status To Do, ...). The
// common fields also take a short form, as jwh trigger's flags give them:
// "project": "PRJ" (a key, or digits for an id), "issuetype": "Bug" and
// "status": "Done" (a name, or digits for an id), "assignee" and
// "reporter": an account id. Other fields, custom fields included, are
// delivered as given.
type Issue struct {
	ID     string         `json:"id,omitempty"`
	Key    string         `json:"key,omitempty"`
	Fields map[string]any `json:"fields,omitempty"`
	// Properties are the issue's entity properties by key, as
	// issue.property[KEY] filters see them. They are not delivered.
	Properties map[string]any `json:"properties,omitempty"`
}

// IssueSpec gives an issue's common fields in their short form; With
// applies it. Empty strings leave a field as it is.
type IssueSpec struct {
	Key       string
	Project   string // key, or digits for the id
	IssueType string // name, or digits for the id
	Status    string // name, or digits for the id
	Assignee  string // account id
	Reporter  string // account id
	Summary   string
	// Fields are set as given, after the fields above.
	Fields map[string]any
}

// With returns a copy of is with the fields of spec set.
func (is Issue) With(spec IssueSpec) Issue {
	out := Issue{ID: is.ID, Key: is.Key, Fields: maps.Clone(is.Fields), Properties: maps.Clone(is.Properties)}
	if out.Fields == nil {
		out.Fields = map[string]any{}
	}
	if spec.Key != "" {
		out.Key = spec.Key
	}
	for id, v := range map[string]string{
		"project": spec.Project, "issuetype": spec.IssueType, "status": spec.Status,
		"assignee": spec.Assignee, "reporter": spec.Reporter, "summary": spec.Summary,
	} {
		if v != "" {
			out.Fields[id] = v
		}
	}
	maps.Copy(out.Fields, spec.Fields)
	return out
}

// User is a Jira user as deliveries show them.
type User struct {
	AccountID   string `json:"accountId"`
	DisplayName string `json:"displayName,omitempty"`
}

// jiraTimeLayout is how Jira writes created and updated dates.
const jiraTimeLayout = "2006-01-02T15:04:05.000-0700"

// issueTypeIDs and statuses are the ids of Jira's usual issue types and
// statuses, so that filters on ids work for the usual names.
var (
	issueTypeIDs = map[string]string{
		"epic": "10000", "task": "10001", "story": "10002", "sub-task": "10003", "subtask": "10003", "bug": "10004",
	}
	statuses = map[string]struct{ id, category string }{
		"open": {"1", "new"}, "in progress": {"3", "indeterminate"}, "reopened": {"4", "new"},
		"resolved": {"5", "done"}, "closed": {"6", "done"}, "to do": {"10000", "new"},
		"done": {"10001", "done"}, "in review": {"10002", "indeterminate"}, "backlog": {"10003", "new"},
	}
	statusCategories = map[string]struct {
		id   int
		name string
	}{"new": {2, "To Do"}, "indeterminate": {4, "In Progress"}, "done": {3, "Done"}}
)

// builtIssue is an issue with its defaults filled in: the delivered
// "issue" and what the JQL filters see of it.
type builtIssue struct {
	payload *issuePayload
	match   jql.Issue
	fields  map[string]any
}

// issuePayload is a delivery's "issue", in the order Jira writes it.
type issuePayload struct {
	ID     string         `json:"id"`
	Self   string         `json:"self"`
	Key    string         `json:"key"`
	Fields map[string]any `json:"fields"`
}

// buildIssue fills in the defaults of is for a tenant whose site is at
// site, with actor as the default reporter.
func buildIssue(is Issue, site string, actor map[string]any, now time.Time) builtIssue {
	f := maps.Clone(is.Fields)
	if f == nil {
		f = map[string]any{}
	}
	project := shortObject(f["project"], "key")
	projectKey := jql.Text(project["key"])
	key := is.Key
	switch {
	case key == "" && projectKey != "":
		key = projectKey + "-1"
	case key == "":
		key = "SBX-1"
	}
	if projectKey == "" {
		projectKey = key
		if i := strings.LastIndexByte(key, '-'); i > 0 {
			projectKey = key[:i]
		}
	}
	id := is.ID
	if id == "" {
		id = "10000"
		if i := strings.LastIndexByte(key, '-'); i >= 0 {
			if n, err := strconv.Atoi(key[i+1:]); err == nil && n >= 0 && n < 1e9 {
				id = strconv.Itoa(10000 + n)
			}
		}
	}
	self := site + "/rest/api/2/issue/" + id

	setDefault(project, "key", projectKey)
	setDefault(project, "id", strconv.Itoa(10000+int(hash(projectKey)%1000)))
	setDefault(project, "name", projectKey)
	setDefault(project, "projectTypeKey", "software")
	setDefault(project, "simplified", false)
	setDefault(project, "self", site+"/rest/api/2/project/"+jql.Text(project["id"]))
	f["project"] = project

	itype := shortObject(orDefault(f["issuetype"], "Task"), "name")
	if name := jql.Text(itype["name"]); name != "" {
		setDefault(itype, "id", idFor(issueTypeIDs, name))
	} else {
		setDefault(itype, "name", "Task")
	}
	setDefault(itype, "subtask", strings.EqualFold(jql.Text(itype["name"]), "sub-task") || strings.EqualFold(jql.Text(itype["name"]), "subtask"))
	setDefault(itype, "self", site+"/rest/api/2/issuetype/"+jql.Text(itype["id"]))
	f["issuetype"] = itype

	status := shortObject(orDefault(f["status"], "To Do"), "name")
	category := "new"
	if name := jql.Text(status["name"]); name != "" {
		if s, ok := statuses[strings.ToLower(name)]; ok {
			setDefault(status, "id", s.id)
			category = s.category
		} else {
			setDefault(status, "id", strconv.Itoa(10100+int(hash(strings.ToLower(name))%900)))
		}
	} else {
		setDefault(status, "name", "Status "+jql.Text(status["id"]))
	}
	cat := statusCategories[category]
	setDefault(status, "statusCategory", map[string]any{
		"self": site + "/rest/api/2/statuscategory/" + strconv.Itoa(cat.id), "id": cat.id, "key": category, "name": cat.name,
	})
	setDefault(status, "self", site+"/rest/api/2/status/"+jql.Text(status["id"]))
	f["status"] = status

	if v, ok := f["assignee"]; !ok || v == nil || v == "" {
		f["assignee"] = nil
	} else {
		f["assignee"] = userObject(v, site)
	}
	if v, ok := f["reporter"]; !ok || v == nil || v == "" {
		f["reporter"] = actor
	} else {
		f["reporter"] = userObject(v, site)
	}
	setDefault(f, "summary", "Sandbox issue "+key)
	setDefault(f, "priority", map[string]any{"self": site + "/rest/api/2/priority/3", "id": "3", "name": "Medium"})
	stamp := now.Format(jiraTimeLayout)
	setDefault(f, "created", stamp)
	setDefault(f, "updated", stamp)

	m := jql.Issue{
		ID: id, Key: key,
		ProjectID: jql.Text(project["id"]), ProjectKey: jql.Text(project["key"]), ProjectName: jql.Text(project["name"]),
		IssueTypeID: jql.Text(itype["id"]), IssueTypeName: jql.Text(itype["name"]),
		StatusID: jql.Text(status["id"]), StatusName: jql.Text(status["name"]),
		Properties: is.Properties,
	}
	if a, ok := f["assignee"].(map[string]any); ok {
		m.AssigneeAccountID = jql.Text(a["accountId"])
	}
	if r, ok := f["reporter"].(map[string]any); ok {
		m.ReporterAccountID = jql.Text(r["accountId"])
	}
	for fid, v := range f {
		if n, ok := strings.CutPrefix(fid, "customfield_"); ok && n != "" {
			if s := jql.FieldValue(v); s != "" {
				if m.CustomFields == nil {
					m.CustomFields = map[string]string{}
				}
				m.CustomFields[n] = s
			}
		}
	}
	return builtIssue{
		payload: &issuePayload{ID: id, Self: self, Key: key, Fields: f},
		match:   m,
		fields:  f,
	}
}

// shortObject returns v as a JSON object: a copy of v when it is one, else
// an object with v, a string, under name ("id" for digits).
func shortObject(v any, name string) map[string]any {
	switch t := v.(type) {
	case map[string]any:
		return maps.Clone(t)
	case string:
		if t == "" {
			return map[string]any{}
		}
		if isDigits(t) {
			return map[string]any{"id": t}
		}
		return map[string]any{name: t}
	case json.Number:
		return map[string]any{"id": t.String()}
	case float64:
		return map[string]any{"id": strconv.FormatFloat(t, 'f', -1, 64)}
	}
	return map[string]any{}
}

// userObject returns a user field: an account id or a partial user object,
// completed.
func userObject(v any, site string) map[string]any {
	u := map[string]any{}
	switch t := v.(type) {
	case string:
		u["accountId"] = t
	case map[string]any:
		u = maps.Clone(t)
	}
	id := jql.Text(u["accountId"])
	short := id
	if i := strings.LastIndexByte(short, ':'); i >= 0 {
		short = short[i+1:]
	}
	if len(short) > 8 {
		short = short[:8]
	}
	setDefault(u, "displayName", "User "+short)
	setDefault(u, "self", site+"/rest/api/2/user?accountId="+id)
	setDefault(u, "accountType", "atlassian")
	setDefault(u, "active", true)
	setDefault(u, "timeZone", "Etc/UTC")
	return u
}

func orDefault(v any, def string) any {
	if v == nil || v == "" {
		return def
	}
	return v
}

func setDefault(m map[string]any, k string, v any) {
	if cur, ok := m[k]; !ok || cur == nil || cur == "" {
		m[k] = v
	}
}

func idFor(known map[string]string, name string) string {
	if id, ok := known[strings.ToLower(name)]; ok {
		return id
	}
	return strconv.Itoa(10100 + int(hash(strings.ToLower(name))%900))
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
