package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalStopsARunningCommand: Ctrl-C (SIGINT) or SIGTERM sent to a
// running command cancels its context, and jwh ends with status 130 and
// its own words, not killed by the signal. jwh asks for the signals only
// once a command starts to run; jwh listen has when it prints "Ready".
func TestSignalStopsARunningCommand(t *testing.T) {
	bin := buildJWH(t)
	env := cleanEnv(filepath.Join(t.TempDir(), "config.json"))
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "listen", "--addr", "127.0.0.1:0", "--no-verify")
			cmd.Env = env
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			var errOut bytes.Buffer
			lines := bufio.NewReader(io.TeeReader(stderr, &errOut))
			line, err := lines.ReadString('\n')
			if !strings.HasPrefix(line, "Ready!") {
				t.Fatalf("jwh listen's first line on stderr is %q (%v), want Ready!", line, err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, lines)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				t.Fatalf("jwh listen did not end within a minute of %v\nstderr: %s", sig, errOut.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 130 {
				t.Fatalf("jwh listen ended with %v after %v, want exit status 130\nstderr: %s", err, sig, errOut.String())
			}
			if !strings.Contains(errOut.String(), "Stopped after") {
				t.Errorf("stderr %q does not say that the listener stopped", errOut.String())
			}
		})
	}
}
