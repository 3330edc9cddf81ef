package jql

import (
	"fmt"
	"strings"
	"testing"
)

// tok abbreviates a token in lexTests: kind, decoded text, byte span.
type tok struct {
	kind     kind
	text     string
	pos, end int
}

var kindNames = map[kind]string{
	tokEOF: "EOF", tokIllegal: "ILLEGAL", tokWord: "WORD", tokString: "STRING", tokField: "FIELD",
	tokLParen: "(", tokRParen: ")", tokComma: ",", tokEq: "=", tokNotEq: "!=", tokLike: "~", tokNotLike: "!~",
	tokLt: "<", tokGt: ">", tokLe: "<=", tokGe: ">=", tokBang: "!",
	tokAnd: "AND", tokOr: "OR", tokNot: "NOT", tokIn: "IN", tokIs: "IS", tokWas: "WAS", tokChanged: "CHANGED",
	tokEmpty: "EMPTY", tokNull: "NULL", tokOrder: "ORDER", tokBy: "BY",
}

func (k kind) String() string { return kindNames[k] }

func (t tok) String() string { return fmt.Sprintf("%v %q [%d,%d)", t.kind, t.text, t.pos, t.end) }

var lexTests = []struct {
	name string
	src  string
	want []tok
}{
	{"empty", "", []tok{{tokEOF, "", 0, 0}}},
	{"spaces", " \t\n", []tok{{tokEOF, "", 3, 3}}},
	{"clause", "project = PRJ", []tok{
		{tokWord, "project", 0, 7}, {tokEq, "=", 8, 9}, {tokWord, "PRJ", 10, 13}, {tokEOF, "", 13, 13}}},
	{"no spaces", "project=PRJ", []tok{
		{tokWord, "project", 0, 7}, {tokEq, "=", 7, 8}, {tokWord, "PRJ", 8, 11}, {tokEOF, "", 11, 11}}},
	{"operators", "= != ~ !~ < > <= >= !", []tok{
		{tokEq, "=", 0, 1}, {tokNotEq, "!=", 2, 4}, {tokLike, "~", 5, 6}, {tokNotLike, "!~", 7, 9},
		{tokLt, "<", 10, 11}, {tokGt, ">", 12, 13}, {tokLe, "<=", 14, 16}, {tokGe, ">=", 17, 19},
		{tokBang, "!", 20, 21}, {tokEOF, "", 21, 21}}},
	{"keywords any case", "and OR Not iN is WAS changed Empty null ORDER by", []tok{
		{tokAnd, "and", 0, 3}, {tokOr, "OR", 4, 6}, {tokNot, "Not", 7, 10}, {tokIn, "iN", 11, 13},
		{tokIs, "is", 14, 16}, {tokWas, "WAS", 17, 20}, {tokChanged, "changed", 21, 28},
		{tokEmpty, "Empty", 29, 34}, {tokNull, "null", 35, 39}, {tokOrder, "ORDER", 40, 45},
		{tokBy, "by", 46, 48}, {tokEOF, "", 48, 48}}},
	{"symbolic connectives", "a && b || c & d | e", []tok{
		{tokWord, "a", 0, 1}, {tokAnd, "&&", 2, 4}, {tokWord, "b", 5, 6}, {tokOr, "||", 7, 9},
		{tokWord, "c", 10, 11}, {tokAnd, "&", 12, 13}, {tokWord, "d", 14, 15}, {tokOr, "|", 16, 17},
		{tokWord, "e", 18, 19}, {tokEOF, "", 19, 19}}},
	{"keyword prefixes are words", "android order_by inx", []tok{
		{tokWord, "android", 0, 7}, {tokWord, "order_by", 8, 16}, {tokWord, "inx", 17, 20}, {tokEOF, "", 20, 20}}},
	{"punctuation", "(a, b)", []tok{
		{tokLParen, "(", 0, 1}, {tokWord, "a", 1, 2}, {tokComma, ",", 2, 3}, {tokWord, "b", 4, 5},
		{tokRParen, ")", 5, 6}, {tokEOF, "", 6, 6}}},
	{"word characters", "PRJ-12 557058:f581-b67d a.b_c 10000 -1 Café", []tok{
		{tokWord, "PRJ-12", 0, 6}, {tokWord, "557058:f581-b67d", 7, 23}, {tokWord, "a.b_c", 24, 29},
		{tokWord, "10000", 30, 35}, {tokWord, "-1", 36, 38}, {tokWord, "Café", 39, 44}, {tokEOF, "", 44, 44}}},
	{"double quotes", `"In Progress"`, []tok{{tokString, "In Progress", 0, 13}, {tokEOF, "", 13, 13}}},
	{"single quotes", `'In Progress'`, []tok{{tokString, "In Progress", 0, 13}, {tokEOF, "", 13, 13}}},
	{"other quote inside", `"Won't" 'say "hi"'`, []tok{
		{tokString, "Won't", 0, 7}, {tokString, `say "hi"`, 8, 18}, {tokEOF, "", 18, 18}}},
	{"empty string", `""`, []tok{{tokString, "", 0, 2}, {tokEOF, "", 2, 2}}},
	{"escapes", `"a\"b\'c\\d\te\nf\rg\ h\u00e9"`, []tok{
		{tokString, "a\"b'c\\d\te\nf\rg h\u00e9", 0, 30}, {tokEOF, "", 30, 30}}},
	{"escaped quote in single quotes", `'Won\'t'`, []tok{{tokString, "Won't", 0, 8}, {tokEOF, "", 8, 8}}},
	{"escape in a bare word", `In\ Progress x`, []tok{
		{tokWord, "In Progress", 0, 12}, {tokWord, "x", 13, 14}, {tokEOF, "", 14, 14}}},
	{"escaped keyword is a word", `\u0041ND`, []tok{{tokWord, "AND", 0, 8}, {tokEOF, "", 8, 8}}},
	{"custom field", "cf[10014] = PRJ-1", []tok{
		{tokField, "cf", 0, 9}, {tokEq, "=", 10, 11}, {tokWord, "PRJ-1", 12, 17}, {tokEOF, "", 17, 17}}},
	{"property", "issue.property[support].team.name", []tok{
		{tokField, "issue.property", 0, 33}, {tokEOF, "", 33, 33}}},
	{"unicode offsets are bytes", "status = é AND", []tok{
		{tokWord, "status", 0, 6}, {tokEq, "=", 7, 8}, {tokWord, "é", 9, 11}, {tokAnd, "AND", 12, 15},
		{tokEOF, "", 15, 15}}},
	{"non-breaking space separates", "a\u00a0b", []tok{
		{tokWord, "a", 0, 1}, {tokWord, "b", 3, 4}, {tokEOF, "", 4, 4}}},
	{"unterminated string", `status = "Done`, []tok{
		{tokWord, "status", 0, 6}, {tokEq, "=", 7, 8}, {tokIllegal, "unterminated string: no closing \"", 9, 10}}},
	{"unterminated single-quoted string", `'Done`, []tok{{tokIllegal, "unterminated string: no closing '", 0, 1}}},
	{"bad escape", `"a\qb"`, []tok{{tokIllegal, `invalid escape "\q": JQL knows \", \', \\, \t, \n, \r, "\ " (space) and \uXXXX`, 2, 4}}},
	{"bad escape of a control character", "\"a\\\x01\"", []tok{{tokIllegal, `invalid escape "\\\x01": JQL knows \", \', \\, \t, \n, \r, "\ " (space) and \uXXXX`, 2, 4}}},
	{"short unicode escape", `"\u12"`, []tok{{tokIllegal, `invalid escape: \u needs four hex digits of a valid code point, as in \u00e9`, 1, 6}}},
	{"surrogate escape", `"\ud800"`, []tok{{tokIllegal, `invalid escape: \u needs four hex digits of a valid code point, as in \u00e9`, 1, 7}}},
	{"backslash at the end", `a\`, []tok{{tokIllegal, `unfinished escape: "\" ends the filter`, 1, 2}}},
	{"reserved character", "a@b", []tok{
		{tokWord, "a", 0, 1}, {tokIllegal, `reserved character "@": put a value that contains it in quotes`, 1, 2}}},
	{"control character", "a \x01", []tok{
		{tokWord, "a", 0, 1}, {tokIllegal, `unexpected character '\x01'`, 2, 3}}},
	{"stray bracket", "[1]", []tok{{tokIllegal, `unexpected "[": brackets belong right after a field name, as in cf[10014] or issue.property[key]`, 0, 1}}},
	{"empty brackets", "cf[]", []tok{{tokIllegal, "empty brackets: expected a custom field id or a property key, as in cf[10014] or issue.property[key]", 2, 4}}},
	{"unclosed bracket", "cf[10014", []tok{{tokIllegal, `"[" is never closed: expected "]"`, 2, 3}}},
	{"space in brackets", "cf[ 1]", []tok{{tokIllegal, `expected "]" after "cf[", found " "`, 3, 4}}},
	{"empty path segment", "issue.property[a]. = 1", []tok{{tokIllegal, `expected a property path after "."`, 17, 18}}},
}

func TestLex(t *testing.T) {
	for _, tt := range lexTests {
		t.Run(tt.name, func(t *testing.T) {
			var got []tok
			for _, tk := range lex(tt.src) {
				got = append(got, tok{tk.kind, tk.text, tk.pos, tk.end})
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("lex(%q)\n got  %v\n want %v", tt.src, got, tt.want)
			}
		})
	}
}

func TestLexFieldReference(t *testing.T) {
	tests := []struct {
		src            string
		name, arg      string
		argPos, argEnd int
		path           []string
	}{
		{"cf[10014]", "cf", "10014", 3, 8, nil},
		{"CF[10014]", "CF", "10014", 3, 8, nil},
		{`cf["10014"]`, "cf", "10014", 3, 10, nil},
		{"issue.property[support]", "issue.property", "support", 15, 22, nil},
		{"issue.property[support].team.name", "issue.property", "support", 15, 22, []string{"team", "name"}},
		{`issue.property['my key'].a`, "issue.property", "my key", 15, 23, []string{"a"}},
		{"issue.property[com.acme:prop-1].x_y", "issue.property", "com.acme:prop-1", 15, 30, []string{"x_y"}},
	}
	for _, tt := range tests {
		toks := lex(tt.src)
		if len(toks) != 2 || toks[0].kind != tokField {
			t.Errorf("lex(%q) = %v, want one field reference", tt.src, toks)
			continue
		}
		f, r := toks[0], toks[0].ref
		if f.text != tt.name || r.arg != tt.arg || r.argPos != tt.argPos || r.argEnd != tt.argEnd ||
			strings.Join(r.path, ".") != strings.Join(tt.path, ".") || f.pos != 0 || f.end != len(tt.src) {
			t.Errorf("lex(%q) = name %q arg %q [%d,%d) path %q span [%d,%d); want name %q arg %q [%d,%d) path %q span [0,%d)",
				tt.src, f.text, r.arg, r.argPos, r.argEnd, r.path, f.pos, f.end,
				tt.name, tt.arg, tt.argPos, tt.argEnd, tt.path, len(tt.src))
		}
	}
}
