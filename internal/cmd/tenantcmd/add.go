package tenantcmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// AddOptions are the inputs of jwh tenant add.
type AddOptions struct {
	IO      *iostreams.IOStreams
	Config  func() (*tenant.Config, error)
	Secrets func() tenant.SecretStore
	JSON    bool // -o json

	Name      string
	BaseURL   string // normalised by urlpolicy.ParseBaseURL
	AppKey    string
	ClientKey string
	NoKeyring bool // --no-keyring: do not read or store a secret
}

// NewCmdAdd returns jwh tenant add. Tests pass runF to see the parsed
// Options.
func NewCmdAdd(f *cmdutil.Factory, runF func(*AddOptions) error) *cobra.Command {
	opts := &AddOptions{}
	cmd := &cobra.Command{
		Use:   "add <name> --base-url <url> --app-key <key> [--client-key <key>]",
		Short: "Add a tenant, or update one, with its shared secret",
		Long: `Add a tenant and store its shared secret in the OS keyring.

The secret is read from standard input when it is not a terminal, else
prompted for without echo. It is never taken from a flag or an argument,
which would show in ps and in the shell history.

Adding a name that exists updates it: flags not given keep their values, and
the new secret replaces the old one. The first tenant becomes the default.

With --no-keyring, no secret is read or stored: the tenant's secret must then
come from JWH_SHARED_SECRET whenever jwh runs (for machines with no Secret
Service).

With -o json, prints the tenant as 'jwh tenant list -o json' does ({"name",
"kind", "site", "baseUrl", "appKey", "clientKey", "clientId", "cloudId",
"scopes", "storage", "default"}, the oauth fields empty) with "updated" and
"secretStored".`,
		Example: `  printf '%s' "$SECRET" | jwh tenant add acme --base-url https://acme.atlassian.net --app-key com.example.app
  jwh tenant add acme     # prompts for a new secret of an existing tenant`,
		Args: cmdutil.ExactArgs(1, "tenant name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Secrets = f.Secrets
			opts.JSON = cmdutil.GlobalsOf(cmd).JSON
			opts.Name = args[0]
			if err := tenant.ValidateName(opts.Name); err != nil {
				return cmdutil.InputError(err)
			}
			if cmd.Flags().Changed("base-url") {
				u, err := urlpolicy.ParseBaseURL(opts.BaseURL)
				if err != nil {
					return err
				}
				opts.BaseURL = u.String()
			}
			if cmd.Flags().Changed("app-key") && strings.TrimSpace(opts.AppKey) == "" {
				return cmdutil.UsageErrorf("--app-key is empty")
			}
			opts.AppKey = strings.TrimSpace(opts.AppKey)
			opts.ClientKey = strings.TrimSpace(opts.ClientKey)
			if runF != nil {
				return runF(opts)
			}
			return addRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.BaseURL, "base-url", "", "the site's base `URL`, e.g. https://acme.atlassian.net (required for a new tenant)")
	fl.StringVar(&opts.AppKey, "app-key", "", "the app descriptor's `key` (required for a new tenant)")
	fl.StringVar(&opts.ClientKey, "client-key", "", "the site's client `key` (the iss of Jira's JWTs; needed by jwh listen)")
	fl.BoolVar(&opts.NoKeyring, "no-keyring", false, "store no secret; it must come from JWH_SHARED_SECRET")
	return cmd
}

func addRun(ctx context.Context, opts *AddOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	// Check the flags against the config before asking for the secret;
	// the lock is taken only after it, so that a prompt never holds it.
	if _, _, err := addedTenant(cfg, opts); err != nil {
		return err
	}

	var secret []byte
	if !opts.NoKeyring {
		s, err := opts.IO.ReadSecret(fmt.Sprintf("Shared secret for %s: ", opts.Name))
		if err != nil {
			return cmdutil.InputError(err)
		}
		if strings.TrimSpace(s) == "" {
			if opts.IO.IsStdinTTY() {
				return cmdutil.InputErrorf("empty shared secret: type the app's shared secret for %s", opts.Name)
			}
			return cmdutil.InputErrorf("empty shared secret: pipe the app's shared secret for %s on standard input", opts.Name)
		}
		secret = []byte(s)
		defer clear(secret)
	}

	// Another jwh may have changed the config meanwhile: Lock reads it
	// again, and the tenant is worked out anew from what it holds now.
	unlock, err := cfg.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	t, existing, err := addedTenant(cfg, opts)
	if err != nil {
		return err
	}
	madeDefault, err := saveTenant(cfg, opts.Secrets(), saveInput{
		tenant:    t,
		secret:    secret,
		existing:  existing,
		retryHint: "jwh tenant add " + t.Name,
	})
	if err != nil {
		return err
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, savedJSON{toJSON(cfg, &t), existing != nil, secret != nil})
	}
	cs := opts.IO.ErrColorScheme()
	verb := "Added"
	if existing != nil {
		verb = "Updated"
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s %s tenant %s (%s)\n", cs.SuccessIcon(), verb, cs.Bold(t.Name), t.BaseURL)
	switch {
	case secret != nil:
		fmt.Fprintf(opts.IO.ErrOut, "Secret stored in the %s\n", tenant.KeyringSource(t.Name))
	case existing != nil:
		fmt.Fprintf(opts.IO.ErrOut, "Secret left as it was (--no-keyring)\n")
	default:
		fmt.Fprintf(opts.IO.ErrOut, "No secret stored: set %s when running jwh for %s\n", tenant.EnvSecret, t.Name)
	}
	if madeDefault {
		fmt.Fprintf(opts.IO.ErrOut, "%s is the default tenant\n", t.Name)
	}
	return nil
}

// addedTenant returns the tenant that add saves, the flags over the
// existing tenant of that name if there is one, and that existing tenant.
func addedTenant(cfg *tenant.Config, opts *AddOptions) (tenant.Tenant, *tenant.Tenant, error) {
	var existing *tenant.Tenant
	if t, err := cfg.Get(opts.Name); err == nil {
		if t.IsOAuth() {
			return tenant.Tenant{}, nil, oauthTenantError(opts.Name)
		}
		existing = t
	}
	t := tenant.Tenant{Name: opts.Name, BaseURL: opts.BaseURL, AppKey: opts.AppKey, ClientKey: opts.ClientKey}
	if existing != nil {
		if t.BaseURL == "" {
			t.BaseURL = existing.BaseURL
		}
		if t.AppKey == "" {
			t.AppKey = existing.AppKey
		}
		if t.ClientKey == "" {
			t.ClientKey = existing.ClientKey
		}
	}
	if t.BaseURL == "" {
		return t, nil, cmdutil.UsageErrorf("missing --base-url: required for a new tenant")
	}
	if t.AppKey == "" {
		return t, nil, cmdutil.UsageErrorf("missing --app-key: required for a new tenant")
	}
	return t, existing, nil
}
