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
		Long: `List the configured tenants. The default tenant is marked with * in the
DEFAULT column. On a pipe, one tab-separated line per tenant without a header:
name, base URL, app key, client key, * or empty. Secrets are not read.

With -o json, prints an array of {"name", "baseUrl", "appKey", "clientKey",
"default"} ([] when there is none).`,
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
		fmt.Fprintln(opts.IO.ErrOut, "No tenants configured: add one with 'jwh tenant import --file installed.json' or 'jwh tenant add NAME --base-url URL --app-key KEY'")
		return nil
	}
	tbl := output.NewTable(opts.IO, "NAME", "BASE URL", "APP KEY", "CLIENT KEY", "DEFAULT")
	for _, t := range cfg.Tenants {
		mark := ""
		if t.Name == cfg.Default {
			mark = "*"
		}
		tbl.AddRow(t.Name, t.BaseURL, t.AppKey, t.ClientKey, mark)
	}
	return tbl.Render()
}
