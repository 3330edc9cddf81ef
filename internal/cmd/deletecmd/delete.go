// Package deletecmd implements jwh delete: the deletion of some or all of the
// app's webhooks on a tenant, saying which ids were not registered.
package deletecmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// Options are the inputs of jwh delete.
type Options struct {
	IO     *iostreams.IOStreams
	Client func() (*jira.Client, *tenant.Tenant, error)
	JSON   bool // -o json

	IDs []int64
	All bool // --all
	Yes bool // --yes: no confirmation
}

// NewCmdDelete returns jwh delete. Tests pass runF to see the parsed
// Options.
func NewCmdDelete(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:     "delete {<id>... | --all}",
		Aliases: []string{"rm"},
		Short:   "Delete webhooks",
		Long: `Delete webhooks of the app on the tenant, by id (as 'jwh list' shows them;
comma lists are accepted) or all of them with --all.

Jira silently ignores ids that are not registered, so jwh lists the webhooks
first: it deletes the registered ones in one request, says how many were
deleted, and names the ids that were not registered.

--all asks for confirmation when run from a terminal; otherwise it needs
--yes, and without it nothing is sent.

With -o json, prints {"tenant", "deleted": [ids], "notRegistered": [ids]}.

Exit status: 0 when every id was deleted (or --all found nothing to delete),
1 when some ids were not registered or Jira answered with an error, 2 for
invalid input or a refused confirmation (nothing deleted), 3 for credentials
problems.`,
		Example: `  jwh delete 10001 10002
  jwh delete --all
  jwh delete --all --yes      # from a script`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			g := cmdutil.GlobalsOf(cmd)
			opts.Client = func() (*jira.Client, *tenant.Tenant, error) { return f.JiraClient(g.Tenant, g.Debug) }
			opts.JSON = g.JSON
			switch {
			case opts.All && len(args) > 0:
				return cmdutil.UsageErrorf("specify either webhook ids or --all, not both")
			case !opts.All && len(args) == 0:
				return cmdutil.UsageErrorf("specify the webhook ids to delete, or --all")
			case opts.All && !opts.Yes && !opts.IO.CanPrompt():
				return cmdutil.UsageErrorf("--all needs --yes when not run from a terminal: nothing was deleted")
			}
			ids, err := cmdutil.ParseIDs(args)
			if err != nil {
				return err
			}
			opts.IDs = ids
			if runF != nil {
				return runF(opts)
			}
			return deleteRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "delete all of the app's webhooks on the tenant")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// resultJSON is the -o json output.
type resultJSON struct {
	Tenant        string  `json:"tenant"`
	Deleted       []int64 `json:"deleted"`
	NotRegistered []int64 `json:"notRegistered"`
}

func deleteRun(ctx context.Context, opts *Options) error {
	client, t, err := opts.Client()
	if err != nil {
		return err
	}
	hooks, err := client.AllWebhooks(ctx)
	if err != nil {
		return cmdutil.OnTenant(t.Name, err)
	}
	ids, missing := jira.WebhookIDs(hooks), []int64(nil)
	if !opts.All {
		ids, missing = jira.SplitIDs(opts.IDs, hooks)
	}
	if opts.All && len(ids) > 0 && !opts.Yes {
		ok, err := opts.IO.Confirm(fmt.Sprintf("Delete all %s of tenant %s?", output.Plural(len(ids), "webhook"), t.Name))
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.InputErrorf("not confirmed: nothing was deleted")
		}
	}
	if err := client.DeleteWebhooks(ctx, ids); err != nil {
		return cmdutil.OnTenant(t.Name, err)
	}

	if opts.JSON {
		if err := output.JSON(opts.IO.Out, resultJSON{Tenant: t.Name, Deleted: output.NonNil(ids), NotRegistered: output.NonNil(missing)}); err != nil {
			return err
		}
	} else {
		switch {
		case len(ids) > 0:
			fmt.Fprintf(opts.IO.Out, "Deleted %s of tenant %s: %s\n", output.Plural(len(ids), "webhook"), t.Name, output.JoinIDs(ids))
		case opts.All:
			fmt.Fprintf(opts.IO.Out, "Deleted 0 webhooks: tenant %s has none\n", t.Name)
		default:
			fmt.Fprintf(opts.IO.Out, "Deleted 0 webhooks of tenant %s\n", t.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("not registered on tenant %s, so not deleted: %s", t.Name, output.JoinIDs(missing))
	}
	return nil
}
