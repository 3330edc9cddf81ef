package jql

import (
	"strings"

	"github.com/jwh-cli/jwh/internal/editdist"
)

// Messages shared by several checks.
const (
	allowedFields    = "webhook filters can use issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id]"
	allowedOperators = "webhook filters can use =, !=, IN and NOT IN"
)

// Query is a filter that passed Validate: safe to send to Jira and ready to
// match issues.
type Query struct {
	expr    Expr
	aliases map[string]string
}

// Validate parses src and checks it against the subset of JQL that Jira
// accepts in a dynamic webhook's jqlFilter. It returns the query when src is
// valid, and otherwise every problem: the first syntax error alone, or all
// the subset violations in source order.
func Validate(src string) (*Query, []*Error) {
	x, err := parse(src)
	if err != nil {
		return nil, []*Error{err}
	}
	c := checker{src: src}
	c.expr(x)
	if len(c.errs) > 0 {
		sortAndLocate(c.errs, src)
		return nil, c.errs
	}
	return &Query{expr: x, aliases: c.aliases}, nil
}

// Canonical returns the filter as canonical JQL, with aliases replaced by
// the fields they stand for: "key = prj-1" becomes "issueKey = prj-1".
func (q *Query) Canonical() string { return printExpr(q.expr, true) }

// String returns Canonical().
func (q *Query) String() string { return q.Canonical() }

// Aliases maps each alias the filter uses, in lower case, to the field it
// stands for: {"key": "issueKey", "type": "issuetype"}. It is empty, never
// nil, when the filter uses none; the map is the caller's.
func (q *Query) Aliases() map[string]string {
	m := make(map[string]string, len(q.aliases))
	for k, v := range q.aliases {
		m[k] = v
	}
	return m
}

// checker walks a parsed filter and records every subset violation.
type checker struct {
	src     string
	errs    []*Error
	aliases map[string]string
}

func (c *checker) errorf(s Span, msg string) {
	c.errs = append(c.errs, &Error{Msg: msg, Offset: s.Start, End: s.Stop})
}

func (c *checker) expr(e Expr) {
	switch e := e.(type) {
	case *BinaryExpr:
		c.expr(e.X)
		c.expr(e.Y)
	case *ParenExpr:
		c.expr(e.X)
	case *NotExpr:
		what, span := "NOT", Span{e.NotPos, e.NotPos + len("NOT")}
		if c.src[e.NotPos] == '!' {
			what, span = `"!" (NOT)`, Span{e.NotPos, e.NotPos + 1}
		}
		c.errorf(span, "unsupported "+what+": webhook filters cannot negate a clause; use != or NOT IN instead")
		c.expr(e.X)
	case *OrderBy:
		if e.X == nil {
			c.errorf(Span{0, 0}, "empty filter: a webhook needs a JQL filter, such as project = PRJ")
		} else {
			c.expr(e.X)
		}
		c.errorf(e.Order, "ORDER BY is not supported in webhook filters: remove it (Jira sends events one at a time, so there is nothing to sort)")
	case *Clause:
		c.clause(e)
	}
}

func (c *checker) clause(cl *Clause) {
	f := cl.Field
	fieldOK := c.field(f)
	switch cl.Op {
	case Eq, NotEq, In, NotIn:
	default:
		c.errorf(cl.OpSpan, "unsupported operator "+quote(cl.Op.String())+": "+allowedOperators)
	}
	switch v := cl.Value.(type) {
	case *List:
		if cl.Op == Eq || cl.Op == NotEq {
			instead := "IN"
			if cl.Op == NotEq {
				instead = "NOT IN"
			}
			c.errorf(v.Span, quote(cl.Op.String())+" takes a single value: use "+instead+" for a list")
		}
		for _, it := range v.Items {
			c.operand(f, fieldOK, it)
		}
	case nil:
	default:
		c.operand(f, fieldOK, v)
	}
}

// field checks a field name and records the alias it uses. It reports
// whether the field is supported, so that its values can be checked.
func (c *checker) field(f *Field) bool {
	if f.Arg != "" {
		switch f.Name {
		case "cf":
			ok := true
			if !isDigits(f.Arg) {
				c.errorf(f.ArgSpan, "custom field id must be a number, as in cf[10014]; found "+quote(f.Arg))
				ok = false
			}
			if len(f.Path) > 0 {
				c.errorf(Span{f.ArgSpan.Stop + 1, f.Stop}, "a custom field takes no path: remove "+quote(c.src[f.ArgSpan.Stop+1:f.Stop]))
				ok = false
			}
			return ok
		case "issue.property":
			return true
		}
		suggest := ""
		switch lower := strings.ToLower(f.Name); {
		case lower == "customfield" || lower == "custom_field" || editdist.Distance(lower, "cf") == 1 && len(lower) == 2:
			suggest = "cf"
		case strings.HasPrefix(lower, "issue.prop") || editdist.Distance(lower, "issue.property") <= 3:
			suggest = "issue.property"
		}
		if suggest != "" {
			g := *f
			g.Name = suggest
			suggest = g.String()
		}
		c.errorf(f.Span, "unsupported field "+quote(f.String())+": "+didYouMean(suggest)+allowedFields)
		return false
	}
	switch f.Name {
	case "issueKey", "project", "issuetype", "status", "assignee", "reporter":
		return true
	case "key", "issue", "type":
		if c.aliases == nil {
			c.aliases = make(map[string]string, 1)
		}
		c.aliases[f.Name] = aliases[f.Name]
		return true
	}
	lower := strings.ToLower(f.Name)
	switch {
	case lower == "cf":
		c.errorf(f.Span, "cf needs a custom field id in brackets, as in cf[10014]")
	case strings.HasPrefix(lower, "issue.property"):
		c.errorf(f.Span, "issue.property needs a property key in brackets, as in issue.property[my-key].path")
	case strings.HasPrefix(lower, "customfield_") && isDigits(lower[len("customfield_"):]):
		c.errorf(f.Span, "unsupported field "+quote(f.Name)+": write custom fields as cf["+lower[len("customfield_"):]+"]")
	case lower == "epic link":
		c.errorf(f.Span, "unsupported field "+quote(f.Name)+": write the Epic Link field as cf[ID] with its numeric id, as in cf[10014]")
	default:
		c.errorf(f.Span, "unsupported field "+quote(f.Name)+": "+didYouMean(nearestField(lower))+allowedFields)
	}
	return false
}

// didYouMean returns "did you mean "s"? " for a suggestion, or "".
func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return "did you mean " + quote(s) + "? "
}

// suggestFields are the names a misspelt field may have been meant as.
var suggestFields = []string{"issueKey", "project", "issuetype", "status", "assignee", "reporter", "key", "issue", "type"}

// nearestField returns the supported field whose name is a likely typo of
// lower (a lower-case field name), or "".
func nearestField(lower string) string {
	best, bestDist := "", -1
	for _, name := range suggestFields {
		if d := editdist.Distance(lower, strings.ToLower(name)); bestDist < 0 || d < bestDist {
			best, bestDist = name, d
		}
	}
	// A typo changes a few characters: about one in four, at most 2.
	if bestDist > 0 && bestDist <= min(2, max(1, len(lower)/4)) {
		return best
	}
	return ""
}

// operand checks one value of a clause whose field is f (supported when
// fieldOK).
func (c *checker) operand(f *Field, fieldOK bool, o Operand) {
	switch o := o.(type) {
	case *Func:
		c.errorf(o.Span, "unsupported function "+quote(o.Name+"()")+": webhook filters compare with literal values, such as a key or an account id")
	case *Empty:
		word := "EMPTY"
		if o.Null {
			word = "NULL"
		}
		c.errorf(o.Span, word+" is not supported in webhook filters: they cannot test for a missing value; compare with values, using =, !=, IN or NOT IN")
	case *Value:
		switch {
		case o.Text == "":
			c.errorf(o.Span, "empty value: compare with a value, such as PRJ")
		case fieldOK && f.Arg == "" && (f.Name == "issueKey" || aliases[f.Name] == "issueKey") && !isIssueKeyOrID(o.Text):
			c.errorf(o.Span, "invalid issue key "+quote(o.Text)+": expected a key such as PRJ-123, or a numeric issue id")
		}
	}
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isIssueKeyOrID reports whether s is a numeric issue id or an issue key
// (IsIssueKey).
func isIssueKeyOrID(s string) bool { return isDigits(s) || IsIssueKey(s) }

// IsIssueKey reports whether s has the form of an issue key, as Jira
// accepts it: a project key (a letter, then letters, digits or
// underscores), a hyphen and a positive number, such as PRJ-1. Jira
// compares keys without regard to case.
func IsIssueKey(s string) bool {
	dash := strings.LastIndexByte(s, '-')
	if dash < 1 || !isDigits(s[dash+1:]) || strings.Trim(s[dash+1:], "0") == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < dash; i++ {
		if c := s[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
