package root

import (
	"errors"
	"testing"

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
