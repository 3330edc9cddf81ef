package root

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"

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
