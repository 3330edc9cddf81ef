package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
)

// The tests of this file run the tour on a fake command tree: how it
// runs its steps, not what the steps do (demo_test.go runs the real ones).

// fakeRoot returns a command tree in which every command succeeds at once,
// except those that run: they call it with the command's context.
func fakeRoot(run func(ctx context.Context, args []string) error) func(*cmdutil.Factory) *cobra.Command {
	return func(f *cmdutil.Factory) *cobra.Command {
		return &cobra.Command{
			Use:                "jwh",
			DisableFlagParsing: true,
			SilenceErrors:      true,
			SilenceUsage:       true,
			RunE: func(cmd *cobra.Command, args []string) error {
				return run(cmd.Context(), args)
			},
		}
	}
}

// TestDemoTimeout checks that a step that hangs ends the demo when its
// time is up, with an error that says so. The step itself ends the time,
// as a deadline would, so that no earlier step can run out of it on a
// slow machine.
func TestDemoTimeout(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ios, _, _, _ := iostreams.Test()
	ctx, expire := context.WithCancelCause(context.Background())
	defer expire(nil)
	opts := &Options{
		IO:      ios,
		Timeout: time.Hour,
		NewRoot: fakeRoot(func(ctx context.Context, args []string) error {
			if args[0] == "validate" {
				expire(context.DeadlineExceeded)
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}),
	}
	err := demoRun(ctx, opts)
	if err == nil || !strings.Contains(err.Error(), "step 5 failed (jwh validate ") ||
		!strings.Contains(err.Error(), "the tour did not finish within 1h0m0s") {
		t.Errorf("error %v, want step 5 timed out", err)
	}
}

// TestDemoColour checks that on a terminal the narration is bold and the
// commands are coloured, and that a command's status is reported when it
// has printed its own account of a failure.
func TestDemoColour(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	ios, _, out, _ := iostreams.Test()
	ios.SetStdoutTTY(true)
	ios.SetColorEnabled(true)
	opts := &Options{
		IO: ios,
		NewRoot: fakeRoot(func(ctx context.Context, args []string) error {
			if args[0] == "validate" {
				return cmdutil.SilentExit(cmdutil.ExitInput)
			}
			return nil
		}),
	}
	err := demoRun(context.Background(), opts)
	if err == nil || !strings.HasSuffix(err.Error(), "step 5 failed (jwh validate --jql 'project = DEMO AND status = Done' --event jira:issue_updated): it exited with status 2 (see above)") {
		t.Errorf("error %v", err)
	}
	for _, want := range []string{
		"\x1b[90m[1/16]\x1b[0m \x1b[1mStart a Jira sandbox",
		"\x1b[36m$ jwh sandbox --retry-scale 0.0001\x1b[0m\n",
		"\x1b[36m$ jwh tenant import sandbox --file - --no-keyring\x1b[0m   \x1b[90m# the payload on stdin",
		"\x1b[90mlisten  │ \x1b[0m\x1b[32mReady!\x1b[0m",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q:\n%q", want, out.String())
		}
	}
}
