package jql

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a problem at one place in a filter.
type Error struct {
	Msg string
	// Offset and End delimit the offending token in bytes: [Offset, End).
	// At the end of the filter both equal its length.
	Offset, End int
	// Line and Column locate Offset, both 1-based; Column counts runes.
	Line, Column int
}

// Error returns "line:column: message".
func (e *Error) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

// Snippet returns the source line that holds the error and, under it, a
// line of carets that marks the offending token, both indented by two
// spaces and ending in a newline. src must be the filter that was checked.
func (e *Error) Snippet(src string) string {
	off := min(max(e.Offset, 0), len(src))
	start := strings.LastIndexByte(src[:off], '\n') + 1
	stop := len(src)
	if i := strings.IndexByte(src[off:], '\n'); i >= 0 {
		stop = off + i
	}
	line := strings.TrimSuffix(src[start:stop], "\r")
	var b strings.Builder
	b.WriteString("  ")
	b.WriteString(line)
	b.WriteString("\n  ")
	// Pad with the same white space as the line so that tabs line up, and
	// as wide as the characters before the token on a terminal.
	for _, r := range src[start:off] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteString("  "[:runeWidth(r)])
		}
	}
	end := min(max(e.End, off), start+len(line))
	n := 0
	for _, r := range src[min(off, end):end] {
		n += runeWidth(r)
	}
	b.WriteString(strings.Repeat("^", max(n, 1)))
	b.WriteByte('\n')
	return b.String()
}

// runeWidth returns how many columns a terminal gives r: 0 for combining
// marks and zero-width characters, 2 for East Asian wide and full-width
// characters and most emoji, 1 otherwise (tab included).
func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0x1100 && r <= 0x115f, // Hangul Jamo initial consonants
		r >= 0x2e80 && r <= 0x303e, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33ff, // kana, CJK compatibility
		r >= 0x3400 && r <= 0x4dbf, // CJK extension A
		r >= 0x4e00 && r <= 0x9fff, // CJK unified ideographs
		r >= 0xa000 && r <= 0xa4cf, // Yi
		r >= 0xac00 && r <= 0xd7a3, // Hangul syllables
		r >= 0xf900 && r <= 0xfaff, // CJK compatibility ideographs
		r >= 0xfe30 && r <= 0xfe4f, // CJK compatibility forms
		r >= 0xff00 && r <= 0xff60, // full-width forms
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, // pictographs, emoticons
		r >= 0x1f680 && r <= 0x1f6ff, // transport and map symbols
		r >= 0x1f900 && r <= 0x1f9ff, // supplemental pictographs
		r >= 0x1fa70 && r <= 0x1faff, // symbols and pictographs extended-A
		r >= 0x20000 && r <= 0x3fffd: // CJK extensions B and later
		return 2
	}
	return 1
}

// locate fills in Line and Column from Offset.
func (e *Error) locate(src string) {
	off := min(max(e.Offset, 0), len(src))
	before := src[:off]
	e.Line = strings.Count(before, "\n") + 1
	e.Column = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
}

// sortAndLocate orders errs by position, keeping the order of errors at
// the same place, and fills in their lines and columns.
func sortAndLocate(errs []*Error, src string) {
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Offset, b.Offset) })
	for _, e := range errs {
		e.locate(src)
	}
}
