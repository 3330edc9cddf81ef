package jql

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
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
	// Pad with the same white space as the line so that tabs line up.
	for _, r := range src[start:off] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	end := min(max(e.End, off), start+len(line))
	n := max(utf8.RuneCountInString(src[min(off, end):end]), 1)
	b.WriteString(strings.Repeat("^", n))
	b.WriteByte('\n')
	return b.String()
}

// locate fills in Line and Column from Offset.
func (e *Error) locate(src string) {
	off := min(max(e.Offset, 0), len(src))
	before := src[:off]
	e.Line = strings.Count(before, "\n") + 1
	e.Column = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
}

// ErrorList is every problem found in a filter, in source order.
type ErrorList []*Error

// Error returns the errors one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Render returns each error followed by its snippet (see Error.Snippet):
// what a compiler prints.
func (l ErrorList) Render(src string) string {
	var b strings.Builder
	for _, e := range l {
		b.WriteString(e.Error())
		b.WriteByte('\n')
		b.WriteString(e.Snippet(src))
	}
	return b.String()
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sortAndLocate orders the errors by position, keeping the order of errors
// at the same place, and fills in their lines and columns.
func (l ErrorList) sortAndLocate(src string) {
	slices.SortStableFunc(l, func(a, b *Error) int { return cmp.Compare(a.Offset, b.Offset) })
	for _, e := range l {
		e.locate(src)
	}
}
