package jql

import (
	"fmt"
	"strings"
	"testing"
)

// dump writes a tree as an S-expression without positions, so that two
// trees are equal exactly when their dumps are.
func dump(n any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(n any) {
		switch n := n.(type) {
		case nil:
			b.WriteString("nil")
		case *BinaryExpr:
			fmt.Fprintf(&b, "(%s ", n.Op)
			walk(n.X)
			b.WriteByte(' ')
			walk(n.Y)
			b.WriteByte(')')
		case *NotExpr:
			b.WriteString("(NOT ")
			walk(n.X)
			b.WriteByte(')')
		case *ParenExpr:
			b.WriteString("(paren ")
			walk(n.X)
			b.WriteByte(')')
		case *Clause:
			b.WriteString("(clause ")
			walk(n.Field)
			fmt.Fprintf(&b, " %s ", n.Op)
			if n.Value == nil {
				b.WriteString("nil")
			} else {
				walk(n.Value)
			}
			for _, p := range n.Predicates {
				fmt.Fprintf(&b, " (%s ", p.Name)
				walk(p.Value)
				b.WriteByte(')')
			}
			b.WriteByte(')')
		case *OrderBy:
			b.WriteString("(order ")
			if n.X == nil {
				b.WriteString("nil")
			} else {
				walk(n.X)
			}
			for _, k := range n.Keys {
				b.WriteString(" (key ")
				walk(k.Field)
				fmt.Fprintf(&b, " %q)", k.Dir)
			}
			b.WriteByte(')')
		case *Field:
			fmt.Fprintf(&b, "(field %q", n.Name)
			if n.Arg != "" {
				fmt.Fprintf(&b, " [%q]", n.Arg)
			}
			for _, s := range n.Path {
				fmt.Fprintf(&b, " .%q", s)
			}
			b.WriteByte(')')
		case *Value:
			fmt.Fprintf(&b, "%q", n.Text)
		case *List:
			b.WriteString("(list")
			for _, it := range n.Items {
				b.WriteByte(' ')
				walk(it)
			}
			b.WriteByte(')')
		case *Func:
			fmt.Fprintf(&b, "(func %q", n.Name)
			for _, a := range n.Args {
				b.WriteByte(' ')
				walk(a)
			}
			b.WriteByte(')')
		case *Empty:
			if n.Null {
				b.WriteString("NULL")
			} else {
				b.WriteString("EMPTY")
			}
		default:
			panic(fmt.Sprintf("dump: unexpected node %T", n))
		}
	}
	walk(n)
	return b.String()
}

var parseTests = []struct {
	src       string
	tree      string
	canonical string
}{
	{"project = PRJ", `(clause (field "project") = "PRJ")`, "project = PRJ"},
	{"a = 1 OR b = 2 AND c = 3",
		`(OR (clause (field "a") = "1") (AND (clause (field "b") = "2") (clause (field "c") = "3")))`,
		"a = 1 OR b = 2 AND c = 3"},
	{"a = 1 AND b = 2 OR c = 3",
		`(OR (AND (clause (field "a") = "1") (clause (field "b") = "2")) (clause (field "c") = "3"))`,
		"a = 1 AND b = 2 OR c = 3"},
	{"a = 1 and b = 2 and c = 3",
		`(AND (AND (clause (field "a") = "1") (clause (field "b") = "2")) (clause (field "c") = "3"))`,
		"a = 1 AND b = 2 AND c = 3"},
	{"(a = 1 OR b = 2) AND c = 3",
		`(AND (paren (OR (clause (field "a") = "1") (clause (field "b") = "2"))) (clause (field "c") = "3"))`,
		"(a = 1 OR b = 2) AND c = 3"},
	{"a = 1 AND (b = 2 AND c = 3)",
		`(AND (clause (field "a") = "1") (paren (AND (clause (field "b") = "2") (clause (field "c") = "3"))))`,
		"a = 1 AND (b = 2 AND c = 3)"},
	{"((a=1))", `(paren (paren (clause (field "a") = "1")))`, "((a = 1))"},
	{"a = 1 && b = 2 || c = 3",
		`(OR (AND (clause (field "a") = "1") (clause (field "b") = "2")) (clause (field "c") = "3"))`,
		"a = 1 AND b = 2 OR c = 3"},
	{"NOT a = 1", `(NOT (clause (field "a") = "1"))`, "NOT a = 1"},
	{"!a = 1 AND not (b = 2)", `(AND (NOT (clause (field "a") = "1")) (NOT (paren (clause (field "b") = "2"))))`,
		"NOT a = 1 AND NOT (b = 2)"},
	{"not not a = 1", `(NOT (NOT (clause (field "a") = "1")))`, "NOT NOT a = 1"},
	{"PROJECT in (A,b, 'c d')", `(clause (field "project") IN (list "A" "b" "c d"))`, `project IN (A, b, "c d")`},
	{"project NOT IN (A)", `(clause (field "project") NOT IN (list "A"))`, "project NOT IN (A)"},
	{"x ~ y", `(clause (field "x") ~ "y")`, "x ~ y"},
	{"x !~ 'y z'", `(clause (field "x") !~ "y z")`, `x !~ "y z"`},
	{"x<1 AND x>2 AND x<=3 AND x>=4",
		`(AND (AND (AND (clause (field "x") < "1") (clause (field "x") > "2")) (clause (field "x") <= "3")) (clause (field "x") >= "4"))`,
		"x < 1 AND x > 2 AND x <= 3 AND x >= 4"},
	{"x is empty", `(clause (field "x") IS EMPTY)`, "x IS EMPTY"},
	{"x IS NOT null", `(clause (field "x") IS NOT NULL)`, "x IS NOT NULL"},
	{"x = EMPTY", `(clause (field "x") = EMPTY)`, "x = EMPTY"},
	{"x in (EMPTY, a)", `(clause (field "x") IN (list EMPTY "a"))`, "x IN (EMPTY, a)"},
	{"assignee = currentUser()", `(clause (field "assignee") = (func "currentUser"))`, "assignee = currentUser()"},
	{`x in membersOf("jira users", b)`, `(clause (field "x") IN (func "membersOf" "jira users" "b"))`, `x IN membersOf("jira users", b)`},
	{"x in (a, currentUser())", `(clause (field "x") IN (list "a" (func "currentUser")))`, "x IN (a, currentUser())"},
	{"status WAS Done", `(clause (field "status") WAS "Done")`, "status WAS Done"},
	{"status was not in (A, B) by x before '2020/01/01'",
		`(clause (field "status") WAS NOT IN (list "A" "B") (BY "x") (BEFORE "2020/01/01"))`,
		`status WAS NOT IN (A, B) BY x BEFORE "2020/01/01"`},
	{"status was in (A)", `(clause (field "status") WAS IN (list "A"))`, "status WAS IN (A)"},
	{"status was not A", `(clause (field "status") WAS NOT "A")`, "status WAS NOT A"},
	{"status changed", `(clause (field "status") CHANGED nil)`, "status CHANGED"},
	{"status changed from A to B during (x, y) AND a = 1",
		`(AND (clause (field "status") CHANGED nil (FROM "A") (TO "B") (DURING (list "x" "y"))) (clause (field "a") = "1"))`,
		"status CHANGED FROM A TO B DURING (x, y) AND a = 1"},
	{"status changed by currentUser() after -1d on 2020-01-01",
		`(clause (field "status") CHANGED nil (BY (func "currentUser")) (AFTER "-1d") (ON "2020-01-01"))`,
		"status CHANGED BY currentUser() AFTER -1d ON 2020-01-01"},
	{"a = 1 ORDER BY key", `(order (clause (field "a") = "1") (key (field "key") ""))`, "a = 1 ORDER BY key"},
	{"a = 1 order by created desc, Key asc",
		`(order (clause (field "a") = "1") (key (field "created") "DESC") (key (field "key") "ASC"))`,
		"a = 1 ORDER BY created DESC, key ASC"},
	{"ORDER BY cf[1]", `(order nil (key (field "cf" ["1"]) ""))`, "ORDER BY cf[1]"},
	{"CF[10014] = x", `(clause (field "cf" ["10014"]) = "x")`, "cf[10014] = x"},
	{"Issue.Property[a].b.c = 1", `(clause (field "issue.property" ["a"] ."b" ."c") = "1")`, "issue.property[a].b.c = 1"},
	{`issue.property["a b"] = 1`, `(clause (field "issue.property" ["a b"]) = "1")`, `issue.property["a b"] = 1`},
	{"foo[1] = 2", `(clause (field "foo" ["1"]) = "2")`, "foo[1] = 2"},
	{`"Epic Link" = PRJ-1`, `(clause (field "Epic Link") = "PRJ-1")`, `"Epic Link" = PRJ-1`},
	{`"project" = x`, `(clause (field "project") = "x")`, "project = x"},
	{"ISSUEKEY = a AND Key = b AND ISSUE = c AND Type = d AND IssueType = e",
		`(AND (AND (AND (AND (clause (field "issueKey") = "a") (clause (field "key") = "b")) (clause (field "issue") = "c")) (clause (field "type") = "d")) (clause (field "issuetype") = "e"))`,
		"issueKey = a AND key = b AND issue = c AND type = d AND issuetype = e"},
	{`x = "AND"`, `(clause (field "x") = "AND")`, `x = "AND"`},
	{`x = "a\"b\\c"`, `(clause (field "x") = "a\"b\\c")`, `x = "a\"b\\c"`},
	{`x = "tab\there\u0001"`, `(clause (field "x") = "tab\there\x01")`, `x = "tab\there\u0001"`},
	{`x = 'it''s'`, ``, ``}, // two strings in a row: a syntax error, see parseErrorTests
	{`x = ""`, `(clause (field "x") = "")`, `x = ""`},
	{`x = In\ Progress`, `(clause (field "x") = "In Progress")`, `x = "In Progress"`},
	{"x = a\n\tAND\r\ny = b", `(AND (clause (field "x") = "a") (clause (field "y") = "b"))`, "x = a AND y = b"},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		if tt.tree == "" {
			continue
		}
		x, err := parse(tt.src)
		if err != nil {
			t.Errorf("parse(%q): %v", tt.src, err)
			continue
		}
		if got := dump(x); got != tt.tree {
			t.Errorf("parse(%q)\n got  %s\n want %s", tt.src, got, tt.tree)
		}
		if got := x.String(); got != tt.canonical {
			t.Errorf("parse(%q).String()\n got  %s\n want %s", tt.src, got, tt.canonical)
		}
	}
}

// node is anything with a source span.
type node interface {
	Pos() int
	End() int
}

func TestParsePositions(t *testing.T) {
	src := `(project = PRJ OR key in (A-1, "B-2")) AND NOT cf[10014] != currentUser() ORDER BY key DESC`
	x, err := parse(src)
	if err != nil {
		t.Fatal(err)
	}
	ob := x.(*OrderBy)
	and := ob.X.(*BinaryExpr)
	paren := and.X.(*ParenExpr)
	or := paren.X.(*BinaryExpr)
	c1 := or.X.(*Clause)
	c2 := or.Y.(*Clause)
	not := and.Y.(*NotExpr)
	c3 := not.X.(*Clause)
	list := c2.Value.(*List)
	span := func(n node) string { return src[n.Pos():n.End()] }
	for _, tt := range []struct{ got, want string }{
		{span(ob), src},
		{span(and), src[:strings.Index(src, " ORDER")]},
		{span(paren), `(project = PRJ OR key in (A-1, "B-2"))`},
		{span(or), `project = PRJ OR key in (A-1, "B-2")`},
		{span(c1), "project = PRJ"},
		{span(c1.Field), "project"},
		{src[c1.OpSpan.Start:c1.OpSpan.Stop], "="},
		{span(c1.Value), "PRJ"},
		{span(c2), `key in (A-1, "B-2")`},
		{span(list), `(A-1, "B-2")`},
		{span(list.Items[1]), `"B-2"`},
		{src[and.OpPos : and.OpPos+3], "AND"},
		{src[or.OpPos : or.OpPos+2], "OR"},
		{span(not), "NOT cf[10014] != currentUser()"},
		{span(c3.Field), "cf[10014]"},
		{src[c3.Field.ArgSpan.Start:c3.Field.ArgSpan.Stop], "10014"},
		{span(c3.Value), "currentUser()"},
		{src[ob.Order.Start:ob.Order.Stop], "ORDER BY key DESC"},
		{src[ob.Keys[0].DirSpan.Start:ob.Keys[0].DirSpan.Stop], "DESC"},
	} {
		if tt.got != tt.want {
			t.Errorf("span %q, want %q", tt.got, tt.want)
		}
	}
	c, _ := parse("status was not in (A) by x")
	cl := c.(*Clause)
	if got := "status was not in (A) by x"[cl.OpSpan.Start:cl.OpSpan.Stop]; got != "was not in" {
		t.Errorf("operator span %q, want %q", got, "was not in")
	}
	if cl.End() != len("status was not in (A) by x") {
		t.Errorf("clause ends at %d, want the end of the predicate", cl.End())
	}
}

// parseErrorTests pin the first syntax error: its position and message.
var parseErrorTests = []struct {
	src  string
	want string
}{
	{"", "1:1: empty filter: a webhook needs a JQL filter, such as project = PRJ"},
	{"  \n ", "1:1: empty filter: a webhook needs a JQL filter, such as project = PRJ"},
	{"project", `1:8: expected an operator after "project" (=, !=, IN or NOT IN), found end of filter`},
	{"project PRJ", `1:9: expected an operator after "project" (=, !=, IN or NOT IN), found "PRJ"`},
	{"project =", `1:9: missing value after "=": expected a value such as PRJ or "In Progress"`},
	{"project = AND x = 1", `1:11: expected a value after "=", found AND (quote it if it is a value)`},
	{"project = )", `1:11: expected a value after "=", found ")"`},
	{"= PRJ", `1:1: expected a clause such as project = PRJ, found "="`},
	{"AND project = PRJ", `1:1: expected a clause such as project = PRJ, found AND (quote it if it is a field name)`},
	{"project = PRJ AND", "1:15: trailing AND: expected a clause after it"},
	{"project = PRJ or", "1:15: trailing OR: expected a clause after it"},
	{"project = PRJ &&", "1:15: trailing AND: expected a clause after it"},
	{"project = PRJ AND OR x = 1", "1:19: expected a clause after AND, found OR"},
	{"project = PRJ AND (", `1:19: "(" is never closed: expected a clause and ")"`},
	{"(project = PRJ", `1:1: "(" is never closed: expected ")"`},
	{"((project = PRJ)", `1:1: "(" is never closed: expected ")"`},
	{"project = PRJ)", `1:14: unexpected ")": there is no "(" to close`},
	{"()", `1:2: empty parentheses: expected a clause between "(" and ")"`},
	{"(a = 1 b = 2)", `1:8: expected AND, OR or ")" before "b"`},
	{"(a = 1 ,)", `1:8: unexpected ",": expected AND, OR or ")"`},
	{"project = PRJ status = Done", `1:15: expected AND or OR before "status"`},
	{"project = PRJ, status = Done", `1:14: unexpected ",": expected AND, OR or the end of the filter`},
	{"project in PRJ", `1:12: IN needs a list in parentheses, such as (PRJ, OPS); found "PRJ"`},
	{`project in "PRJ"`, `1:12: IN needs a list in parentheses, such as (PRJ, OPS); found "\"PRJ\""`},
	{"project not in PRJ", `1:16: NOT IN needs a list in parentheses, such as (PRJ, OPS); found "PRJ"`},
	{"project in", "1:9: IN needs a list in parentheses, such as (PRJ, OPS)"},
	{"project not PRJ", `1:13: expected IN after NOT, found "PRJ": write NOT IN (...)`},
	{"project in ()", "1:13: empty list: IN needs at least one value"},
	{"project not in ( )", "1:18: empty list: NOT IN needs at least one value"},
	{"project in (PRJ,, OPS)", `1:17: unexpected ",": expected a value`},
	{"project in (, PRJ)", `1:13: unexpected ",": expected a value`},
	{"project in (PRJ,)", `1:16: trailing ",": expected a value after it, or remove it`},
	{"project in (PRJ OPS)", `1:17: expected "," or ")" in the list, found "OPS"; if "PRJ OPS" is one value, put it in quotes`},
	{"project in (PRJ", `1:12: "(" is never closed: expected ")"`},
	{"project in (PRJ,", `1:12: "(" is never closed: expected ")"`},
	{"project in (AND)", `1:13: expected a value in the list, found AND (quote it if it is a value)`},
	{"project in (PRJ, =)", `1:18: expected a value in the list, found "="`},
	{"assignee = currentUser(", `1:23: "(" is never closed: expected ")"`},
	{"assignee = f(a b)", `1:16: expected "," or ")" in the arguments of f(), found "b"`},
	{"assignee = f(,)", `1:14: expected an argument of f(), found ","`},
	{`project = "PRJ`, `1:11: unterminated string: no closing "`},
	{`project = 'PRJ`, `1:11: unterminated string: no closing '`},
	{`status = "In Progress'`, `1:10: unterminated string: no closing "`},
	{`x = 'it''s'`, `1:9: expected AND or OR before "'s'"`},
	{`status = "bad\q"`, `1:14: invalid escape "\q": JQL knows \", \', \\, \t, \n, \r, "\ " (space) and \uXXXX`},
	{"reporter = a@example.com", `1:13: reserved character "@": put a value that contains it in quotes`},
	{"cf[10014 = 1", `1:9: expected "]" after "cf[10014", found " "`},
	{"cf[] = 1", "1:3: empty brackets: expected a custom field id or a property key, as in cf[10014] or issue.property[key]"},
	{"[1] = 2", `1:1: unexpected "[": brackets belong right after a field name, as in cf[10014] or issue.property[key]`},
	{"project = PRJ ORDER key", "1:21: expected BY after ORDER, found \"key\""},
	{"project = PRJ ORDER BY", "1:21: expected a field to sort by after ORDER BY"},
	{"project = PRJ ORDER BY key,", `1:27: trailing ",": expected a field after it, or remove it`},
	{"project = PRJ ORDER BY (", `1:24: expected a field to sort by, found "("`},
	{"project = PRJ ORDER BY key desc extra", `1:33: unexpected "extra": expected "," and another sort key, or the end of the filter`},
	{"project = PRJ ORDER BY key AND x = 1", `1:28: unexpected AND: expected "," and another sort key, or the end of the filter`},
	{"status = NOT", "1:10: expected a value after \"=\", found NOT (quote it if it is a value)"},
	{"project = PRJ\nAND\n", "2:1: trailing AND: expected a clause after it"},
	{"project = PRJ AND\n  status = Done\n  AND priority", `3:15: expected an operator after "priority" (=, !=, IN or NOT IN), found end of filter`},
	{"status = \"é\" AND x = ✓ y", `1:24: expected AND or OR before "y"; if "✓ y" is one value, put it in quotes`},
	{strings.Repeat("(", maxDepth+1) + "a = 1" + strings.Repeat(")", maxDepth+1), fmt.Sprintf("1:%d: the filter is nested too deeply", maxDepth+1)},
	{strings.Repeat("NOT ", maxDepth+1) + "a = 1", fmt.Sprintf("1:%d: the filter is nested too deeply", 4*maxDepth+1)},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorTests {
		x, e := parse(tt.src)
		if e == nil {
			t.Errorf("parse(%q) = %s, want error %s", tt.src, x, tt.want)
			continue
		}
		if got := e.Error(); got != tt.want {
			t.Errorf("parse(%q)\n got  %s\n want %s", tt.src, got, tt.want)
		}
		if e.Offset < 0 || e.End < e.Offset || e.End > len(tt.src) {
			t.Errorf("parse(%q): span [%d,%d) outside the source", tt.src, e.Offset, e.End)
		}
	}
}

// roundTripSources gathers every filter the tests use.
func roundTripSources() []string {
	var srcs []string
	for _, tt := range parseTests {
		srcs = append(srcs, tt.src)
	}
	for _, tt := range parseErrorTests {
		srcs = append(srcs, tt.src)
	}
	for _, tt := range lexTests {
		srcs = append(srcs, tt.src)
	}
	for _, tt := range subsetTests {
		srcs = append(srcs, tt.src)
	}
	return srcs
}

// checkRoundTrip fails when printing a parsed filter and parsing the print
// does not give the same tree and the same print.
func checkRoundTrip(t *testing.T, src string) {
	t.Helper()
	x, err := parse(src)
	if err != nil {
		return
	}
	printed := x.String()
	y, err := parse(printed)
	if err != nil {
		t.Fatalf("parse(%q) prints %q, which does not parse: %v", src, printed, err)
	}
	if a, b := dump(x), dump(y); a != b {
		t.Fatalf("round trip of %q through %q changes the tree:\n before %s\n after  %s", src, printed, a, b)
	}
	if again := y.String(); again != printed {
		t.Fatalf("printing is not stable for %q: %q then %q", src, printed, again)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, src := range roundTripSources() {
		checkRoundTrip(t, src)
	}
}

// TestPrintHandBuiltTrees checks that the printer adds the parentheses a
// tree needs when it was not built by Parse.
func TestPrintHandBuiltTrees(t *testing.T) {
	c := func(name, v string) *Clause {
		return &Clause{Field: &Field{Name: name}, Op: Eq, Value: &Value{Text: v}}
	}
	tests := []struct {
		x    Expr
		want string
	}{
		{&BinaryExpr{X: &BinaryExpr{X: c("a", "1"), Op: Or, Y: c("b", "2")}, Op: And, Y: c("c", "3")}, "(a = 1 OR b = 2) AND c = 3"},
		{&BinaryExpr{X: c("a", "1"), Op: And, Y: &BinaryExpr{X: c("b", "2"), Op: And, Y: c("c", "3")}}, "a = 1 AND (b = 2 AND c = 3)"},
		{&BinaryExpr{X: c("a", "1"), Op: Or, Y: &BinaryExpr{X: c("b", "2"), Op: And, Y: c("c", "3")}}, "a = 1 OR b = 2 AND c = 3"},
		{&NotExpr{X: &BinaryExpr{X: c("a", "1"), Op: Or, Y: c("b", "2")}}, "NOT (a = 1 OR b = 2)"},
		{&Clause{Field: &Field{Name: "x y"}, Op: In, Value: &List{Items: []Operand{&Value{Text: "or"}, &Empty{Null: true}}}}, `"x y" IN ("or", NULL)`},
	}
	for _, tt := range tests {
		if got := tt.x.String(); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
		checkRoundTrip(t, tt.x.String())
	}
}

func TestOperatorString(t *testing.T) {
	if got := Operator(0).String(); got != "Operator(0)" {
		t.Errorf("Operator(0) = %q", got)
	}
	if got := WasNotIn.String(); got != "WAS NOT IN" {
		t.Errorf("WasNotIn = %q", got)
	}
}
