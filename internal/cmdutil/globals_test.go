package cmdutil

import (
	"testing"

	"github.com/spf13/cobra"
)

// TestGlobalsOf: a command reads the global flags its root was given; one
// built without a root has the zero Globals.
func TestGlobalsOf(t *testing.T) {
	var got Globals
	sub := &cobra.Command{Use: "sub", RunE: func(cmd *cobra.Command, args []string) error {
		got = GlobalsOf(cmd)
		return nil
	}}
	root := &cobra.Command{Use: "jwh", SilenceErrors: true, SilenceUsage: true, PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return CheckGlobalFlags(cmd) }}
	AddGlobalFlags(root)
	root.AddCommand(sub)
	root.SetArgs([]string{"sub", "--tenant", "acme", "-o", "json", "--debug"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if want := (Globals{Tenant: "acme", JSON: true, Debug: true}); got != want {
		t.Errorf("GlobalsOf = %+v, want %+v", got, want)
	}
	if g := GlobalsOf(root); g != got {
		t.Errorf("GlobalsOf(root) = %+v, want %+v", g, got)
	}

	root.SetArgs([]string{"sub", "-o", "yaml"})
	if err := root.Execute(); err == nil || err.Error() != `invalid value "yaml" for --output: use table or json` || ExitCode(err) != ExitInput {
		t.Errorf("-o yaml: %v", err)
	}

	alone := &cobra.Command{Use: "sub"}
	if g := GlobalsOf(alone); g != (Globals{}) {
		t.Errorf("without a root: %+v", g)
	}
}
