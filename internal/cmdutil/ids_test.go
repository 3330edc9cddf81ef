package cmdutil

import (
	"slices"
	"testing"
)

func TestParseIDs(t *testing.T) {
	ids, err := ParseIDs([]string{"1000", "1001,1002", " 1000 ", "1003,"})
	if err != nil || !slices.Equal(ids, []int64{1000, 1001, 1002, 1003}) {
		t.Errorf("got %v, %v", ids, err)
	}
	for _, bad := range []string{"abc", "0", "-5", "1e3", "99999999999999999999"} {
		_, err := ParseIDs([]string{bad})
		if err == nil || err.Error() != `invalid webhook id "`+bad+`": ids are positive numbers, as 'jwh list' shows them` || ExitCode(err) != ExitInput {
			t.Errorf("ParseIDs(%q): %v", bad, err)
		}
	}
}
