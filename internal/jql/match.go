package jql

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Issue is what a filter can see of an issue. Empty strings mean "no
// value" (an unassigned issue has no AssigneeAccountID).
type Issue struct {
	ID  string // numeric issue id, e.g. "10001"
	Key string // e.g. "PRJ-1"

	ProjectID, ProjectKey, ProjectName string
	IssueTypeID, IssueTypeName         string
	StatusID, StatusName               string

	AssigneeAccountID, ReporterAccountID string

	// Properties holds each issue property's value, decoded from JSON
	// (as by encoding/json into an any), by property key.
	Properties map[string]any
	// CustomFields holds custom field values by numeric id: "10014" -> "PRJ-7".
	CustomFields map[string]string
}

// Match reports whether the issue satisfies the filter.
//
// Names compare without regard to case (issue key, project key and name,
// issue type and status names, custom field values), ids and account ids
// exactly. A value made only of digits is an id: project = 10000 matches the
// project whose id is 10000, issuetype = 10001 the issue type with that id.
// Property values compare as JSON leaves: strings exactly, numbers by value,
// booleans as true or false; an array matches when one of its elements does.
// As in Jira, != and NOT IN never match an issue whose field has no value.
func (q *Query) Match(is Issue) bool { return match(q.expr, &is) }

func match(e Expr, is *Issue) bool {
	switch e := e.(type) {
	case *BinaryExpr:
		if e.Op == And {
			return match(e.X, is) && match(e.Y, is)
		}
		return match(e.X, is) || match(e.Y, is)
	case *ParenExpr:
		return match(e.X, is)
	case *Clause:
		present, equal := compare(e, is)
		switch e.Op {
		case Eq, In:
			return equal
		case NotEq, NotIn:
			return present && !equal
		}
	}
	// Validate admits no other node.
	return false
}

// compare reports whether the issue has a value for the clause's field,
// and whether one of its values equals one of the clause's values.
func compare(c *Clause, is *Issue) (present, equal bool) {
	f := c.Field
	if f.Arg != "" {
		if f.Name == "cf" {
			v := is.CustomFields[f.Arg]
			return v != "", v != "" && anyValue(c.Value, func(want string) bool { return strings.EqualFold(v, want) })
		}
		v, ok := is.Properties[f.Arg]
		if !ok {
			return false, false
		}
		leaves(v, f.Path, func(leaf any) bool {
			present = true
			equal = anyValue(c.Value, func(want string) bool { return leafEqual(leaf, want) })
			return equal
		})
		return present, equal
	}
	name := f.Name
	if a, ok := aliases[name]; ok {
		name = a
	}
	switch name {
	case "issueKey":
		return named(c.Value, is.ID, is.Key, "")
	case "project":
		return named(c.Value, is.ProjectID, is.ProjectKey, is.ProjectName)
	case "issuetype":
		return named(c.Value, is.IssueTypeID, is.IssueTypeName, "")
	case "status":
		return named(c.Value, is.StatusID, is.StatusName, "")
	case "assignee":
		return exact(c.Value, is.AssigneeAccountID)
	case "reporter":
		return exact(c.Value, is.ReporterAccountID)
	}
	return false, false
}

// anyValue reports whether eq holds for one of the operand's values.
func anyValue(o Operand, eq func(string) bool) bool {
	switch o := o.(type) {
	case *Value:
		return eq(o.Text)
	case *List:
		for _, it := range o.Items {
			if v, ok := it.(*Value); ok && eq(v.Text) {
				return true
			}
		}
	}
	return false
}

// named compares with a thing that has an id and one or two names: a value
// of digits is an id, anything else a name.
func named(o Operand, id, name1, name2 string) (present, equal bool) {
	present = id != "" || name1 != "" || name2 != ""
	equal = anyValue(o, func(want string) bool {
		if isDigits(want) {
			return want == id
		}
		return name1 != "" && strings.EqualFold(want, name1) || name2 != "" && strings.EqualFold(want, name2)
	})
	return present, equal
}

// exact compares account ids.
func exact(o Operand, have string) (present, equal bool) {
	return have != "", have != "" && anyValue(o, func(want string) bool { return want == have })
}

// leaves calls fn with each JSON leaf at path under v, descending into
// every element of the arrays it meets, until fn returns true. Objects
// and nulls are not leaves.
func leaves(v any, path []string, fn func(any) bool) bool {
	switch t := v.(type) {
	case []any:
		for _, el := range t {
			if leaves(el, path, fn) {
				return true
			}
		}
		return false
	case map[string]any:
		if len(path) == 0 {
			return false
		}
		next, ok := t[path[0]]
		return ok && leaves(next, path[1:], fn)
	case nil:
		return false
	}
	if len(path) > 0 {
		return false
	}
	return fn(v)
}

// leafEqual compares a JSON leaf with a filter value.
func leafEqual(leaf any, want string) bool {
	switch l := leaf.(type) {
	case string:
		return l == want
	case bool:
		return strings.EqualFold(want, strconv.FormatBool(l))
	case json.Number:
		f, err := l.Float64()
		return err == nil && numberEqual(f, want)
	case float64:
		return numberEqual(l, want)
	case float32:
		return numberEqual(float64(l), want)
	case int:
		return numberEqual(float64(l), want)
	case int64:
		return numberEqual(float64(l), want)
	}
	return false
}

func numberEqual(f float64, want string) bool {
	w, err := strconv.ParseFloat(want, 64)
	return err == nil && w == f
}
