package jql

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// stopBytes are the ASCII bytes that end a bare word: white space, quotes,
// punctuation and operators, and JQL's reserved characters. A backslash
// starts an escape and does not end a word.
const stopBytes = " \t\n\r\v\f\"'()[],=!<>~&|" + reservedBytes

// reservedBytes are characters JQL reserves: a value that holds one must be
// quoted.
const reservedBytes = "+;?*%^$#@{}/"

// wordByte[c] reports whether the ASCII byte c may appear in a bare word.
var wordByte = func() (t [utf8.RuneSelf]bool) {
	for c := 0x21; c < 0x7f; c++ { // printable ASCII; controls end a word
		t[c] = !strings.ContainsRune(stopBytes, rune(c))
	}
	return t
}()

// isWordRune reports whether r may appear unescaped in a bare word.
// utf8.RuneError stands for an invalid byte, which words carry through.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r != '\\' && wordByte[r]
	}
	return !unicode.IsSpace(r)
}

// spaceAt reports whether src[i:] starts with white space, and its width.
func spaceAt(src string, i int) (bool, int) {
	c := src[i]
	if c < utf8.RuneSelf {
		return c == ' ' || ('\t' <= c && c <= '\r'), 1
	}
	r, n := utf8.DecodeRuneInString(src[i:])
	return unicode.IsSpace(r), n
}

// lexer turns a filter into tokens. It is a plain scanner in the style of
// go/scanner: next returns one token per call, and an illegal token ends the
// stream.
type lexer struct {
	src string
	pos int
	buf strings.Builder // decodes words and strings that hold escapes
}

// lex returns every token of src, ending with tokEOF or with the first
// tokIllegal.
func lex(src string) []token {
	l := lexer{src: src}
	toks := make([]token, 0, 4+len(src)/5)
	for {
		t := l.next()
		toks = append(toks, t)
		if t.kind == tokEOF || t.kind == tokIllegal {
			return toks
		}
	}
}

func (l *lexer) illegal(pos, end int, msg string) token {
	l.pos = len(l.src)
	return token{kind: tokIllegal, pos: pos, end: end, text: msg}
}

// next scans the token that starts at or after l.pos.
func (l *lexer) next() token {
	src := l.src
	for l.pos < len(src) {
		sp, n := spaceAt(src, l.pos)
		if !sp {
			break
		}
		l.pos += n
	}
	start := l.pos
	if start >= len(src) {
		return token{kind: tokEOF, pos: start, end: start}
	}
	op := func(k kind, n int) token {
		l.pos += n
		return token{kind: k, pos: start, end: l.pos, text: src[start:l.pos]}
	}
	next := byte(0)
	if start+1 < len(src) {
		next = src[start+1]
	}
	switch c := src[start]; c {
	case '(':
		return op(tokLParen, 1)
	case ')':
		return op(tokRParen, 1)
	case ',':
		return op(tokComma, 1)
	case '=':
		return op(tokEq, 1)
	case '~':
		return op(tokLike, 1)
	case '!':
		switch next {
		case '=':
			return op(tokNotEq, 2)
		case '~':
			return op(tokNotLike, 2)
		}
		return op(tokBang, 1)
	case '<':
		if next == '=' {
			return op(tokLe, 2)
		}
		return op(tokLt, 1)
	case '>':
		if next == '=' {
			return op(tokGe, 2)
		}
		return op(tokGt, 1)
	case '&':
		if next == '&' {
			return op(tokAnd, 2)
		}
		return op(tokAnd, 1)
	case '|':
		if next == '|' {
			return op(tokOr, 2)
		}
		return op(tokOr, 1)
	case '"', '\'':
		text, end, bad := l.quoted(start)
		if bad.kind == tokIllegal {
			return bad
		}
		l.pos = end
		return token{kind: tokString, pos: start, end: end, text: text}
	case '[', ']':
		return l.illegal(start, start+1, "unexpected "+strconv.Quote(string(c))+
			": brackets belong right after a field name, as in cf[10014] or issue.property[key]")
	}
	if c := src[start]; c < utf8.RuneSelf && c != '\\' && !wordByte[c] {
		if strings.IndexByte(reservedBytes, c) >= 0 {
			return l.illegal(start, start+1, "reserved character "+strconv.Quote(string(c))+
				": put a value that contains it in quotes")
		}
		return l.illegal(start, start+1, "unexpected character "+strconv.QuoteRune(rune(c)))
	}
	return l.word(start)
}

// word scans a bare word, and a field reference when the word is followed
// directly by "[".
func (l *lexer) word(start int) token {
	src := l.src
	i := start
	escaped := false
	for i < len(src) {
		c := src[i]
		if c == '\\' {
			r, n, bad := l.escape(i)
			if bad.kind == tokIllegal {
				return bad
			}
			if !escaped {
				escaped = true
				l.buf.Reset()
				l.buf.WriteString(src[start:i])
			}
			l.buf.WriteRune(r)
			i += n
			continue
		}
		n := 1
		if c < utf8.RuneSelf {
			if !wordByte[c] {
				break
			}
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(src[i:])
			if unicode.IsSpace(r) {
				break
			}
		}
		if escaped {
			l.buf.WriteString(src[i : i+n])
		}
		i += n
	}
	l.pos = i
	if escaped {
		return token{kind: tokWord, pos: start, end: i, text: l.buf.String()}
	}
	w := src[start:i]
	if i < len(src) && src[i] == '[' {
		return l.fieldRef(start, w)
	}
	return token{kind: keyword(w), pos: start, end: i, text: w}
}

// fieldRef scans the "[arg]" and optional ".path.to.value" after the name
// of a field reference; l.pos is at the "[".
func (l *lexer) fieldRef(start int, name string) token {
	src := l.src
	lb := l.pos
	i := lb + 1
	ref := &fieldRef{argPos: i}
	t := token{kind: tokField, pos: start, text: name, ref: ref}
	if i < len(src) && (src[i] == '"' || src[i] == '\'') {
		text, end, bad := l.quoted(i)
		if bad.kind == tokIllegal {
			return bad
		}
		ref.arg, i = text, end
	} else {
		for i < len(src) && isWordRuneAt(src, i, true) {
			_, n := utf8.DecodeRuneInString(src[i:])
			i += n
		}
		ref.arg = src[ref.argPos:i]
	}
	ref.argEnd = i
	switch {
	case i >= len(src):
		return l.illegal(lb, lb+1, `"[" is never closed: expected "]"`)
	case src[i] != ']':
		_, n := utf8.DecodeRuneInString(src[i:])
		return l.illegal(i, i+n, "expected \"]\" after "+strconv.Quote(src[start:i])+
			", found "+strconv.Quote(src[i:i+n]))
	case ref.arg == "":
		return l.illegal(lb, i+1, "empty brackets: expected a custom field id or a property key, as in cf[10014] or issue.property[key]")
	}
	i++ // ]
	for i < len(src) && src[i] == '.' {
		seg := i + 1
		j := seg
		for j < len(src) && src[j] != '.' && isWordRuneAt(src, j, false) {
			_, n := utf8.DecodeRuneInString(src[j:])
			j += n
		}
		if j == seg {
			return l.illegal(i, i+1, `expected a property path after "."`)
		}
		ref.path = append(ref.path, src[seg:j])
		i = j
	}
	t.end = i
	l.pos = i
	return t
}

// isWordRuneAt reports whether the rune at src[i] may appear unescaped in a
// bare word, or, when inBrackets, in a bare bracket argument (which may hold
// any character but space, quotes, brackets and backslash).
func isWordRuneAt(src string, i int, inBrackets bool) bool {
	c := src[i]
	if c < utf8.RuneSelf {
		if inBrackets {
			return c > ' ' && c != 0x7f && !strings.ContainsRune(`"'[]\`, rune(c))
		}
		return wordByte[c]
	}
	r, _ := utf8.DecodeRuneInString(src[i:])
	return !unicode.IsSpace(r)
}

// quoted scans the string whose opening quote is at src[start]. It returns
// the decoded text and the offset just past the closing quote, or an
// illegal token.
func (l *lexer) quoted(start int) (text string, end int, bad token) {
	src := l.src
	q := src[start]
	i := start + 1
	escaped := false
	for i < len(src) {
		c := src[i]
		switch c {
		case q:
			if escaped {
				return l.buf.String(), i + 1, token{}
			}
			return src[start+1 : i], i + 1, token{}
		case '\\':
			r, n, bad := l.escape(i)
			if bad.kind == tokIllegal {
				return "", 0, bad
			}
			if !escaped {
				escaped = true
				l.buf.Reset()
				l.buf.WriteString(src[start+1 : i])
			}
			l.buf.WriteRune(r)
			i += n
			continue
		}
		if escaped {
			l.buf.WriteByte(c)
		}
		i++
	}
	return "", 0, l.illegal(start, start+1, "unterminated string: no closing "+string(q))
}

// escape decodes the backslash escape at src[i]: \" \' \\ \t \n \r,
// an escaped space, or \uXXXX.
func (l *lexer) escape(i int) (r rune, n int, bad token) {
	src := l.src
	if i+1 >= len(src) {
		return 0, 0, l.illegal(i, i+1, `unfinished escape: "\" ends the filter`)
	}
	switch c := src[i+1]; c {
	case '"', '\'', '\\', ' ':
		return rune(c), 2, token{}
	case 't':
		return '\t', 2, token{}
	case 'n':
		return '\n', 2, token{}
	case 'r':
		return '\r', 2, token{}
	case 'u':
		if i+6 <= len(src) {
			if v, err := strconv.ParseUint(src[i+2:i+6], 16, 32); err == nil && isHex4(src[i+2:i+6]) {
				r := rune(v)
				if utf8.ValidRune(r) {
					return r, 6, token{}
				}
			}
		}
		end := min(i+6, len(src))
		return 0, 0, l.illegal(i, end, `invalid escape: \u needs four hex digits of a valid code point, as in \u00e9`)
	}
	r, w := utf8.DecodeRuneInString(src[i+1:])
	what := strconv.Quote(src[i : i+1+w])
	if unicode.IsGraphic(r) && r != utf8.RuneError {
		what = `"` + src[i:i+1+w] + `"` // as written: \% rather than \\%
	}
	return 0, 0, l.illegal(i, i+1+w, "invalid escape "+what+
		`: JQL knows \", \', \\, \t, \n, \r, "\ " (space) and \uXXXX`)
}

func isHex4(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
