package jql

import "strings"

// kind is the lexical class of a token.
type kind uint8

const (
	tokEOF     kind = iota
	tokIllegal      // a lexical error; token.text holds the message
	tokWord         // a bare word: PRJ, 10000, In-Progress, currentUser
	tokString       // a single- or double-quoted string
	tokField        // name[arg] with an optional .path: cf[10014], issue.property[k].a.b
	tokLParen
	tokRParen
	tokComma
	tokEq      // =
	tokNotEq   // !=
	tokLike    // ~
	tokNotLike // !~
	tokLt      // <
	tokGt      // >
	tokLe      // <=
	tokGe      // >=
	tokBang    // ! used as NOT

	// Keywords. JQL reserves these words; a value spelled like one must be quoted.
	tokAnd // AND, &&, &
	tokOr  // OR, ||, |
	tokNot
	tokIn
	tokIs
	tokWas
	tokChanged
	tokEmpty
	tokNull
	tokOrder
	tokBy
)

// token is one lexeme. pos and end are byte offsets into the source: [pos, end).
type token struct {
	kind     kind
	pos, end int
	// text is the decoded value of a word or string, the name of a field
	// reference, the raw text of an operator or keyword, or the message of an
	// illegal token.
	text string
	// ref holds the rest of a field reference, nil for other tokens: it
	// is kept out of line so that the token slice of a filter stays small.
	ref *fieldRef
}

// fieldRef is what a field reference token holds besides its name: the
// decoded bracket argument, its span, and the path segments that follow
// the closing bracket.
type fieldRef struct {
	arg            string
	argPos, argEnd int
	path           []string
}

// keywords maps the lower-case spelling of each JQL keyword to its kind.
var keywords = map[string]kind{
	"and":     tokAnd,
	"or":      tokOr,
	"not":     tokNot,
	"in":      tokIn,
	"is":      tokIs,
	"was":     tokWas,
	"changed": tokChanged,
	"empty":   tokEmpty,
	"null":    tokNull,
	"order":   tokOrder,
	"by":      tokBy,
}

// keyword returns the keyword kind of a bare word, or tokWord. JQL keywords
// are case-insensitive. It does not allocate for words of keyword length.
func keyword(w string) kind {
	if len(w) < 2 || len(w) > 7 {
		return tokWord
	}
	var buf [7]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	if k, ok := keywords[string(buf[:len(w)])]; ok {
		return k
	}
	return tokWord
}

// isKeyword reports whether a bare word would lex as a keyword.
func isKeyword(w string) bool { return keyword(w) != tokWord }

// describe names a token for an error message: the keyword or punctuation
// as written, a quoted value, or "end of filter".
func (t token) describe(src string) string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokWord, tokString, tokField:
		return quote(src[t.pos:t.end])
	case tokAnd, tokOr, tokNot, tokIn, tokIs, tokWas, tokChanged, tokEmpty, tokNull, tokOrder, tokBy:
		return strings.ToUpper(src[t.pos:t.end])
	}
	return quote(src[t.pos:t.end])
}

// isKeywordKind reports whether k is one of the keyword kinds.
func isKeywordKind(k kind) bool { return k >= tokAnd }
