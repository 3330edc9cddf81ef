// Package app runs jwh: it builds the Factory and the command tree, runs
// the command with a context that SIGINT and SIGTERM cancel, and turns the
// error it returns into a message and an exit status. It is the only place
// that decides exit statuses.
package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/build"
	"github.com/jwh-cli/jwh/internal/cmd/root"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// Main runs jwh with the process's arguments and streams and returns the
// exit status.
func Main() int {
	return MainWith(tenant.NewKeyring(tenant.DefaultKeyringTimeout))
}

// MainWith is Main with secrets for the OS keyring: the test binary gives
// the jwh processes of its scripts a keyring of their own.
func MainWith(secrets tenant.SecretStore) int {
	version, _, _ := build.Info()
	f := &cmdutil.Factory{
		IOStreams: iostreams.System(),
		Version:   version,
		Getenv:    os.Getenv,
		Now:       time.Now,
		Config:    cmdutil.LoadConfigOnce(os.Getenv),
		Secrets:   func() tenant.SecretStore { return secrets },
	}
	return Run(f, os.Args[1:])
}

// Run runs the command line args with the dependencies in f, and returns
// the exit status. An error is printed on standard error as one line
// starting with "jwh: " (a line each for the problems of a
// cmdutil.MultiError), followed for a usage error by a pointer to the
// command's help; with -o json, as one JSON object on one line,
// {"error": {"message", "exitCode", "kind"}}. Whatever the command has
// printed on standard output (such as the results it has despite the
// error) stays there.
func Run(f *cmdutil.Factory, args []string) int {
	stop := func() {}
	defer func() { stop() }()
	return run(context.Background(), f, args, func(ctx context.Context) context.Context {
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		return ctx
	})
}

// run is Run with ctx as the parent of the command's context. onRun
// derives the context of a command that starts to run, once the global
// flags are checked; Run's is one that SIGINT and SIGTERM cancel. Asking
// for the signals starts a thread and adds about a sixth to the time jwh
// --help takes, so help, --version and usage errors, which end before a
// command runs, do without, and so do the commands marked
// cmdutil.NeverWaits (docs/performance.md).
func run(ctx context.Context, f *cmdutil.Factory, args []string, onRun func(context.Context) context.Context) int {
	rootCmd := root.NewCmdRootFor(f, args)
	checkGlobals := rootCmd.PersistentPreRunE
	rootCmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := checkGlobals(cmd, args); err != nil {
			return err
		}
		if cmdutil.MayWait(cmd) {
			cmd.SetContext(onRun(cmd.Context()))
		}
		return nil
	}
	rootCmd.SetArgs(args)
	cmd, err := rootCmd.ExecuteContextC(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	code, kind := cmdutil.ExitCode(err), cmdutil.Kind(err)
	msgs := cmdutil.Messages(err)
	if cmd.Context().Err() != nil {
		code, kind, msgs = cmdutil.ExitInterrupted, cmdutil.KindInterrupted, []string{"interrupted"}
	}
	if cmdutil.IsSilent(err) {
		return code
	}
	w := f.IOStreams.ErrOut
	if cmdutil.GlobalsOf(cmd).JSON {
		printJSONError(w, strings.Join(msgs, "\n"), code, kind)
		return code
	}
	for _, msg := range msgs {
		fmt.Fprintln(w, "jwh: "+msg)
	}
	if kind == cmdutil.KindUsage {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// errorJSON is the error object of -o json.
type errorJSON struct {
	Error struct {
		Message  string `json:"message"`
		ExitCode int    `json:"exitCode"`
		Kind     string `json:"kind"`
	} `json:"error"`
}

// printJSONError writes the error object on one line.
func printJSONError(w io.Writer, msg string, code int, kind string) {
	var e errorJSON
	e.Error.Message, e.Error.ExitCode, e.Error.Kind = msg, code, kind
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(e)
}
