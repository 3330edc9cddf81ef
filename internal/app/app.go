// Package app runs jwh: it builds the Factory and the command tree, runs
// the command with a context that a signal cancels, and turns the error it
// returns into a message and an exit status. It is the only place that
// decides exit statuses.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jwh-cli/jwh/internal/build"
	"github.com/jwh-cli/jwh/internal/cmd/root"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// Main runs jwh with the process's arguments and streams and returns the
// exit status.
func Main() int {
	version, _, _ := build.Info()
	secrets := tenant.NewKeyring(tenant.DefaultKeyringTimeout)
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

// Run runs the command line args with the dependencies in f.
func Run(f *cmdutil.Factory, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	if ctx.Err() != nil {
		if !cmdutil.IsSilent(err) {
			fmt.Fprintln(f.IOStreams.ErrOut, "interrupted")
		}
		return cmdutil.ExitInterrupted
	}
	code := cmdutil.ExitCode(err)
	if !cmdutil.IsSilent(err) {
		fmt.Fprintln(f.IOStreams.ErrOut, "jwh: "+err.Error())
		var fe *cmdutil.FlagError
		if errors.As(err, &fe) {
			c, _, ferr := cmd.Find(args)
			if ferr != nil || c == nil {
				c = cmd
			}
			fmt.Fprintf(f.IOStreams.ErrOut, "Run '%s --help' for usage.\n", c.CommandPath())
		}
	}
	return code
}
