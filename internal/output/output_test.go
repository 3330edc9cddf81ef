package output

import (
	"testing"

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

func TestTableTerminal(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	ios.SetStdoutTTY(true)
	tb := NewTable(ios, "ID", "EVENTS")
	tb.AddRow("1000", "jira:issue_created")
	tb.AddRow("12", "comment_created")
	if err := tb.Render(); err != nil {
		t.Fatal(err)
	}
	want := "ID    EVENTS              \n" +
		"1000  jira:issue_created  \n" +
		"12    comment_created     \n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}
