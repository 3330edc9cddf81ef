// Package root builds the jwh command tree.
package root

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmd/api"
	"github.com/jwh-cli/jwh/internal/cmd/deletecmd"
	"github.com/jwh-cli/jwh/internal/cmd/demo"
	"github.com/jwh-cli/jwh/internal/cmd/extend"
	"github.com/jwh-cli/jwh/internal/cmd/failed"
	"github.com/jwh-cli/jwh/internal/cmd/historycmd"
	"github.com/jwh-cli/jwh/internal/cmd/list"
	"github.com/jwh-cli/jwh/internal/cmd/listencmd"
	"github.com/jwh-cli/jwh/internal/cmd/register"
	"github.com/jwh-cli/jwh/internal/cmd/replaycmd"
	"github.com/jwh-cli/jwh/internal/cmd/sandboxcmd"
	"github.com/jwh-cli/jwh/internal/cmd/tenantcmd"
	"github.com/jwh-cli/jwh/internal/cmd/token"
	"github.com/jwh-cli/jwh/internal/cmd/trigger"
	"github.com/jwh-cli/jwh/internal/cmd/validate"
	"github.com/jwh-cli/jwh/internal/cmdutil"
)

// NewCmdRoot returns the root command with every subcommand attached.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
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
once); 2 bad input (usage, JQL, event, URL or file, a damaged config file),
nothing was sent; 3 credentials (no such tenant, no secret, or Jira answered
401/403); 130 interrupted. Errors go to standard error, each on a line
starting with "jwh: ", or with -o json as one JSON object, {"error":
{"message", "exitCode", "kind"}}.

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
			return cmdutil.CheckGlobalFlags(cmd)
		},
	}
	cmd.SetVersionTemplate(versionLine(f.Version) + "\n")
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetIn(f.IOStreams.In)

	cmdutil.AddGlobalFlags(cmd)

	cmd.AddCommand(
		NewCmdVersion(f, nil),
		NewCmdCompletion(f, nil),
		tenantcmd.NewCmdTenant(f),
		validate.NewCmdValidate(f, nil),
		register.NewCmdRegister(f, nil),
		list.NewCmdList(f, nil),
		deletecmd.NewCmdDelete(f, nil),
		extend.NewCmdExtend(f, nil),
		failed.NewCmdFailed(f, nil),
		api.NewCmdAPI(f, nil),
		token.NewCmdToken(f, nil),
		listencmd.NewCmdListen(f, nil),
		historycmd.NewCmdHistory(f, nil),
		replaycmd.NewCmdReplay(f, nil),
		sandboxcmd.NewCmdSandbox(f, nil),
		trigger.NewCmdTrigger(f, nil),
		demo.NewCmdDemo(f, NewCmdRoot, nil),
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
