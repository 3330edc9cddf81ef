package editdist

import (
	"strings"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"same", "same", 0},
		{"stauts", "status", 1}, // a transposition counts once
		{"issue_udpated", "issue_updated", 1},
		{"projet", "project", 1}, {"ca", "abc", 3}, {"issue.properties", "issue.property", 3},
		{strings.Repeat("a", 64), strings.Repeat("a", 63) + "b", 1},
		{strings.Repeat("a", 65), "a", 65}, // too long to be a typo: the longer length
	} {
		if got := Distance(tt.a, tt.b); got != tt.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}
