// Package root builds the jwh command tree.
package root

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmd/api"
	"github.com/jwh-cli/jwh/internal/cmd/deletecmd"
	"github.com/jwh-cli/jwh/internal/cmd/demo"
	"github.com/jwh-cli/jwh/internal/cmd/doctor"
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

// NewCmdRoot returns the root command with every subcommand attached, as
// the reference docs and jwh demo need it.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := newCmdRoot(f)
	for _, c := range subcommands() {
		cmd.AddCommand(c.build(f))
	}
	return cmd
}

// NewCmdRootFor returns the root command to run args with. Only the
// command that args name is built; every other one stands in with its
// name, aliases and Short text, which is all that jwh --help and the
// suggestions for a mistyped name read (building every command with its
// flags costs 0.1–0.2 ms a run: docs/performance.md). jwh help and the
// shell's __complete, which may read any command, get the whole tree.
func NewCmdRootFor(f *cmdutil.Factory, args []string) *cobra.Command {
	cmd := newCmdRoot(f)
	subs := subcommands()
	standIns := make([]*cobra.Command, len(subs))
	for i, c := range subs {
		// Run makes cobra list it among the available commands.
		standIns[i] = &cobra.Command{Use: c.name, Aliases: c.aliases, Short: c.short, Run: func(*cobra.Command, []string) {}}
		cmd.AddCommand(standIns[i])
	}
	named, _, _ := cmd.Find(args)
	all := named == cmd && slices.ContainsFunc(args, func(arg string) bool {
		return arg == "help" || strings.HasPrefix(arg, cobra.ShellCompRequestCmd)
	})
	for i, c := range subs {
		if all || standIns[i] == named {
			cmd.RemoveCommand(standIns[i])
			cmd.AddCommand(c.build(f))
		}
	}
	return cmd
}

// subcommand is a command of jwh: what its stand-in shows (the name,
// Short text and aliases of the command, written again here so that the
// stand-in needs no command built), and how to build the command itself.
type subcommand struct {
	name, short string
	aliases     []string
	build       func(*cmdutil.Factory) *cobra.Command
}

// subcommands returns jwh's commands. A command's name, Short text and
// aliases are changed in both places: TestSubcommands fails until they
// agree.
func subcommands() []subcommand {
	return []subcommand{
		{"version", "Print the version of jwh", nil, ownRun(NewCmdVersion)},
		{"completion", "Print a shell completion script", nil, ownRun(NewCmdCompletion)},
		{"tenant", "Manage the Jira sites (tenants) jwh works on", nil, tenantcmd.NewCmdTenant},
		{"validate", "Check webhook JQL filters and events offline", nil, ownRun(validate.NewCmdValidate)},
		{"register", "Register webhooks", nil, ownRun(register.NewCmdRegister)},
		{"list", "List the app's webhooks on a tenant", []string{"ls"}, ownRun(list.NewCmdList)},
		{"delete", "Delete webhooks", []string{"rm"}, ownRun(deletecmd.NewCmdDelete)},
		{"extend", "Extend the life of webhooks before they expire", nil, ownRun(extend.NewCmdExtend)},
		{"failed", "List the deliveries that Jira gave up on", nil, ownRun(failed.NewCmdFailed)},
		{"doctor", "Check a tenant's config, secrets, clock, credentials and webhooks", nil, ownRun(doctor.NewCmdDoctor)},
		{"api", "Make any Jira REST call, signed as the app", nil, ownRun(api.NewCmdAPI)},
		{"token", "Print the credentials of a request, for use with curl", nil, ownRun(token.NewCmdToken)},
		{"listen", "Receive, verify and print webhook deliveries", nil, ownRun(listencmd.NewCmdListen)},
		{"history", "List the deliveries that jwh listen --save kept", nil, ownRun(historycmd.NewCmdHistory)},
		{"replay", "Re-send saved deliveries, freshly signed", nil, ownRun(replaycmd.NewCmdReplay)},
		{"sandbox", "Run a local stand-in for Jira's webhook API", nil, ownRun(sandboxcmd.NewCmdSandbox)},
		{"trigger", "Make a jwh sandbox deliver an event to the registered webhooks", nil, ownRun(trigger.NewCmdTrigger)},
		{"demo", "Tour jwh against a local Jira sandbox, in a few seconds", nil, func(f *cmdutil.Factory) *cobra.Command { return demo.NewCmdDemo(f, NewCmdRoot, nil) }},
	}
}

// ownRun adapts a NewCmdX(f, runF) to build the command with its own run
// function.
func ownRun[O any](newCmd func(*cmdutil.Factory, func(*O) error) *cobra.Command) func(*cmdutil.Factory) *cobra.Command {
	return func(f *cmdutil.Factory) *cobra.Command { return newCmd(f, nil) }
}

// newCmdRoot returns the root command without subcommands.
func newCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jwh <command> [flags]",
		Short: "Manage Jira dynamic webhooks for Atlassian Connect and OAuth 2.0 apps",
		Long: `jwh registers, lists, extends and deletes Jira Cloud dynamic webhooks for an
Atlassian Connect app, signing every request with the tenant's Connect JWT, or
for an OAuth 2.0 (3LO) app, through Atlassian's API gateway with the bearer
token of the user who logged in (jwh tenant login). It checks JQL filters
offline, receives and verifies deliveries (jwh listen), and ships a local Jira
stand-in (jwh sandbox, jwh demo). When something fails, jwh doctor checks a
tenant and says what to fix (docs/troubleshooting.md).

Exit status: 0 success; 1 the operation failed (Jira answered with an error,
some webhooks were refused, or the network failed: a request is tried up to
4 times within 2 minutes on 429, 503, a dropped or refused connection or a
time-out, except a registration that may have reached Jira, which is sent
once); 2 bad input (usage, JQL, event, URL or file, a damaged config file),
nothing was sent; 3 credentials (no such tenant, no secret, or Jira answered
401/403); 130 interrupted. Errors go to standard error, each problem on a
line starting with "jwh: " (a usage error is followed by a pointer to the
command's --help, a problem in a JQL filter by the filter with a caret under
it), or with -o json as one JSON object, {"error": {"message", "exitCode",
"kind"}}.

Environment: JWH_SHARED_SECRET (the selected tenant's shared secret, instead of
the keyring), JWH_CLIENT_SECRET (the selected OAuth 2.0 tenant's client
secret, instead of the stored one), JWH_TENANT (the tenant to use), JWH_CONFIG
(the config file), JWH_TIMEOUT and JWH_TOTAL_TIMEOUT (how long one attempt of a
request, and a request with its retries, may take: 30s and 2m), HTTPS_PROXY and
NO_PROXY (the proxy for requests to Jira, and the hosts reached without it),
NO_COLOR (no colour), BROWSER (the command that jwh tenant login opens the
consent page with).`,
		Example: `  jwh tenant import acme --file installed.json
  jwh tenant login globex --client-id Abc123
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
	cmdutil.NeverWaits(cmd) // on its own, jwh prints its help
	cmd.SetVersionTemplate(versionLine(f.Version) + "\n")
	cmd.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	cmd.SetIn(f.IOStreams.In)

	cmdutil.AddGlobalFlags(cmd)
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
