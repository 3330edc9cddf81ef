package root

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
)

func TestUnknownCommandIsUsageError(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	cmd := NewCmdRoot(&cmdutil.Factory{IOStreams: ios, Version: "1.2.3"})
	cmd.SetArgs([]string{"regster"})
	err := cmd.Execute()
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want a *cmdutil.FlagError", err, err)
	}
	if want := `unknown command "regster" for "jwh": did you mean register?`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestNewCmdVersion(t *testing.T) {
	cmdtest.Flags(t, NewCmdVersion, []cmdtest.Case[VersionOptions]{
		{Args: "", Want: VersionOptions{Version: "test"}},
		{Args: "-o json", Want: VersionOptions{Version: "test", JSON: true}},
		{Args: "extra", WantErr: `unexpected argument "extra" for "jwh version"`},
	})
}

func TestNewCmdCompletion(t *testing.T) {
	cmdtest.Flags(t, NewCmdCompletion, []cmdtest.Case[CompletionOptions]{
		{Args: "zsh", Want: CompletionOptions{Shell: "zsh"}},
		{Args: "powershell", Want: CompletionOptions{Shell: "powershell"}},
		{Args: "", WantErr: "name a shell: bash, zsh, fish or powershell"},
		{Args: "tcsh", WantErr: `unsupported shell "tcsh": use bash, zsh, fish or powershell`},
	}, cmpopts.IgnoreFields(CompletionOptions{}, "Root"))
}

// TestSubcommands: the stand-ins that NewCmdRootFor puts in place of the
// commands it does not build show what the commands would.
func TestSubcommands(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Version: "1.2.3"}
	for _, c := range subcommands() {
		cmd := c.build(f)
		if cmd.Name() != c.name || cmd.Short != c.short || !slices.Equal(cmd.Aliases, c.aliases) {
			t.Errorf("subcommands() has %q %q %q for the command %q %q %q", c.name, c.short, c.aliases, cmd.Name(), cmd.Short, cmd.Aliases)
		}
		if cmd.Hidden || cmd.Deprecated != "" || cmd.GroupID != "" || len(cmd.SuggestFor) > 0 {
			t.Errorf("%s is hidden, deprecated, in a group or has SuggestFor: its stand-in must say so too", c.name)
		}
	}
}

// TestNewCmdRootFor: the root command that NewCmdRootFor returns for a
// command line does what the whole tree does with it.
func TestNewCmdRootFor(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--help"},
		{"--version"},
		{"version"},
		{"list", "--help"},
		{"ls", "-h"},
		{"-t", "acme", "rm", "--help"},
		{"tenant", "--help"},
		{"tenant", "add", "--help"},
		{"tenant", "bogus"},
		{"help"},
		{"help", "register"},
		{"regster"},
		{"list", "--bogus"},
		{"-o", "yaml", "version"},
		{"completion", "zsh"},
		{"__complete", ""},
		{"__complete", "register", "--event", ""},
		{"__completeNoDesc", "list", "--"},
		{"validate", "--jql", "project = A AND", "--event", "jira:issue_updated"},
	} {
		run := func(newRoot func(*cmdutil.Factory) *cobra.Command) string {
			ios, _, out, errOut := iostreams.Test()
			cmd := newRoot(&cmdutil.Factory{IOStreams: ios, Version: "1.2.3"})
			cmd.SetArgs(args)
			_, err := cmd.ExecuteC()
			return fmt.Sprintf("stdout:\n%s\nstderr:\n%s\nerror: %v", out, errOut, err)
		}
		want := run(NewCmdRoot)
		got := run(func(f *cmdutil.Factory) *cobra.Command { return NewCmdRootFor(f, args) })
		if got != want {
			t.Errorf("%q: with NewCmdRootFor\n%s\n\nwith NewCmdRoot\n%s", args, got, want)
		}
	}
}

// TestNewCmdRootForBuildsOnlyTheNamedCommand: jwh's commands run with
// RunE or have subcommands; a stand-in has neither.
func TestNewCmdRootForBuildsOnlyTheNamedCommand(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Version: "1.2.3"}
	var all []string
	for _, sc := range subcommands() {
		all = append(all, sc.name)
	}
	slices.Sort(all)
	for _, tc := range []struct {
		args  []string
		built []string
	}{
		{[]string{"--help"}, nil},
		{[]string{"version"}, []string{"version"}},
		{[]string{"-t", "acme", "ls", "--expiring-within", "7d"}, []string{"list"}},
		{[]string{"tenant", "add", "acme"}, []string{"tenant"}},
		{[]string{"help", "list"}, all},
	} {
		var built []string
		for _, c := range NewCmdRootFor(f, tc.args).Commands() {
			if c.RunE != nil || c.HasSubCommands() {
				built = append(built, c.Name())
			}
		}
		if !slices.Equal(built, tc.built) {
			t.Errorf("%q: built %q, want %q", tc.args, built, tc.built)
		}
	}
}
