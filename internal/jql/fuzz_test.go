package jql

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that no input panics the parser, the checker or the
// evaluator; that errors point inside the source; and that a parsed filter
// prints as JQL that parses back to the same tree. The seed corpus (every
// filter of the other tests) runs with plain go test.
func FuzzParse(f *testing.F) {
	for _, src := range roundTripSources() {
		f.Add(src)
	}
	for _, tt := range goldenTests {
		f.Add(tt.src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := parse(src)
		if err != nil {
			checkErrorSpan(t, src, err)
		} else {
			checkRoundTrip(t, src)
		}

		q, list := Validate(src)
		if (q == nil) == (list == nil) {
			t.Fatalf("Validate(%q) = %v, %v: want a query or errors", src, q, list)
		}
		if err != nil && (len(list) != 1 || list[0].Error() != err.Error()) {
			t.Fatalf("Validate(%q) = %v, want parse's one syntax error %v", src, list, err)
		}
		for _, e := range list {
			checkErrorSpan(t, src, e)
		}
		if q == nil {
			return
		}
		canon := q.Canonical()
		q2, list2 := Validate(canon)
		if list2 != nil {
			t.Fatalf("canonical form %q of %q is invalid: %v", canon, src, list2)
		}
		if q2.Canonical() != canon {
			t.Fatalf("canonical form of %q is not stable: %q then %q", src, canon, q2.Canonical())
		}
		if q.Match(bug) != q2.Match(bug) {
			t.Fatalf("%q and its canonical form %q disagree on an issue", src, canon)
		}
	})
}

func checkErrorSpan(t *testing.T, src string, e *Error) {
	t.Helper()
	if e.Offset < 0 || e.End < e.Offset || e.End > len(src) {
		t.Fatalf("error %q on %q: span [%d,%d) outside the source", e, src, e.Offset, e.End)
	}
	if e.Line < 1 || e.Column < 1 || e.Column > utf8.RuneCountInString(src)+1 {
		t.Fatalf("error %q on %q: line %d column %d", e, src, e.Line, e.Column)
	}
	if e.Msg == "" {
		t.Fatalf("error on %q has no message", src)
	}
	_ = e.Snippet(src)
}
