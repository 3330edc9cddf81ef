package output

import (
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/jwh-cli/jwh/internal/iostreams"
)

func TestTablePiped(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	tb := NewTable(ios, "ID", "EVENTS", "JQL")
	tb.AddRow("1000", "jira:issue_created", "project = A\tB")
	tb.AddRow("1001")
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	want := "1000\tjira:issue_created\tproject = A B\n1001\t\t\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// TestTableTerminal pins the layout of a table on a terminal: a header,
// left-aligned columns as wide as their widest line (in terminal cells),
// two spaces after each. In an East Asian locale (LANG=ja_JP.UTF-8 and the
// like) tablewriter counts the characters of ambiguous width (±, °, Ω, a
// combining accent) as two cells wide; the test pins the layout of every
// other locale, whatever locale it runs in.
func TestTableTerminal(t *testing.T) {
	if twwidth.IsEastAsian() {
		twwidth.SetEastAsian(false)
		t.Cleanup(func() { twwidth.SetEastAsian(true) })
	}
	tests := []struct {
		name    string
		headers []string
		rows    [][]string
		want    string
	}{
		{
			name:    "ascii",
			headers: []string{"ID", "EVENTS"},
			rows:    [][]string{{"1000", "jira:issue_created"}, {"12", "comment_created"}},
			want: "ID    EVENTS              \n" +
				"1000  jira:issue_created  \n" +
				"12    comment_created     \n",
		},
		{
			name:    "no rows",
			headers: []string{"ID", "JQL"},
			want:    "ID  JQL  \n",
		},
		{
			name:    "empty and missing cells, extra cells dropped",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"1"}, {"", ""}, {"2", "x", "dropped"}},
			want:    "ID  JQL  \n1        \n         \n2   x    \n",
		},
		{
			name:    "spaces kept",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"1", "  lead"}, {"2", "trail  "}},
			want:    "ID  JQL      \n1     lead   \n2   trail    \n",
		},
		{
			name:    "wide characters take two cells",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"1", "日本語"}, {"2", "abc"}},
			want:    "ID  JQL     \n1   日本語  \n2   abc     \n",
		},
		{
			name:    "combining marks take none",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"1", "café"}, {"2", "cafe\u0301"}},
			want:    "ID  JQL   \n1   café  \n2   cafe\u0301  \n",
		},
		{
			name:    "emoji, counted rune by rune",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"1", "👍"}, {"2", "👨\u200d👩\u200d👧"}, {"3", "🇫🇷"}},
			want:    "ID  JQL     \n1   👍      \n2   👨\u200d👩\u200d👧  \n3   🇫🇷    \n",
		},
		{
			name:    "ambiguous width is narrow",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"1", "±°→Ω"}, {"2", "Готово"}},
			want:    "ID  JQL     \n1   ±°→Ω    \n2   Готово  \n",
		},
		{
			name:    "zero width and control characters",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"1", "a\u200bb"}, {"2", "\u00ad"}, {"3", "a\rb"}, {"4", "a\x00b"}},
			want:    "ID  JQL  \n1   a\u200bb   \n2   \u00ad     \n3   a\rb   \n4   a\x00b   \n",
		},
		{
			name:    "a cell with new lines takes a line each",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"1", "a\nbb\nccc"}, {"22", "x"}},
			want:    "ID  JQL  \n1   a    \n    bb   \n    ccc  \n22  x    \n",
		},
		{
			name:    "blank lines after a row's first are left out",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"a\n\nc", "x\n\nz"}, {"1", "a\n"}, {"2", "\n\nq"}, {"3", "p\n \nq"}},
			want:    "ID  JQL  \na   x    \nc   z    \n1   a    \n2        \n    q    \n3   p    \n         \n    q    \n",
		},
		{
			name:    "a blank first line is kept",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"", "\nb"}},
			want:    "ID  JQL  \n         \n    b    \n",
		},
		{
			name:    "tabs around a cell are trimmed",
			headers: []string{"ID", "JQL"},
			rows:    [][]string{{"1", "\ta\t"}, {"2", "\t b"}},
			want:    "ID  JQL  \n1   a    \n2    b   \n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			ios.SetStdoutTTY(true)
			tb := NewTable(ios, tt.headers...)
			for _, row := range tt.rows {
				tb.AddRow(row...)
			}
			if err := tb.Render(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", out.String(), tt.want)
			}
		})
	}
}
