package jql

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

// ok marks a valid filter in subsetTests with its canonical form.
func ok(canonical string) []string { return []string{"ok: " + canonical} }

// errs lists the errors of an invalid filter in subsetTests, in order; each
// is a prefix of the error's text ("line:column: message").
func errs(prefixes ...string) []string { return prefixes }

// subsetTests is the verdict on filters, following the webhook subset.
var subsetTests = []struct {
	src  string
	want []string
}{
	// project: key, id, name; quoting; case.
	{`project = PRJ`, ok(`project = PRJ`)},
	{`project = "PRJ"`, ok(`project = PRJ`)},
	{`project = 'PRJ'`, ok(`project = PRJ`)},
	{`PROJECT = PRJ`, ok(`project = PRJ`)},
	{`Project = prj`, ok(`project = prj`)},
	{`pRoJeCt = PRJ`, ok(`project = PRJ`)},
	{`project = 10000`, ok(`project = 10000`)},
	{`project = "My Project"`, ok(`project = "My Project"`)},
	{`project != PRJ`, ok(`project != PRJ`)},
	{`project in (PRJ)`, ok(`project IN (PRJ)`)},
	{`project IN (PRJ, OPS, "Dev Ops")`, ok(`project IN (PRJ, OPS, "Dev Ops")`)},
	{`project in(PRJ,OPS)`, ok(`project IN (PRJ, OPS)`)},
	{`project not in (PRJ, OPS)`, ok(`project NOT IN (PRJ, OPS)`)},
	{`project NoT In (PRJ)`, ok(`project NOT IN (PRJ)`)},
	{`project=PRJ`, ok(`project = PRJ`)},
	{"project\t=\tPRJ", ok(`project = PRJ`)},
	{`"project" = PRJ`, ok(`project = PRJ`)},

	// issueKey and its aliases.
	{`issueKey = PRJ-1`, ok(`issueKey = PRJ-1`)},
	{`issuekey = prj-1`, ok(`issueKey = prj-1`)},
	{`ISSUEKEY = PRJ-1`, ok(`issueKey = PRJ-1`)},
	{`issueKey = 10001`, ok(`issueKey = 10001`)},
	{`issueKey in (PRJ-1, PRJ-2, OPS-30)`, ok(`issueKey IN (PRJ-1, PRJ-2, OPS-30)`)},
	{`issueKey != PRJ-1`, ok(`issueKey != PRJ-1`)},
	{`issueKey not in ("PRJ-1")`, ok(`issueKey NOT IN (PRJ-1)`)},
	{`key = PRJ-1`, ok(`issueKey = PRJ-1`)},
	{`KEY = PRJ-1`, ok(`issueKey = PRJ-1`)},
	{`Key in (PRJ-1, 10002)`, ok(`issueKey IN (PRJ-1, 10002)`)},
	{`issue = PRJ-1`, ok(`issueKey = PRJ-1`)},
	{`Issue in (PRJ-1, PRJ-2)`, ok(`issueKey IN (PRJ-1, PRJ-2)`)},
	{`key not in (PRJ_2-1)`, ok(`issueKey NOT IN (PRJ_2-1)`)},
	{`key = A1-9`, ok(`issueKey = A1-9`)},

	// issuetype and its alias.
	{`issuetype = Bug`, ok(`issuetype = Bug`)},
	{`issueType = "Sub-task"`, ok(`issuetype = Sub-task`)},
	{`ISSUETYPE = 10001`, ok(`issuetype = 10001`)},
	{`issuetype != Epic`, ok(`issuetype != Epic`)},
	{`issuetype in (Bug, Story, "New Feature")`, ok(`issuetype IN (Bug, Story, "New Feature")`)},
	{`type = Bug`, ok(`issuetype = Bug`)},
	{`TYPE in (Bug, Story)`, ok(`issuetype IN (Bug, Story)`)},
	{`Type not in (Epic)`, ok(`issuetype NOT IN (Epic)`)},

	// status.
	{`status = Done`, ok(`status = Done`)},
	{`status = "In Progress"`, ok(`status = "In Progress"`)},
	{`status = 'In Progress'`, ok(`status = "In Progress"`)},
	{`Status in ("To Do", "In Progress", Done)`, ok(`status IN ("To Do", "In Progress", Done)`)},
	{`status != 10000`, ok(`status != 10000`)},
	{`STATUS not in (Done, Closed)`, ok(`status NOT IN (Done, Closed)`)},

	// assignee and reporter take account ids.
	{`assignee = 5b10ac8d82e05b22cc7d4ef5`, ok(`assignee = 5b10ac8d82e05b22cc7d4ef5`)},
	{`assignee = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"`, ok(`assignee = 557058:f58131cb-b67d-43c7-b30d-6b58d40bd077`)},
	{`assignee in (5b10ac8d82e05b22cc7d4ef5, 5b109f2e9729b51b54dc274d)`, ok(`assignee IN (5b10ac8d82e05b22cc7d4ef5, 5b109f2e9729b51b54dc274d)`)},
	{`assignee != 5b10ac8d82e05b22cc7d4ef5`, ok(`assignee != 5b10ac8d82e05b22cc7d4ef5`)},
	{`ASSIGNEE not in (abc)`, ok(`assignee NOT IN (abc)`)},
	{`reporter = 5b10ac8d82e05b22cc7d4ef5`, ok(`reporter = 5b10ac8d82e05b22cc7d4ef5`)},
	{`Reporter IN (a1, b2)`, ok(`reporter IN (a1, b2)`)},
	{`reporter != x`, ok(`reporter != x`)},
	{`reporter not in ('5b10')`, ok(`reporter NOT IN (5b10)`)},

	// cf[id].
	{`cf[10014] = PRJ-1`, ok(`cf[10014] = PRJ-1`)},
	{`CF[10014] = PRJ-1`, ok(`cf[10014] = PRJ-1`)},
	{`cf[10014] in (PRJ-1, PRJ-2)`, ok(`cf[10014] IN (PRJ-1, PRJ-2)`)},
	{`cf[10014] != "PRJ-1"`, ok(`cf[10014] != PRJ-1`)},
	{`cf["10014"] = PRJ-1`, ok(`cf[10014] = PRJ-1`)},
	{`cf[1] not in (x)`, ok(`cf[1] NOT IN (x)`)},

	// issue.property[key] with and without a path.
	{`issue.property[support] = x`, ok(`issue.property[support] = x`)},
	{`issue.property[support].team = "Dev Ops"`, ok(`issue.property[support].team = "Dev Ops"`)},
	{`issue.property[support].team.name.first = x`, ok(`issue.property[support].team.name.first = x`)},
	{`ISSUE.PROPERTY[support].level = 1`, ok(`issue.property[support].level = 1`)},
	{`Issue.Property[Support].Level = 1`, ok(`issue.property[Support].Level = 1`)},
	{`issue.property["my key"].a = b`, ok(`issue.property["my key"].a = b`)},
	{`issue.property['k'].a = b`, ok(`issue.property[k].a = b`)},
	{`issue.property[com.example:prop].enabled = true`, ok(`issue.property[com.example:prop].enabled = true`)},
	{`issue.property[support].tags in (a, b)`, ok(`issue.property[support].tags IN (a, b)`)},
	{`issue.property[support].tags not in (a)`, ok(`issue.property[support].tags NOT IN (a)`)},
	{`issue.property[support].count != 3`, ok(`issue.property[support].count != 3`)},

	// AND, OR, parentheses.
	{`project = PRJ AND status = Done`, ok(`project = PRJ AND status = Done`)},
	{`project = PRJ and status = Done`, ok(`project = PRJ AND status = Done`)},
	{`project = PRJ And status = Done`, ok(`project = PRJ AND status = Done`)},
	{`project = PRJ OR project = OPS`, ok(`project = PRJ OR project = OPS`)},
	{`project = PRJ or project = OPS`, ok(`project = PRJ OR project = OPS`)},
	{`project = PRJ && status = Done`, ok(`project = PRJ AND status = Done`)},
	{`project = PRJ || project = OPS`, ok(`project = PRJ OR project = OPS`)},
	{`project = PRJ & status = Done | project = OPS`, ok(`project = PRJ AND status = Done OR project = OPS`)},
	{`(project = PRJ)`, ok(`(project = PRJ)`)},
	{`((project = PRJ))`, ok(`((project = PRJ))`)},
	{`(project = PRJ OR project = OPS) AND status = Done`, ok(`(project = PRJ OR project = OPS) AND status = Done`)},
	{`project = PRJ AND (status = Done OR status = Closed)`, ok(`project = PRJ AND (status = Done OR status = Closed)`)},
	{`((project = PRJ OR key = OPS-1) AND (status = Done OR (issuetype = Bug AND assignee = x)))`,
		ok(`((project = PRJ OR issueKey = OPS-1) AND (status = Done OR (issuetype = Bug AND assignee = x)))`)},
	{`project = PRJ AND status = Done OR issuetype = Bug`, ok(`project = PRJ AND status = Done OR issuetype = Bug`)},
	{`project in (PRJ, OPS) AND issuetype = Bug AND status != Done AND assignee in (5b10ac8d82e05b22cc7d4ef5)`,
		ok(`project IN (PRJ, OPS) AND issuetype = Bug AND status != Done AND assignee IN (5b10ac8d82e05b22cc7d4ef5)`)},
	{"project = PRJ\nAND status = Done", ok(`project = PRJ AND status = Done`)},
	{"  project = PRJ  ", ok(`project = PRJ`)},
	{`project = PRJ AND assignee = 5b10 AND reporter = 5b11 AND cf[10014] = PRJ-9 AND issue.property[p].x = 1`,
		ok(`project = PRJ AND assignee = 5b10 AND reporter = 5b11 AND cf[10014] = PRJ-9 AND issue.property[p].x = 1`)},
	{`key = PRJ-1 OR issue = PRJ-2 OR type = Bug`, ok(`issueKey = PRJ-1 OR issueKey = PRJ-2 OR issuetype = Bug`)},
	{`project = "PRJ"OR project = OPS`, ok(`project = PRJ OR project = OPS`)},

	// Quoting and escapes in values.
	{`status = "Won't Do"`, ok(`status = "Won't Do"`)},
	{`status = 'Won\'t Do'`, ok(`status = "Won't Do"`)},
	{`status = "say \"hi\""`, ok(`status = "say \"hi\""`)},
	{`status = 'say "hi"'`, ok(`status = "say \"hi\""`)},
	{`status = "back\\slash"`, ok(`status = "back\\slash"`)},
	{`status = "tab\there"`, ok(`status = "tab\there"`)},
	{`status = "line\nbreak"`, ok(`status = "line\nbreak"`)},
	{`status = "caf\u00e9"`, ok(`status = café`)},
	{`status = Café`, ok(`status = Café`)},
	{`status = In\ Progress`, ok(`status = "In Progress"`)},
	{`status = "AND"`, ok(`status = "AND"`)},
	{`status = "empty"`, ok(`status = "empty"`)},
	{`status = "Done"`, ok(`status = Done`)},
	{`status = "🚀 Launch"`, ok(`status = "🚀 Launch"`)},
	{`status in ("a,b", "x (y)", "a=b", "50%")`, ok(`status IN ("a,b", "x (y)", "a=b", "50%")`)},
	{`reporter = "a@example.com"`, ok(`reporter = "a@example.com"`)},

	// Other fields.
	{`priority = High`, errs(`1:1: unsupported field "priority": webhook filters can use issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id]`)},
	{`Priority in (High, Low)`, errs(`1:1: unsupported field "Priority"`)},
	{`labels = x`, errs(`1:1: unsupported field "labels"`)},
	{`labels not in (a)`, errs(`1:1: unsupported field "labels"`)},
	{`summary = x`, errs(`1:1: unsupported field "summary"`)},
	{`created = 2020-01-01`, errs(`1:1: unsupported field "created"`)},
	{`text = x`, errs(`1:1: unsupported field "text"`)},
	{`watchCount = 1`, errs(`1:1: unsupported field "watchCount"`)},
	{`resolution = Done`, errs(`1:1: unsupported field "resolution"`)},
	{`component = x`, errs(`1:1: unsupported field "component"`)},
	{`fixVersion = 1.0`, errs(`1:1: unsupported field "fixVersion"`)},
	{`sprint = 1`, errs(`1:1: unsupported field "sprint"`)},
	{`parent = PRJ-1`, errs(`1:1: unsupported field "parent"`)},
	{`"Epic Link" = PRJ-1`, errs(`1:1: unsupported field "Epic Link": write the Epic Link field as cf[ID] with its numeric id, as in cf[10014]`)},
	{`customfield_10014 = PRJ-1`, errs(`1:1: unsupported field "customfield_10014": write custom fields as cf[10014]`)},
	{`cf = 1`, errs(`1:1: cf needs a custom field id in brackets, as in cf[10014]`)},
	{`issue.property = x`, errs(`1:1: issue.property needs a property key in brackets, as in issue.property[my-key].path`)},
	{`foo[1] = x`, errs(`1:1: unsupported field "foo[1]"`)},
	{`project = PRJ AND priority = High`, errs(`1:19: unsupported field "priority"`)},
	// Near misses of a supported field get a suggestion.
	{`projet = PRJ`, errs(`1:1: unsupported field "projet": did you mean "project"? webhook filters can use issueKey, project`)},
	{`Stauts = Done`, errs(`1:1: unsupported field "Stauts": did you mean "status"?`)},
	{`assigne = x`, errs(`1:1: unsupported field "assigne": did you mean "assignee"?`)},
	{`issue_type = Bug`, errs(`1:1: unsupported field "issue_type": did you mean "issuetype"?`)},
	{`"issue type" = Bug`, errs(`1:1: unsupported field "issue type": did you mean "issuetype"?`)},
	{`issuekeys in (PRJ-1)`, errs(`1:1: unsupported field "issuekeys": did you mean "issueKey"?`)},
	{`reporters = x`, errs(`1:1: unsupported field "reporters": did you mean "reporter"?`)},
	{`types = Bug`, errs(`1:1: unsupported field "types": did you mean "type"?`)},
	{`issue.properties[support].team = x`, errs(`1:1: unsupported field "issue.properties[support].team": did you mean "issue.property[support].team"?`)},
	{`customfield[10014] = PRJ-1`, errs(`1:1: unsupported field "customfield[10014]": did you mean "cf[10014]"?`)},
	{`issue.property.support = x`, errs(`1:1: issue.property needs a property key in brackets`)},
	{`text = x`, errs(`1:1: unsupported field "text": webhook filters can use`)}, // "type" is too far from a 4-letter word

	// Other operators.
	{`project ~ PRJ`, errs(`1:9: unsupported operator "~": webhook filters can use =, !=, IN and NOT IN`)},
	{`project !~ PRJ`, errs(`1:9: unsupported operator "!~"`)},
	{`status > 1`, errs(`1:8: unsupported operator ">"`)},
	{`status < 1`, errs(`1:8: unsupported operator "<"`)},
	{`status >= 1`, errs(`1:8: unsupported operator ">="`)},
	{`status <= 1`, errs(`1:8: unsupported operator "<="`)},
	{`summary ~ foo`, errs(`1:1: unsupported field "summary"`, `1:9: unsupported operator "~"`)},
	{`assignee IS EMPTY`, errs(`1:10: unsupported operator "IS"`, `1:13: EMPTY is not supported in webhook filters: they cannot test for a missing value; compare with values, using =, !=, IN or NOT IN`)},
	{`assignee is not empty`, errs(`1:10: unsupported operator "IS NOT"`, `1:17: EMPTY is not supported`)},
	{`assignee IS NULL`, errs(`1:10: unsupported operator "IS"`, `1:13: NULL is not supported`)},
	{`status WAS Done`, errs(`1:8: unsupported operator "WAS"`)},
	{`status was not Done`, errs(`1:8: unsupported operator "WAS NOT"`)},
	{`status WAS IN (Done)`, errs(`1:8: unsupported operator "WAS IN"`)},
	{`status was not in (Done, Closed) BY x`, errs(`1:8: unsupported operator "WAS NOT IN"`)},
	{`status CHANGED`, errs(`1:8: unsupported operator "CHANGED"`)},
	{`status changed FROM Open TO Done AFTER -1d`, errs(`1:8: unsupported operator "CHANGED"`)},

	// Functions.
	{`assignee = currentUser()`, errs(`1:12: unsupported function "currentUser()": webhook filters compare with literal values, such as a key or an account id`)},
	{`reporter != currentUser()`, errs(`1:13: unsupported function "currentUser()"`)},
	{`assignee in (x, currentUser())`, errs(`1:17: unsupported function "currentUser()"`)},
	{`assignee in membersOf("jira-users")`, errs(`1:13: unsupported function "membersOf()"`)},
	{`project in projectsWhereUserHasRole("Developers")`, errs(`1:12: unsupported function "projectsWhereUserHasRole()"`)},
	{`issueKey in issueHistory()`, errs(`1:13: unsupported function "issueHistory()"`)},
	{`status changed by currentUser()`, errs(`1:8: unsupported operator "CHANGED"`)},

	// EMPTY and NULL.
	{`assignee = EMPTY`, errs(`1:12: EMPTY is not supported`)},
	{`assignee = null`, errs(`1:12: NULL is not supported`)},
	{`assignee != NULL`, errs(`1:13: NULL is not supported`)},
	{`assignee in (EMPTY, x)`, errs(`1:14: EMPTY is not supported`)},
	{`cf[10014] = empty`, errs(`1:13: EMPTY is not supported`)},

	// NOT before a clause.
	{`NOT project = PRJ`, errs(`1:1: unsupported NOT: webhook filters cannot negate a clause; use != or NOT IN instead`)},
	{`not (project = PRJ OR status = Done)`, errs(`1:1: unsupported NOT`)},
	{`!project = PRJ`, errs(`1:1: unsupported "!" (NOT): webhook filters cannot negate a clause`)},
	{`project = PRJ AND NOT status = Done`, errs(`1:19: unsupported NOT`)},
	{`NOT NOT project = PRJ`, errs(`1:1: unsupported NOT`, `1:5: unsupported NOT`)},

	// ORDER BY.
	{`project = PRJ ORDER BY key`, errs(`1:15: ORDER BY is not supported in webhook filters: remove it`)},
	{`project = PRJ order by created DESC`, errs(`1:15: ORDER BY is not supported`)},
	{`project = PRJ ORDER BY key ASC, created DESC`, errs(`1:15: ORDER BY is not supported`)},
	{`ORDER BY key`, errs(`1:1: empty filter`, `1:1: ORDER BY is not supported`)},

	// Empty input.
	{``, errs(`1:1: empty filter: a webhook needs a JQL filter, such as project = PRJ`)},
	{`   `, errs(`1:1: empty filter`)},
	{"\n\t", errs(`1:1: empty filter`)},

	// Values the subset cannot use.
	{`cf[abc] = 1`, errs(`1:4: custom field id must be a number, as in cf[10014]; found "abc"`)},
	{`cf[1x] = 2`, errs(`1:4: custom field id must be a number`)},
	{`cf[10014].path = 1`, errs(`1:10: a custom field takes no path: remove ".path"`)},
	{`project = (PRJ, OPS)`, errs(`1:11: "=" takes a single value: use IN for a list`)},
	{`project != (PRJ)`, errs(`1:12: "!=" takes a single value: use NOT IN for a list`)},
	{`status = ""`, errs(`1:10: empty value: compare with a value, such as PRJ`)},
	{`project in (PRJ, '')`, errs(`1:18: empty value`)},
	{`key = PRJ`, errs(`1:7: invalid issue key "PRJ": expected a key such as PRJ-123, or a numeric issue id`)},
	{`issueKey = "PRJ 1"`, errs(`1:12: invalid issue key "PRJ 1"`)},
	{`issueKey in (PRJ-1, nope, 1-1)`, errs(`1:21: invalid issue key "nope"`, `1:27: invalid issue key "1-1"`)},
	{`issue = PRJ-`, errs(`1:9: invalid issue key "PRJ-"`)},

	// Every violation is reported, in order.
	{`priority = High AND labels ~ x OR assignee = currentUser() ORDER BY key`,
		errs(`1:1: unsupported field "priority"`, `1:21: unsupported field "labels"`, `1:28: unsupported operator "~"`,
			`1:46: unsupported function "currentUser()"`, `1:60: ORDER BY is not supported`)},
	{"project = PRJ\nAND priority = High\nAND status IS EMPTY",
		errs(`2:5: unsupported field "priority"`, `3:12: unsupported operator "IS"`, `3:15: EMPTY is not supported`)},
	{`NOT (summary ~ x OR cf[x] = y)`,
		errs(`1:1: unsupported NOT`, `1:6: unsupported field "summary"`, `1:14: unsupported operator "~"`, `1:24: custom field id must be a number`)},

	// Syntax errors: only the first is reported.
	{`(project = PRJ`, errs(`1:1: "(" is never closed: expected ")"`)},
	{`((project = PRJ)`, errs(`1:1: "(" is never closed`)},
	{`project = PRJ)`, errs(`1:14: unexpected ")": there is no "(" to close`)},
	{`(project = PRJ))`, errs(`1:16: unexpected ")"`)},
	{`project in (PRJ, OPS`, errs(`1:12: "(" is never closed`)},
	{`project = "PRJ`, errs(`1:11: unterminated string: no closing "`)},
	{`project = 'PRJ`, errs(`1:11: unterminated string: no closing '`)},
	{`"project = PRJ`, errs(`1:1: unterminated string`)},
	{`project = PRJ AND`, errs(`1:15: trailing AND: expected a clause after it`)},
	{`project = PRJ OR`, errs(`1:15: trailing OR`)},
	{`project = PRJ AND priority = High AND`, errs(`1:35: trailing AND`)},
	{`AND project = PRJ`, errs(`1:1: expected a clause such as project = PRJ, found AND`)},
	{`project =`, errs(`1:9: missing value after "="`)},
	{`project = AND status = Done`, errs(`1:11: expected a value after "=", found AND`)},
	{`project !=`, errs(`1:9: missing value after "!="`)},
	{`project`, errs(`1:8: expected an operator after "project"`)},
	{`project PRJ`, errs(`1:9: expected an operator after "project" (=, !=, IN or NOT IN), found "PRJ"`)},
	{`project == PRJ`, errs(`1:10: expected a value after "=", found "="`)},
	{`= PRJ`, errs(`1:1: expected a clause such as project = PRJ, found "="`)},
	{`project in PRJ`, errs(`1:12: IN needs a list in parentheses, such as (PRJ, OPS); found "PRJ"`)},
	{`project not in PRJ`, errs(`1:16: NOT IN needs a list in parentheses`)},
	{`project in`, errs(`1:9: IN needs a list in parentheses`)},
	{`project in ()`, errs(`1:13: empty list: IN needs at least one value`)},
	{`project not in ( )`, errs(`1:18: empty list: NOT IN needs at least one value`)},
	{`project in (PRJ,, OPS)`, errs(`1:17: unexpected ",": expected a value`)},
	{`project in (, PRJ)`, errs(`1:13: unexpected ","`)},
	{`project in (PRJ,)`, errs(`1:16: trailing ","`)},
	{`project in (PRJ OPS)`, errs(`1:17: expected "," or ")" in the list, found "OPS"`)},
	{`project = PRJ, status = Done`, errs(`1:14: unexpected ","`)},
	{`project = PRJ status = Done`, errs(`1:15: expected AND or OR before "status"`)},
	// Bare words with spaces between them: a value that needs quotes.
	{`status = Open Issue`, errs(`1:15: expected AND or OR before "Issue"; if "Open Issue" is one value, put it in quotes`)},
	{`status = In Progress`, errs(`1:10: expected a value after "=", found IN; if "In Progress" is one value, put it in quotes`)},
	{`status = Not  Started AND project = PRJ`, errs(`1:10: expected a value after "=", found NOT; if "Not Started" is one value, put it in quotes`)},
	{`status in (To Do, Done)`, errs(`1:15: expected "," or ")" in the list, found "Do"; if "To Do" is one value, put it in quotes`)},
	{`status in (Done, In Review)`, errs(`1:18: expected a value in the list, found IN; if "In Review" is one value, put it in quotes`)},
	{`(status = Code Review Done)`, errs(`1:16: expected AND, OR or ")" before "Review"; if "Code Review Done" is one value, put it in quotes`)},
	{"status = Open\nIssue", errs(`2:1: expected AND or OR before "Issue"`)},
	{`assignee = EMPTY foo`, errs(`1:18: expected AND or OR before "foo"`)},
	{`status = "bad\q"`, errs(`1:14: invalid escape "\q"`)},
	{`reporter = a@example.com`, errs(`1:13: reserved character "@"`)},
	{`cf[] = 1`, errs(`1:3: empty brackets`)},
	{`cf[10014 = 1`, errs(`1:9: expected "]"`)},
	{`project = PRJ ORDER BY`, errs(`1:21: expected a field to sort by after ORDER BY`)},
	{`assignee = currentUser(`, errs(`1:23: "(" is never closed`)},
	// A syntax error hides the subset violations before it.
	{`priority = High AND (`, errs(`1:21: "(" is never closed`)},
}

func TestSubsetTableSize(t *testing.T) {
	if len(subsetTests) < 150 {
		t.Errorf("subsetTests has %d filters; the issue asks for at least 150", len(subsetTests))
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range subsetTests {
		q, list := Validate(tt.src)
		if canon, valid := strings.CutPrefix(tt.want[0], "ok: "); valid {
			if list != nil {
				t.Errorf("Validate(%q): unexpected errors:\n%s", tt.src, render(list, tt.src))
				continue
			}
			if got := q.Canonical(); got != canon {
				t.Errorf("Validate(%q).Canonical()\n got  %s\n want %s", tt.src, got, canon)
			}
			// The canonical form is itself valid and canonical.
			if q2, list := Validate(q.Canonical()); list != nil || q2.Canonical() != canon {
				t.Errorf("Validate(%q): canonical form %q does not validate to itself: %v", tt.src, canon, list)
			}
			continue
		}
		if q != nil {
			t.Errorf("Validate(%q) = valid %q, want errors %q", tt.src, q.Canonical(), tt.want)
			continue
		}
		var got []string
		for _, e := range list {
			got = append(got, e.Error())
		}
		if len(got) != len(tt.want) {
			t.Errorf("Validate(%q): %d errors, want %d:\n got  %q\n want %q", tt.src, len(got), len(tt.want), got, tt.want)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], tt.want[i]) {
				t.Errorf("Validate(%q) error %d\n got  %s\n want %s...", tt.src, i, got[i], tt.want[i])
			}
		}
	}
}

func TestAliases(t *testing.T) {
	tests := []struct {
		src  string
		want map[string]string
	}{
		{`project = PRJ`, map[string]string{}},
		{`issueKey = PRJ-1 AND issuetype = Bug`, map[string]string{}},
		{`key = PRJ-1`, map[string]string{"key": "issueKey"}},
		{`KEY = PRJ-1 OR Key = PRJ-2`, map[string]string{"key": "issueKey"}},
		{`issue = PRJ-1 AND type = Bug`, map[string]string{"issue": "issueKey", "type": "issuetype"}},
		{`key = PRJ-1 OR issue = PRJ-2 OR TYPE in (Bug)`, map[string]string{"key": "issueKey", "issue": "issueKey", "type": "issuetype"}},
	}
	for _, tt := range tests {
		q, list := Validate(tt.src)
		if list != nil {
			t.Fatalf("Validate(%q): %v", tt.src, list)
		}
		got := q.Aliases()
		if got == nil || !maps.Equal(got, tt.want) {
			t.Errorf("Validate(%q).Aliases() = %v, want %v", tt.src, got, tt.want)
		}
		got["x"] = "y"
		if _, leaked := q.Aliases()["x"]; leaked {
			t.Errorf("Aliases() returned the query's own map")
		}
	}
}

func TestQueryAccessors(t *testing.T) {
	src := ` key = prj-1 `
	q, list := Validate(src)
	if list != nil {
		t.Fatal(list)
	}
	if q.expr.String() != "key = prj-1" {
		t.Errorf("the tree prints %q, want it as written (alias kept)", q.expr.String())
	}
	if q.String() != "issueKey = prj-1" || q.Canonical() != q.String() {
		t.Errorf("String() = %q, Canonical() = %q", q.String(), q.Canonical())
	}
}

func TestValidateReportsEveryViolation(t *testing.T) {
	_, list := Validate("priority = 1 OR x ~ y")
	want := "1:1: unsupported field \"priority\": " + allowedFields + "\n" +
		"1:17: unsupported field \"x\": " + allowedFields + "\n" +
		"1:19: unsupported operator \"~\": " + allowedOperators + "\n"
	var got strings.Builder
	for _, e := range list {
		got.WriteString(e.Error() + "\n")
	}
	if got.String() != want {
		t.Errorf("errors\n got  %s\n want %s", got.String(), want)
	}
}

func TestErrorColumnsCountRunes(t *testing.T) {
	src := "status = \"déjà vu\" AND prïority = 1"
	_, list := Validate(src)
	if len(list) != 1 {
		t.Fatalf("got %v", list)
	}
	e := list[0]
	if e.Line != 1 || e.Column != 24 || e.Offset != 25 || e.End != 34 {
		t.Errorf("got line %d column %d offset %d end %d; want 1, 24, 25, 34", e.Line, e.Column, e.Offset, e.End)
	}
	if got := fmt.Sprint(e); !strings.HasPrefix(got, "1:24: unsupported field \"prïority\"") {
		t.Errorf("got %s", got)
	}
}

func TestSnippetWidths(t *testing.T) {
	for _, tt := range []struct {
		r rune
		w int
	}{
		{'a', 1}, {'é', 1}, {'\t', 1}, {'\u0301', 0}, {'\u200b', 0}, {'進', 2}, {'한', 2}, {'Ａ', 2}, {'🚀', 2}, {'→', 1},
	} {
		if got := runeWidth(tt.r); got != tt.w {
			t.Errorf("runeWidth(%q) = %d, want %d", tt.r, got, tt.w)
		}
	}
	// The caret sits under the token on a terminal, whatever comes before.
	src := "status = \"進行中\" AND x ~ y"
	_, list := Validate(src)
	if len(list) != 2 {
		t.Fatalf("got %v", list)
	}
	want := "  status = \"進行中\" AND x ~ y\n" +
		"  " + strings.Repeat(" ", len(`status = "`)+6+len(`" AND x `)) + "^\n"
	if got := list[1].Snippet(src); got != want {
		t.Errorf("Snippet\n got:\n%s want:\n%s", got, want)
	}
}

func TestIsIssueKey(t *testing.T) {
	for s, want := range map[string]bool{
		"PRJ-1": true, "prj-12": true, "A_2B-300": true, "P-10": true,
		"PRJ-0": false, "PRJ-00": false, "PRJ-": false, "-1": false, "1PRJ-1": false, "_A-1": false,
		"bad key": false, "PRJ 1": false, "PRJ-1a": false, "PRJ-+1": false, "PRJ--1": false, "10001": false, "": false,
	} {
		if got := IsIssueKey(s); got != want {
			t.Errorf("IsIssueKey(%q) = %v, want %v", s, got, want)
		}
	}
}
