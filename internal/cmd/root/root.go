// Package root builds the jwh command tree.
package root

import (
	"fmt"

	"github.com/spf13/cobra"

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
some webhooks were refused, the network failed after retries); 2 bad input
(usage, JQL, event, URL or file), nothing was sent; 3 credentials (no such
tenant, no secret, or Jira answered 401/403); 130 interrupted.

Environment: JWH_SHARED_SECRET (the selected tenant's shared secret, instead of
the keyring), JWH_TENANT (the tenant to use), JWH_CONFIG (the config file),
NO_COLOR (no colour).`,
		Example: `  jwh tenant import acme --file installed.json
  jwh register --url https://app.example.com/hook --jql 'project = PRJ' --event jira:issue_updated
  jwh list
  jwh extend --all --quiet      # from cron`,
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
	cmd.SetVersionTemplate("jwh version {{.Version}}\n")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
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

func newCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of jwh",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(f.IOStreams.Out, versionLine(f.Version))
			return err
		},
	}
}
