package cmdutil

import (
	"errors"
	"testing"
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
