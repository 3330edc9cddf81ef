package cmdutil

import (
	"errors"
	"testing"

	"github.com/spf13/cobra"
)

func TestCheckAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "127.0.0.1:0": true, ":8080": true, "[::1]:8080": true, "localhost:80": true,
		"bogus": false, "127.0.0.1": false, "127.0.0.1:99999": false, "127.0.0.1:x": false, "a b:80": false, "": false,
	} {
		err := CheckAddr("--addr", addr)
		if (err == nil) != ok {
			t.Errorf("CheckAddr(%q) = %v, want ok %v", addr, err, ok)
		}
		if err != nil && ExitCode(err) != ExitInput {
			t.Errorf("CheckAddr(%q): exit status %d, want %d", addr, ExitCode(err), ExitInput)
		}
	}
}

func TestFlagValueErrorKeepsOtherErrors(t *testing.T) {
	err := errors.New("unknown flag: --bogus")
	if got := flagValueError(err); got != err {
		t.Errorf("flagValueError(%v) = %v, want it unchanged", err, got)
	}
}

func TestNeverWaits(t *testing.T) {
	cmd := &cobra.Command{Use: "x", Annotations: map[string]string{"other": "kept"}}
	if !MayWait(cmd) || !MayWait(&cobra.Command{}) {
		t.Error("an unmarked command may not wait")
	}
	if NeverWaits(cmd) != cmd || MayWait(cmd) || cmd.Annotations["other"] != "kept" {
		t.Errorf("NeverWaits: MayWait %v, annotations %v", MayWait(cmd), cmd.Annotations)
	}
	if MayWait(NeverWaits(&cobra.Command{})) {
		t.Error("a command without annotations, marked, may wait")
	}
}
