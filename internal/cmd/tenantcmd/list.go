package tenantcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// ListOptions are the inputs of jwh tenant list.
type ListOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*tenant.Config, error)
	JSON   bool // -o json
}

// NewCmdList returns jwh tenant list. Tests pass runF to see the parsed
// Options.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the tenants",
		Long: `List the configured tenants: NAME, KIND (connect or oauth), SITE (the Connect
base URL, or the OAuth site URL), APP (the Connect app key, or the OAuth client
id) and DEFAULT (* for the default tenant). On a pipe, one tab-separated line
per tenant without a header, in the same order. Secrets are not read.

With -o json, prints an array ([] when there is none) of {"name", "kind",
"site", "baseUrl", "appKey", "clientKey" (connect), "clientId", "cloudId",
"scopes", "storage" (oauth: keyring or file), "default"}; the fields of the
other kind are empty.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.JSON = cmdutil.GlobalsOf(cmd).JSON
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
	return cmd
}

func listRun(opts *ListOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	if opts.JSON {
		list := make([]tenantJSON, 0, len(cfg.Tenants))
		for i := range cfg.Tenants {
			list = append(list, toJSON(cfg, &cfg.Tenants[i]))
		}
		return output.JSON(opts.IO.Out, list)
	}
	if len(cfg.Tenants) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "No tenants configured: "+tenant.AddTenantHint)
		return nil
	}
	tbl := output.NewTable(opts.IO, "NAME", "KIND", "SITE", "APP", "DEFAULT")
	for _, t := range cfg.Tenants {
		mark := ""
		if t.Name == cfg.Default {
			mark = "*"
		}
		app := t.AppKey
		if t.IsOAuth() {
			app = t.ClientID
		}
		tbl.AddRow(t.Name, t.KindOf(), t.Site(), app, mark)
	}
	return tbl.Render()
}
