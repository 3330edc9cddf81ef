package jql

import (
	"strings"
)

// maxDepth bounds the nesting of parentheses and NOT, so that no input can
// exhaust the stack.
const maxDepth = 100

// parse parses src as JQL, syntax only: it accepts everything JQL can say,
// including what webhook filters refuse (Validate checks that). It stops at
// the first syntax error, which it returns with its line and column. An
// empty or blank filter is an error too.
func parse(src string) (Expr, *Error) {
	p := parser{src: src, toks: lex(src)}
	x, err := p.query()
	if err != nil {
		err.locate(src)
		return nil, err
	}
	return x, nil
}

// parser is a recursive-descent parser over the whole token slice:
//
//	query   = [ or ] [ "ORDER" "BY" sortKey { "," sortKey } ] EOF
//	or      = and { "OR" and }
//	and     = not { "AND" not }
//	not     = ( "NOT" | "!" ) not | primary
//	primary = "(" or ")" | clause
//	clause  = field op [ operand ] { predicate }
type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

// peek2 returns the token after the current one.
func (p *parser) peek2() token {
	if p.i+1 < len(p.toks) {
		return p.toks[p.i+1]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

// errAt reports msg at token t. An illegal token reports its own message:
// the lexer stopped there, and that is the real problem.
func (p *parser) errAt(t token, msg string) *Error {
	if t.kind == tokIllegal {
		return &Error{Msg: t.text, Offset: t.pos, End: t.end}
	}
	return &Error{Msg: msg, Offset: t.pos, End: t.end}
}

func (p *parser) query() (Expr, *Error) {
	if p.peek().kind == tokEOF {
		return nil, &Error{Msg: "empty filter: a webhook needs a JQL filter, such as project = PRJ", Offset: 0, End: len(p.src)}
	}
	var x Expr
	if p.peek().kind != tokOrder {
		var err *Error
		if x, err = p.or(); err != nil {
			return nil, err
		}
	}
	if p.peek().kind == tokOrder {
		ob, err := p.orderBy(x)
		if err != nil {
			return nil, err
		}
		x = ob
	}
	if t := p.peek(); t.kind != tokEOF {
		_, sorted := x.(*OrderBy)
		return nil, p.unexpected(t, sorted)
	}
	return x, nil
}

// unexpected explains a token found where the filter should have ended;
// sorted tells that it follows ORDER BY, where words are sort keys and
// not values.
func (p *parser) unexpected(t token, sorted bool) *Error {
	switch {
	case sorted:
		return p.errAt(t, "unexpected "+t.describe(p.src)+`: expected "," and another sort key, or the end of the filter`)
	case t.kind == tokRParen:
		return p.errAt(t, `unexpected ")": there is no "(" to close`)
	case t.kind == tokWord, t.kind == tokString, t.kind == tokField, t.kind == tokNot, t.kind == tokBang, t.kind == tokLParen:
		return p.errAt(t, "expected AND or OR before "+t.describe(p.src)+p.quoteHint(p.i-1))
	}
	return p.errAt(t, "unexpected "+t.describe(p.src)+": expected AND, OR or the end of the filter")
}

func (p *parser) or() (Expr, *Error)  { return p.chain(tokOr, Or, p.and) }
func (p *parser) and() (Expr, *Error) { return p.chain(tokAnd, And, p.not) }

// chain parses operands joined by the connective op (token k), associating
// to the left.
func (p *parser) chain(k kind, op Logic, operand func() (Expr, *Error)) (Expr, *Error) {
	x, err := operand()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == k {
		pos := p.advance().pos
		y, err := operand()
		if err != nil {
			return nil, err
		}
		x = &BinaryExpr{X: x, Op: op, OpPos: pos, Y: y}
	}
	return x, nil
}

func (p *parser) enter(t token) *Error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(t, "the filter is nested too deeply")
	}
	return nil
}

func (p *parser) not() (Expr, *Error) {
	t := p.peek()
	if t.kind != tokNot && t.kind != tokBang {
		return p.primary()
	}
	if err := p.enter(t); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.advance()
	x, err := p.not()
	if err != nil {
		return nil, err
	}
	return &NotExpr{NotPos: t.pos, X: x}, nil
}

func (p *parser) primary() (Expr, *Error) {
	t := p.peek()
	switch t.kind {
	case tokLParen:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		p.advance()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		switch r := p.peek(); r.kind {
		case tokRParen:
			p.advance()
			return &ParenExpr{Lparen: t.pos, Rparen: r.pos, X: x}, nil
		case tokEOF:
			return nil, p.errAt(t, `"(" is never closed: expected ")"`)
		default:
			if r.kind == tokWord || r.kind == tokString || r.kind == tokField {
				return nil, p.errAt(r, "expected AND, OR or \")\" before "+r.describe(p.src)+p.quoteHint(p.i-1))
			}
			return nil, p.errAt(r, "unexpected "+r.describe(p.src)+`: expected AND, OR or ")"`)
		}
	case tokWord, tokString, tokField:
		return p.clause()
	}
	return nil, p.missingClause(t)
}

// quoteHint returns advice for bare words that read as one value with
// spaces, as in status = Open Issue or status = In Progress: the words from
// token first to the next AND, OR, ",", ")" or the end of the filter, when
// there are at least two, all on one line and without escapes. The first
// word may be a keyword only when it is the current token (a keyword
// found where a value should be); before the current token it must be a
// value. It returns `; if "Open Issue" is one value, put it in quotes`, or
// "".
func (p *parser) quoteHint(first int) string {
	if first < 0 {
		return ""
	}
	j := first
	for ; j < len(p.toks); j++ {
		t := p.toks[j]
		word := t.kind == tokWord || j == p.i && j == first && isKeywordKind(t.kind)
		if !word || p.src[t.pos:t.end] != t.text {
			break
		}
	}
	if j-first < 2 || j == len(p.toks) {
		return ""
	}
	switch p.toks[j].kind {
	case tokEOF, tokAnd, tokOr, tokComma, tokRParen:
	default:
		return ""
	}
	words := p.src[p.toks[first].pos:p.toks[j-1].end]
	if strings.ContainsAny(words, "\n\r") {
		return ""
	}
	var q printer
	q.quoted(strings.Join(strings.Fields(words), " "))
	return "; if " + q.String() + " is one value, put it in quotes"
}

// missingClause explains a token found where a clause should start, in the
// light of the token before it.
func (p *parser) missingClause(t token) *Error {
	found := t.describe(p.src)
	if p.i > 0 {
		switch prev := p.toks[p.i-1]; prev.kind {
		case tokAnd, tokOr:
			op := strings.ToUpper(prev.text)
			if op == "&&" || op == "&" {
				op = "AND"
			} else if op == "||" || op == "|" {
				op = "OR"
			}
			if t.kind == tokEOF {
				return p.errAt(prev, "trailing "+op+": expected a clause after it")
			}
			return p.errAt(t, "expected a clause after "+op+", found "+found)
		case tokLParen:
			switch t.kind {
			case tokRParen:
				return p.errAt(t, `empty parentheses: expected a clause between "(" and ")"`)
			case tokEOF:
				return p.errAt(prev, `"(" is never closed: expected a clause and ")"`)
			}
		}
	}
	if isKeywordKind(t.kind) {
		return p.errAt(t, "expected a clause such as project = PRJ, found "+found+
			" (quote it if it is a field name)")
	}
	return p.errAt(t, "expected a clause such as project = PRJ, found "+found)
}

// field parses a field name into f: a bare word, a quoted name or a field
// reference such as cf[10014].
func (p *parser) field(f *Field) {
	t := p.advance()
	f.Span = Span{t.pos, t.end}
	if t.kind == tokField {
		f.Name = fieldName(t.text, true)
		f.Arg = t.ref.arg
		f.ArgSpan = Span{t.ref.argPos, t.ref.argEnd}
		f.Path = t.ref.path
	} else {
		f.Name = fieldName(t.text, false)
	}
}

func (p *parser) clause() (Expr, *Error) {
	// One allocation for the clause and its field.
	n := new(struct {
		c Clause
		f Field
	})
	c := &n.c
	c.Field = &n.f
	p.field(c.Field)
	t := p.advance()
	c.OpSpan = Span{t.pos, t.end}
	switch t.kind {
	case tokEq:
		c.Op = Eq
	case tokNotEq:
		c.Op = NotEq
	case tokLike:
		c.Op = Like
	case tokNotLike:
		c.Op = NotLike
	case tokLt:
		c.Op = Lt
	case tokGt:
		c.Op = Gt
	case tokLe:
		c.Op = Le
	case tokGe:
		c.Op = Ge
	case tokIn:
		c.Op = In
	case tokNot:
		if n := p.peek(); n.kind != tokIn {
			return nil, p.errAt(n, `expected IN after NOT, found `+n.describe(p.src)+`: write NOT IN (...)`)
		}
		c.Op, c.OpSpan.Stop = NotIn, p.advance().end
	case tokIs:
		c.Op = Is
		if p.peek().kind == tokNot {
			c.Op, c.OpSpan.Stop = IsNot, p.advance().end
		}
	case tokWas:
		c.Op = Was
		if p.peek().kind == tokNot {
			c.Op, c.OpSpan.Stop = WasNot, p.advance().end
		}
		if p.peek().kind == tokIn {
			c.OpSpan.Stop = p.advance().end
			if c.Op == Was {
				c.Op = WasIn
			} else {
				c.Op = WasNotIn
			}
		}
	case tokChanged:
		c.Op = Changed
	default:
		return nil, p.errAt(t, "expected an operator after "+quote(c.Field.String())+
			" (=, !=, IN or NOT IN), found "+t.describe(p.src))
	}
	if c.Op != Changed {
		v, err := p.operand(c.Op.String(), c.Op.takesList(), t)
		if err != nil {
			return nil, err
		}
		c.Value = v
	}
	if c.Op == Was || c.Op == WasNot || c.Op == WasIn || c.Op == WasNotIn || c.Op == Changed {
		preds, err := p.predicates()
		if err != nil {
			return nil, err
		}
		c.Predicates = preds
	}
	return c, nil
}

// operand parses what follows the operator opName (token opTok): a
// list or a function when list is set, else also a single value or EMPTY.
func (p *parser) operand(opName string, list bool, opTok token) (Operand, *Error) {
	t := p.peek()
	if list {
		switch {
		case t.kind == tokLParen:
			return p.list(opName)
		case p.isFuncStart():
			return p.funcCall()
		case t.kind == tokEOF:
			return nil, p.errAt(opTok, opName+" needs a list in parentheses, such as (PRJ, OPS)")
		}
		return nil, p.errAt(t, opName+" needs a list in parentheses, such as (PRJ, OPS); found "+t.describe(p.src))
	}
	switch t.kind {
	case tokLParen:
		return p.list(opName)
	case tokEOF:
		return nil, p.errAt(opTok, "missing value after "+quote(opName)+`: expected a value such as PRJ or "In Progress"`)
	}
	return p.value(opName, false)
}

// value parses one value: a word, a string, EMPTY, NULL or a function
// call. Anything else is an error that says a value was expected after the
// operator opName or, with inList, in the list.
func (p *parser) value(opName string, inList bool) (Operand, *Error) {
	t := p.peek()
	switch t.kind {
	case tokWord:
		if p.isFuncStart() {
			return p.funcCall()
		}
		fallthrough
	case tokString:
		p.advance()
		return &Value{Span: Span{t.pos, t.end}, Text: t.text}, nil
	case tokEmpty, tokNull:
		p.advance()
		return &Empty{Span: Span{t.pos, t.end}, Null: t.kind == tokNull}, nil
	}
	where := "after " + quote(opName)
	if inList {
		where = "in the list"
	}
	msg := "expected a value " + where + ", found " + t.describe(p.src)
	if isKeywordKind(t.kind) {
		if hint := p.quoteHint(p.i); hint != "" {
			return nil, p.errAt(t, msg+hint)
		}
		msg += " (quote it if it is a value)"
	}
	return nil, p.errAt(t, msg)
}

// isFuncStart reports whether a function call starts here: a plain word
// (no escapes) followed by "(".
func (p *parser) isFuncStart() bool {
	t := p.peek()
	return t.kind == tokWord && p.src[t.pos:t.end] == t.text && p.peek2().kind == tokLParen
}

func (p *parser) funcCall() (Operand, *Error) {
	name := p.advance()
	lp := p.advance()
	fn := &Func{Span: Span{Start: name.pos}, Name: name.text}
	if p.peek().kind == tokRParen {
		fn.Stop = p.advance().end
		return fn, nil
	}
	for {
		t := p.peek()
		switch t.kind {
		case tokWord, tokString:
			p.advance()
			fn.Args = append(fn.Args, &Value{Span: Span{t.pos, t.end}, Text: t.text})
		case tokEOF:
			return nil, p.errAt(lp, `"(" is never closed: expected ")"`)
		default:
			return nil, p.errAt(t, "expected an argument of "+name.text+"(), found "+t.describe(p.src))
		}
		switch t := p.peek(); t.kind {
		case tokComma:
			p.advance()
		case tokRParen:
			fn.Stop = p.advance().end
			return fn, nil
		case tokEOF:
			return nil, p.errAt(lp, `"(" is never closed: expected ")"`)
		default:
			return nil, p.errAt(t, `expected "," or ")" in the arguments of `+name.text+"(), found "+t.describe(p.src))
		}
	}
}

// list parses a parenthesised list for the operator named opName.
func (p *parser) list(opName string) (Operand, *Error) {
	lp := p.advance()
	l := &List{Span: Span{Start: lp.pos}}
	if t := p.peek(); t.kind == tokRParen {
		return nil, p.errAt(t, "empty list: "+opName+" needs at least one value")
	}
	for {
		switch t := p.peek(); t.kind {
		case tokComma:
			return nil, p.errAt(t, `unexpected ",": expected a value`)
		case tokRParen:
			// Only reachable after a comma: the empty list is handled above.
			return nil, p.errAt(p.toks[p.i-1], `trailing ",": expected a value after it, or remove it`)
		case tokEOF:
			return nil, p.errAt(lp, `"(" is never closed: expected ")"`)
		}
		it, err := p.value(opName, true)
		if err != nil {
			return nil, err
		}
		l.Items = append(l.Items, it)
		switch t := p.peek(); t.kind {
		case tokComma:
			p.advance()
		case tokRParen:
			l.Stop = p.advance().end
			return l, nil
		case tokEOF:
			return nil, p.errAt(lp, `"(" is never closed: expected ")"`)
		default:
			return nil, p.errAt(t, `expected "," or ")" in the list, found `+t.describe(p.src)+p.quoteHint(p.i-1))
		}
	}
}

// predicateNames are the history predicates of WAS and CHANGED. BY is a
// keyword; the others are ordinary words in JQL.
var predicateNames = map[string]bool{
	"BY": true, "AFTER": true, "BEFORE": true, "ON": true, "DURING": true, "FROM": true, "TO": true,
}

func (p *parser) predicates() ([]*Predicate, *Error) {
	var preds []*Predicate
	for {
		t := p.peek()
		if t.kind != tokBy && t.kind != tokWord {
			return preds, nil
		}
		name := strings.ToUpper(t.text)
		if !predicateNames[name] {
			return preds, nil
		}
		p.advance()
		v, err := p.operand(name, false, t)
		if err != nil {
			return nil, err
		}
		preds = append(preds, &Predicate{Span: Span{t.pos, t.end}, Name: name, Value: v})
	}
}

// orderBy parses ORDER BY and its keys after the filter x (which may be nil).
func (p *parser) orderBy(x Expr) (Expr, *Error) {
	order := p.advance()
	if t := p.peek(); t.kind != tokBy {
		return nil, p.errAt(t, "expected BY after ORDER, found "+t.describe(p.src))
	}
	by := p.advance()
	ob := &OrderBy{X: x, Order: Span{Start: order.pos, Stop: by.end}}
	for {
		t := p.peek()
		switch t.kind {
		case tokWord, tokString, tokField:
		case tokEOF:
			if len(ob.Keys) == 0 {
				return nil, p.errAt(by, "expected a field to sort by after ORDER BY")
			}
			return nil, p.errAt(p.toks[p.i-1], `trailing ",": expected a field after it, or remove it`)
		default:
			return nil, p.errAt(t, "expected a field to sort by, found "+t.describe(p.src))
		}
		k := &SortKey{Field: new(Field)}
		p.field(k.Field)
		ob.Order.Stop = k.Field.End()
		if d := p.peek(); d.kind == tokWord && (strings.EqualFold(d.text, "ASC") || strings.EqualFold(d.text, "DESC")) {
			p.advance()
			k.Dir, k.DirSpan = strings.ToUpper(d.text), Span{d.pos, d.end}
			ob.Order.Stop = d.end
		}
		ob.Keys = append(ob.Keys, k)
		if p.peek().kind != tokComma {
			return ob, nil
		}
		p.advance()
	}
}
