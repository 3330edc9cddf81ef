package cmdtest

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
)

func TestSplit(t *testing.T) {
	for line, want := range map[string][]string{
		"":                              {},
		"  --all   -q ":                 {"--all", "-q"},
		"--jql 'project = A' -o json":   {"--jql", "project = A", "-o", "json"},
		`--jql "it's" x''y ''`:          {"--jql", "it's", "xy", ""},
		`--field 'a={"b": 1}'`:          {"--field", `a={"b": 1}`},
		"--event jira:issue_created,\t": {"--event", "jira:issue_created,"},
	} {
		if got := Split(line); !slices.Equal(got, want) {
			t.Errorf("Split(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestRunHasTheGlobalFlags: a command run by Run sees the global flags
// and their check, and flag errors are usage errors.
func TestRunHasTheGlobalFlags(t *testing.T) {
	var got cmdutil.Globals
	cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, args []string) error {
		got = cmdutil.GlobalsOf(cmd)
		return nil
	}}
	if err := Run(cmd, "-t", "acme", "-o", "json", "--debug"); err != nil {
		t.Fatal(err)
	}
	if want := (cmdutil.Globals{Tenant: "acme", JSON: true, Debug: true}); got != want {
		t.Errorf("globals %+v, want %+v", got, want)
	}
	for argv, want := range map[string]string{
		"-o yaml": `invalid value "yaml" for --output: use table or json`,
		"--bogus": "unknown flag: --bogus",
	} {
		err := Run(&cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}, Split(argv)...)
		if err == nil || err.Error() != want || cmdutil.ExitCode(err) != cmdutil.ExitInput {
			t.Errorf("%s: %v, want %q (exit 2)", argv, err, want)
		}
	}
}
