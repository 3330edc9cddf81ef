package jql

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Span is the byte range [Start, Stop) that a node covers in the source.
type Span struct{ Start, Stop int }

// Pos returns the byte offset of the node's first character.
func (s Span) Pos() int { return s.Start }

// End returns the byte offset just past the node's last character.
func (s Span) End() int { return s.Stop }

// Expr is a node of a filter's boolean structure: *BinaryExpr, *NotExpr,
// *ParenExpr, *Clause or *OrderBy. String prints it as canonical JQL: keywords
// in upper case, known field names in their usual spelling, values quoted
// only when they must be, and parentheses as written.
type Expr interface {
	Pos() int
	End() int
	String() string
	exprNode()
}

// Operand is the right-hand side of a clause: *Value, *List, *Func or *Empty.
type Operand interface {
	Pos() int
	End() int
	String() string
	operandNode()
}

// Logic is the connective of a BinaryExpr.
type Logic uint8

// The connectives. AND binds tighter than OR.
const (
	And Logic = iota + 1
	Or
)

func (l Logic) String() string {
	if l == And {
		return "AND"
	}
	return "OR"
}

// BinaryExpr is X AND Y or X OR Y. Chains associate to the left.
type BinaryExpr struct {
	X     Expr
	Op    Logic
	OpPos int // offset of AND/OR (or &&, ||)
	Y     Expr
}

// NotExpr is NOT X (or !X). JQL allows it; webhook filters do not.
type NotExpr struct {
	NotPos int
	X      Expr
}

// ParenExpr is a parenthesised expression, kept so that the tree prints as
// written.
type ParenExpr struct {
	Lparen, Rparen int // offsets of "(" and ")"
	X              Expr
}

// Clause is field operator operand, with the history predicates (BY, AFTER,
// ...) that WAS and CHANGED may take. Value is nil for a bare CHANGED.
type Clause struct {
	Field      *Field
	Op         Operator
	OpSpan     Span
	Value      Operand
	Predicates []*Predicate
}

// OrderBy is a filter followed by ORDER BY. X is nil when the source holds
// only the ORDER BY part.
type OrderBy struct {
	X     Expr
	Order Span // from ORDER to the end of the last key
	Keys  []*SortKey
}

// Field names the left-hand side of a clause. Name holds a known field or
// alias in its usual spelling ("issueKey", "issuetype", "key", "cf",
// "issue.property") and any other name as written. Arg is the bracket
// argument of cf[10014] or issue.property[key] ("" without brackets) and
// Path the segments after the brackets.
type Field struct {
	Span
	Name    string
	Arg     string
	ArgSpan Span
	Path    []string
}

// Value is a literal: a bare word, number or quoted string, decoded.
type Value struct {
	Span
	Text string
}

// List is a parenthesised list of values (or functions, EMPTY, NULL).
type List struct {
	Span
	Items []Operand
}

// Func is a JQL function call such as currentUser() or membersOf("team").
type Func struct {
	Span
	Name string
	Args []*Value
}

// Empty is the EMPTY or NULL keyword.
type Empty struct {
	Span
	Null bool
}

// Predicate is a history predicate after WAS or CHANGED: BY, AFTER, BEFORE,
// ON, DURING, FROM or TO, with its operand.
type Predicate struct {
	Span  // the predicate word
	Name  string
	Value Operand
}

// SortKey is one key of ORDER BY. Dir is "", "ASC" or "DESC".
type SortKey struct {
	Field   *Field
	Dir     string
	DirSpan Span
}

// Operator is a clause operator.
type Operator uint8

// The operators JQL knows. Webhook filters accept Eq, NotEq, In and NotIn.
const (
	Eq Operator = iota + 1
	NotEq
	In
	NotIn
	Like
	NotLike
	Lt
	Gt
	Le
	Ge
	Is
	IsNot
	Was
	WasNot
	WasIn
	WasNotIn
	Changed
)

var operatorNames = [...]string{
	Eq: "=", NotEq: "!=", In: "IN", NotIn: "NOT IN", Like: "~", NotLike: "!~",
	Lt: "<", Gt: ">", Le: "<=", Ge: ">=", Is: "IS", IsNot: "IS NOT",
	Was: "WAS", WasNot: "WAS NOT", WasIn: "WAS IN", WasNotIn: "WAS NOT IN", Changed: "CHANGED",
}

// String returns the operator as canonical JQL spells it.
func (o Operator) String() string {
	if int(o) < len(operatorNames) && operatorNames[o] != "" {
		return operatorNames[o]
	}
	return "Operator(" + strconv.Itoa(int(o)) + ")"
}

// takesList reports whether the operator's operand is a list.
func (o Operator) takesList() bool {
	return o == In || o == NotIn || o == WasIn || o == WasNotIn
}

func (x *BinaryExpr) Pos() int { return x.X.Pos() }
func (x *BinaryExpr) End() int { return x.Y.End() }
func (x *NotExpr) Pos() int    { return x.NotPos }
func (x *NotExpr) End() int    { return x.X.End() }
func (x *ParenExpr) Pos() int  { return x.Lparen }
func (x *ParenExpr) End() int  { return x.Rparen + 1 }
func (x *Clause) Pos() int     { return x.Field.Pos() }

// End returns the offset just past the clause's last token.
func (x *Clause) End() int {
	switch {
	case len(x.Predicates) > 0:
		p := x.Predicates[len(x.Predicates)-1]
		if p.Value != nil {
			return p.Value.End()
		}
		return p.End()
	case x.Value != nil:
		return x.Value.End()
	}
	return x.OpSpan.End()
}

// Pos returns the offset of the filter's start, or of ORDER when X is nil.
func (x *OrderBy) Pos() int {
	if x.X != nil {
		return x.X.Pos()
	}
	return x.Order.Start
}
func (x *OrderBy) End() int { return x.Order.Stop }

func (*BinaryExpr) exprNode() {}
func (*NotExpr) exprNode()    {}
func (*ParenExpr) exprNode()  {}
func (*Clause) exprNode()     {}
func (*OrderBy) exprNode()    {}

func (*Value) operandNode() {}
func (*List) operandNode()  {}
func (*Func) operandNode()  {}
func (*Empty) operandNode() {}

func (x *BinaryExpr) String() string { return printExpr(x, false) }
func (x *NotExpr) String() string    { return printExpr(x, false) }
func (x *ParenExpr) String() string  { return printExpr(x, false) }
func (x *Clause) String() string     { return printExpr(x, false) }
func (x *OrderBy) String() string    { return printExpr(x, false) }

func (x *Field) String() string {
	var p printer
	p.field(x)
	return p.String()
}

func (x *Value) String() string { return printOperand(x) }
func (x *List) String() string  { return printOperand(x) }
func (x *Func) String() string  { return printOperand(x) }
func (x *Empty) String() string { return printOperand(x) }

// plainFields maps the lower-case spelling of the known fields and aliases
// that take no brackets to their canonical spelling.
var plainFields = map[string]string{
	"issuekey":  "issueKey",
	"key":       "key",
	"issue":     "issue",
	"project":   "project",
	"issuetype": "issuetype",
	"type":      "type",
	"status":    "status",
	"assignee":  "assignee",
	"reporter":  "reporter",
}

// bracketFields maps the lower-case spelling of the known bracketed field
// names to their canonical spelling.
var bracketFields = map[string]string{
	"cf":             "cf",
	"issue.property": "issue.property",
}

// aliases maps each JQL alias to the field it stands for.
var aliases = map[string]string{
	"key":   "issueKey",
	"issue": "issueKey",
	"type":  "issuetype",
}

// fieldName returns the canonical spelling of a known field name, and name
// unchanged otherwise.
func fieldName(name string, bracketed bool) string {
	table := plainFields
	if bracketed {
		table = bracketFields
	}
	if len(name) > len("issue.property") {
		return name
	}
	if c, ok := table[strings.ToLower(name)]; ok {
		return c
	}
	return name
}

// printer writes canonical JQL. With resolve set, aliases print as the
// field they stand for.
type printer struct {
	strings.Builder
	resolve bool
}

func printExpr(e Expr, resolve bool) string {
	p := printer{resolve: resolve}
	p.expr(e)
	return p.String()
}

func printOperand(o Operand) string {
	var p printer
	p.operand(o)
	return p.String()
}

func (p *printer) expr(e Expr) {
	switch e := e.(type) {
	case *BinaryExpr:
		p.child(e.X, needParens(e.X, e.Op, false))
		p.WriteByte(' ')
		p.WriteString(e.Op.String())
		p.WriteByte(' ')
		p.child(e.Y, needParens(e.Y, e.Op, true))
	case *NotExpr:
		p.WriteString("NOT ")
		_, bin := e.X.(*BinaryExpr)
		p.child(e.X, bin)
	case *ParenExpr:
		p.child(e.X, true)
	case *Clause:
		p.clause(e)
	case *OrderBy:
		if e.X != nil {
			p.expr(e.X)
			p.WriteByte(' ')
		}
		p.WriteString("ORDER BY ")
		for i, k := range e.Keys {
			if i > 0 {
				p.WriteString(", ")
			}
			p.field(k.Field)
			if k.Dir != "" {
				p.WriteByte(' ')
				p.WriteString(k.Dir)
			}
		}
	}
}

// needParens reports whether a BinaryExpr child must be parenthesised to
// keep its place in the tree: OR under AND, or a right operand that would
// otherwise re-associate to the left. Trees from Parse carry ParenExpr
// nodes wherever this matters; this guards trees built by hand.
func needParens(child Expr, parent Logic, right bool) bool {
	b, ok := child.(*BinaryExpr)
	return ok && (parent == And && b.Op == Or || right && b.Op == parent)
}

func (p *printer) child(e Expr, parens bool) {
	if parens {
		p.WriteByte('(')
	}
	p.expr(e)
	if parens {
		p.WriteByte(')')
	}
}

func (p *printer) clause(c *Clause) {
	p.field(c.Field)
	p.WriteByte(' ')
	p.WriteString(c.Op.String())
	if c.Value != nil {
		p.WriteByte(' ')
		p.operand(c.Value)
	}
	for _, pr := range c.Predicates {
		p.WriteByte(' ')
		p.WriteString(pr.Name)
		if pr.Value != nil {
			p.WriteByte(' ')
			p.operand(pr.Value)
		}
	}
}

func (p *printer) field(f *Field) {
	name := f.Name
	if p.resolve && f.Arg == "" {
		if c, ok := aliases[name]; ok {
			name = c
		}
	}
	if f.Arg == "" {
		p.value(name)
		return
	}
	p.WriteString(name)
	p.WriteByte('[')
	if bracketSafe(f.Arg) {
		p.WriteString(f.Arg)
	} else {
		p.quoted(f.Arg)
	}
	p.WriteByte(']')
	for _, s := range f.Path {
		p.WriteByte('.')
		p.WriteString(s)
	}
}

func (p *printer) operand(o Operand) {
	switch o := o.(type) {
	case *Value:
		p.value(o.Text)
	case *List:
		p.WriteByte('(')
		for i, it := range o.Items {
			if i > 0 {
				p.WriteString(", ")
			}
			p.operand(it)
		}
		p.WriteByte(')')
	case *Func:
		p.WriteString(o.Name)
		p.WriteByte('(')
		for i, a := range o.Args {
			if i > 0 {
				p.WriteString(", ")
			}
			p.value(a.Text)
		}
		p.WriteByte(')')
	case *Empty:
		if o.Null {
			p.WriteString("NULL")
		} else {
			p.WriteString("EMPTY")
		}
	}
}

// value writes s bare when it lexes back as the same word, else quoted.
func (p *printer) value(s string) {
	if bareSafe(s) {
		p.WriteString(s)
	} else {
		p.quoted(s)
	}
}

// bareSafe reports whether s can be written as a bare word: not empty, not
// a keyword, and made only of word characters.
func bareSafe(s string) bool {
	if s == "" || isKeyword(s) {
		return false
	}
	for _, r := range s {
		if !isWordRune(r) {
			return false
		}
	}
	return true
}

// bracketSafe reports whether s can be written bare between brackets.
func bracketSafe(s string) bool {
	for i := 0; i < len(s); {
		if !isWordRuneAt(s, i, true) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	return s != ""
}

// quoted writes s as a double-quoted JQL string.
func (p *printer) quoted(s string) {
	p.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			p.WriteByte('\\')
			p.WriteByte(c)
		case '\n':
			p.WriteString(`\n`)
		case '\r':
			p.WriteString(`\r`)
		case '\t':
			p.WriteString(`\t`)
		default:
			if c < ' ' || c == 0x7f {
				p.WriteString(`\u00`)
				p.WriteByte("0123456789abcdef"[c>>4])
				p.WriteByte("0123456789abcdef"[c&15])
			} else {
				p.WriteByte(c)
			}
		}
	}
	p.WriteByte('"')
}

// quote quotes s for an error message.
func quote(s string) string { return strconv.Quote(s) }
