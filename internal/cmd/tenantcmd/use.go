package tenantcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// UseOptions are the inputs of jwh tenant use.
type UseOptions struct {
	IO     *iostreams.IOStreams
	Config func() (*tenant.Config, error)

	Name string
}

// NewCmdUse returns jwh tenant use. Tests pass runF to see the parsed
// Options.
func NewCmdUse(f *cmdutil.Factory, runF func(*UseOptions) error) *cobra.Command {
	opts := &UseOptions{}
	cmd := &cobra.Command{
		Use:   "use <name>",
		Short: "Make a tenant the default",
		Long: `Make a tenant the default: the one commands work on when neither --tenant
nor JWH_TENANT names one.`,
		Args: cmdutil.ExactArgs(1, "tenant name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return useRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func useRun(ctx context.Context, opts *UseOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	err = cfg.Update(ctx, func(cfg *tenant.Config) error { return cfg.SetDefault(opts.Name) })
	if err != nil {
		return err
	}
	cs := opts.IO.ErrColorScheme()
	fmt.Fprintf(opts.IO.ErrOut, "%s Default tenant is now %s\n", cs.SuccessIcon(), cs.Bold(opts.Name))
	return nil
}
