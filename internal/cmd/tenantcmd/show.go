package tenantcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// ShowOptions are the inputs of jwh tenant show.
type ShowOptions struct {
	IO      *iostreams.IOStreams
	Config  func() (*tenant.Config, error)
	Secrets func() tenant.SecretStore
	Getenv  func(string) string
	JSON    bool // -o json

	Name       string // the argument; empty: the selected tenant
	TenantFlag string // --tenant, used when Name is empty
}

// NewCmdShow returns jwh tenant show. Tests pass runF to see the parsed
// Options.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{}
	cmd := &cobra.Command{
		Use:   "show [<name>]",
		Short: "Show a tenant and where its secret comes from",
		Long: `Show a tenant (by default the selected one: --tenant, JWH_TENANT, the default
tenant, or the only one) and where its shared secret comes from:
JWH_SHARED_SECRET, the OS keyring, or nowhere. The secret itself is never
printed.

With -o json, prints {"name", "baseUrl", "appKey", "clientKey", "default",
"config", "secretSource", "secretDetail"}; secretSource is "environment",
"keyring", "missing" or "unavailable" (the keyring could not be reached).`,
		Args: cmdutil.MaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Secrets = f.Secrets
			opts.Getenv = f.Getenv
			g := cmdutil.GlobalsOf(cmd)
			opts.JSON = g.JSON
			opts.TenantFlag = g.Tenant
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return showRun(opts)
		},
	}
	return cmd
}

func showRun(opts *ShowOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	var t *tenant.Tenant
	if opts.Name != "" {
		t, err = cfg.Get(opts.Name)
	} else {
		t, err = cfg.Select(opts.TenantFlag, opts.Getenv(tenant.EnvTenant))
	}
	if err != nil {
		return err
	}
	secret, src, _ := cfg.Resolver(opts.Secrets(), opts.Getenv, opts.TenantFlag).ConnectSecret(t)
	clear(secret)
	source, detail := src.Kind, src.Detail
	if opts.JSON {
		return output.JSON(opts.IO.Out, struct {
			tenantJSON
			Config       string `json:"config"`
			SecretSource string `json:"secretSource"`
			SecretDetail string `json:"secretDetail"`
		}{toJSON(cfg, t), cfg.Path(), source, detail})
	}
	isDefault := "no"
	if cfg.Default == t.Name {
		isDefault = "yes"
	}
	clientKey := t.ClientKey
	if clientKey == "" {
		clientKey = "(none: jwh listen cannot verify this site's deliveries)"
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "name:        %s\n", t.Name)
	fmt.Fprintf(w, "base URL:    %s\n", t.BaseURL)
	fmt.Fprintf(w, "app key:     %s\n", t.AppKey)
	fmt.Fprintf(w, "client key:  %s\n", clientKey)
	fmt.Fprintf(w, "default:     %s\n", isDefault)
	fmt.Fprintf(w, "secret:      %s\n", detail)
	fmt.Fprintf(w, "config:      %s\n", cfg.Path())
	return nil
}
