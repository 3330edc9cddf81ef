// Package root builds the jwh command tree.
package root

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jwh-cli/jwh/internal/cmd/api"
	deletecmd "github.com/jwh-cli/jwh/internal/cmd/delete"
	"github.com/jwh-cli/jwh/internal/cmd/demo"
	"github.com/jwh-cli/jwh/internal/cmd/extend"
	"github.com/jwh-cli/jwh/internal/cmd/failed"
	"github.com/jwh-cli/jwh/internal/cmd/list"
	"github.com/jwh-cli/jwh/internal/cmd/listen"
	"github.com/jwh-cli/jwh/internal/cmd/register"
	"github.com/jwh-cli/jwh/internal/cmd/sandbox"
	"github.com/jwh-cli/jwh/internal/cmd/tenant"
	"github.com/jwh-cli/jwh/internal/cmd/token"
	"github.com/jwh-cli/jwh/internal/cmd/trigger"
	"github.com/jwh-cli/jwh/internal/cmd/validate"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/output"
)

// NewCmdRoot returns the root command with every subcommand attached.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	if f.Global == nil {
		f.Global = &cmdutil.GlobalFlags{}
	}
	cmd := &cobra.Command{
		Use:   "jwh <command> [flags]",
		Short: "Manage Jira dynamic webhooks for Atlassian Connect apps",
		Long: `jwh registers, lists, extends and deletes Jira Cloud dynamic webhooks for an
Atlassian Connect app, signing every request with the tenant's Connect JWT.
It checks JQL filters offline, receives and verifies deliveries (jwh listen),
and ships a local Jira stand-in (jwh sandbox, jwh demo).

Exit status: 0 success; 1 the operation failed (Jira answered with an error,
some webhooks were refused, or the network failed: a request is tried up to
4 times within 2 minutes on 429, 503, a dropped or refused connection or a
time-out, except a registration that may have reached Jira, which is sent
once); 2 bad input (usage, JQL, event, URL or file), nothing was sent; 3
credentials (no such tenant, no secret, or Jira answered 401/403); 130
interrupted.

Environment: JWH_SHARED_SECRET (the selected tenant's shared secret, instead of
the keyring), JWH_TENANT (the tenant to use), JWH_CONFIG (the config file),
JWH_TIMEOUT and JWH_TOTAL_TIMEOUT (how long one attempt of a request, and a
request with its retries, may take: 30s and 2m), NO_COLOR (no colour).`,
		Example: `  jwh tenant import acme --file installed.json
  jwh register --url https://app.example.com/hook --jql 'project = PRJ' --event jira:issue_updated
  jwh list
  jwh extend --all --quiet      # from cron`,
		// Args and RunE make an unknown command a usage error (exit 2),
		// which cobra would otherwise report as a plain failure (exit 1).
		Args:                       unknownCommand,
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       f.Version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch f.Global.Output {
			case "table", "json":
				return nil
			}
			return cmdutil.UsageErrorf("invalid value %q for --output: use table or json", f.Global.Output)
		},
	}
	cmd.SetVersionTemplate(versionLine(f.Version) + "\n")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: flagValueError(err)}
	})
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetIn(f.IOStreams.In)

	pf := cmd.PersistentFlags()
	pf.StringVarP(&f.Global.Tenant, "tenant", "t", "", "tenant `name` (default: $JWH_TENANT, the default tenant, or the only one)")
	pf.StringVarP(&f.Global.Output, "output", "o", "table", "output `format`: table or json")
	pf.BoolVar(&f.Global.Debug, "debug", false, "print every HTTP exchange on stderr (Authorization redacted)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))

	cmd.AddCommand(
		newCmdVersion(f),
		newCmdCompletion(f),
		tenant.NewCmdTenant(f),
		validate.NewCmdValidate(f, nil),
		register.NewCmdRegister(f, nil),
		list.NewCmdList(f, nil),
		deletecmd.NewCmdDelete(f, nil),
		extend.NewCmdExtend(f, nil),
		failed.NewCmdFailed(f, nil),
		api.NewCmdAPI(f, nil),
		token.NewCmdToken(f),
		listen.NewCmdListen(f),
		sandbox.NewCmdSandbox(f),
		trigger.NewCmdTrigger(f, nil),
		demo.NewCmdDemo(f, NewCmdRoot),
	)
	return cmd
}

// unknownCommand refuses an argument of the root command: it can only be
// a mistyped command name.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += ": did you mean " + strings.Join(s, " or ") + "?"
	}
	return cmdutil.UsageErrorf("%s", msg)
}

// flagValueError rewords pflag's error for a flag value that does not
// parse as its type, which carries Go's parser message (strconv.ParseInt:
// parsing "x": invalid syntax), into what to give instead.
func flagValueError(err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) || ive.GetFlag() == nil {
		return err
	}
	var want string
	var numErr *strconv.NumError
	switch typ := ive.GetFlag().Value.Type(); {
	case typ == "duration":
		want = "a duration such as 30s, 5m or 1h"
	case errors.As(ive, &numErr) && strings.HasPrefix(typ, "float"):
		want = "a number"
	case errors.As(ive, &numErr) && numErr.Err == strconv.ErrRange:
		want = "a smaller number"
	case errors.As(ive, &numErr):
		want = "a whole number"
	default:
		return err
	}
	return fmt.Errorf("invalid value %q for --%s: use %s", ive.GetValue(), ive.GetFlag().Name, want)
}

func newCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of jwh",
		Long: `Print the version of jwh, with the commit, build date, Go version and
platform when they are known.

With -o json, prints {"version", "commit", "date", "go", "os", "arch"}
("commit" and "date" are empty when unknown).`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.JSON() {
				return output.JSON(f.IOStreams.Out, versionInfo(f.Version))
			}
			_, err := fmt.Fprintln(f.IOStreams.Out, versionLine(f.Version))
			return err
		},
	}
}
