package jql

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenTests are filters whose rendered errors (message, source line and
// carets) are pinned in testdata/errors/<name>.golden.
var goldenTests = []struct{ name, src string }{
	{"unsupported-field", `project = PRJ AND priority = High`},
	{"every-violation", `priority = High AND labels ~ x OR assignee = currentUser() ORDER BY key`},
	{"multi-line", "project = PRJ\n  AND priority = High\n  AND status IS EMPTY"},
	{"tabs", "project = PRJ\n\tAND\tsummary ~ x"},
	{"unicode", `status = "déjà vu" AND prïority = 1`},
	{"not-prefix", `NOT (project = PRJ OR !status = Done)`},
	{"custom-field", `cf[abc] = 1 OR cf[10014].path = 2 OR customfield_10014 = PRJ-1`},
	{"issue-key", `key in (PRJ-1, PRJ, "10 01")`},
	{"list-for-equals", `project = (PRJ, OPS)`},
	{"empty", ``},
	{"order-by-only", `ORDER BY key DESC`},
	{"unclosed-paren", `(project = PRJ OR status = Done`},
	{"unclosed-quote", `project = PRJ AND status = "In Progress`},
	{"trailing-and", `project = PRJ AND`},
	{"missing-value", "project = PRJ AND status =\n"},
	{"in-without-list", `project in PRJ, OPS`},
	{"empty-list", `project in ()`},
	{"stray-comma", `project in (PRJ,,OPS)`},
	{"missing-and", `project = PRJ status = Done`},
	{"bad-escape", `status = "50\% done"`},
	{"reserved-character", `reporter = jane@example.com`},
	{"crlf", "project = PRJ\r\nAND priority = 1\r\n"},
	{"did-you-mean", `projet = PRJ AND stauts = Done`},
	{"unquoted-spaces", `project = PRJ AND status = In Progress`},
	{"null-in-list", `assignee in (5b10ac8d82e05b22cc7d4ef5, NULL) AND reporter != currentUser()`},
	{"was-changed", "status WAS Done\nOR status CHANGED FROM Open TO Done"},
	{"wide-characters", "status = \"進行中\" AND 优先级 = 高"},
	{"combining-and-emoji", "status = \"cafe\u0301 🚀\" AND prioritÿ\u0301 = 1"},
}

func TestGoldenErrors(t *testing.T) {
	for _, tt := range goldenTests {
		t.Run(tt.name, func(t *testing.T) {
			q, list := Validate(tt.src)
			if q != nil {
				t.Fatalf("Validate(%q) is valid; golden cases must fail", tt.src)
			}
			got := "-- filter --\n" + tt.src + "\n-- errors --\n" + render(list, tt.src)
			path := filepath.Join("testdata", "errors", tt.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (run go test -update if the change is right)\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

// render writes each error and its snippet, as a compiler prints them.
func render(errs []*Error, src string) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error() + "\n" + e.Snippet(src))
	}
	return b.String()
}
