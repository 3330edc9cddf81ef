package tenantcmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// RemoveOptions are the inputs of jwh tenant remove.
type RemoveOptions struct {
	IO      *iostreams.IOStreams
	Config  func() (*tenant.Config, error)
	Secrets func() tenant.SecretStore
	Getenv  func(string) string

	Name string
}

// NewCmdRemove returns jwh tenant remove. Tests pass runF to see the parsed
// Options.
func NewCmdRemove(f *cmdutil.Factory, runF func(*RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{}
	cmd := &cobra.Command{
		Use:     "remove <name>",
		Aliases: []string{"rm"},
		Short:   "Remove a tenant and its secrets",
		Long: `Remove a tenant from the config file and delete its secrets from where they
are stored: the OS keyring, or for an oauth tenant logged in with --no-keyring,
credentials.json. A tenant with no secret stored is removed all the same; if
the keyring cannot be reached, the tenant is removed and a warning says how to
delete the secret later.

The shared secret of a connect tenant cannot be read back from Jira: to use the
site again, import the app's installed payload again. An oauth tenant's consent
stays in the user's Atlassian account (Connected apps) until revoked there; to
use the site again, run 'jwh tenant login'.`,
		Args: cmdutil.ExactArgs(1, "tenant name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Secrets = f.Secrets
			opts.Getenv = f.Getenv
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return removeRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func removeRun(ctx context.Context, opts *RemoveOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	// The config and the keyring change under the config's lock, so that
	// no other jwh sees the one change without the other.
	unlock, err := cfg.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := cfg.Get(opts.Name)
	if err != nil {
		return err
	}
	r := cfg.Resolver(opts.Secrets(), opts.Getenv, "")
	if t.IsOAuth() {
		// No refresh of this login may store its tokens again.
		unlockLogin, err := r.LockOAuth(ctx, t)
		if err != nil {
			return err
		}
		defer unlockLogin()
	}
	wasDefault := cfg.Default == opts.Name
	if err := cfg.Remove(opts.Name); err != nil {
		return err
	}
	// The config first: if it cannot be saved, the secret is still there.
	if err := cfg.Save(); err != nil {
		return err
	}
	cs := opts.IO.ErrColorScheme()
	w := opts.IO.ErrOut
	err = r.DeleteSecrets(t)
	var ke *tenant.KeyringError
	switch {
	case err == nil, errors.Is(err, tenant.ErrNoSecret):
	case errors.As(err, &ke):
		fmt.Fprintf(w, "%s %s; the secret may remain in the %s: delete it later with 'secret-tool clear service %s username %s'\n",
			cs.WarningIcon(), ke.Reason(), tenant.KeyringSource(opts.Name), tenant.KeyringService, opts.Name)
	case t.IsOAuth() && t.StorageOf() == tenant.StorageFile:
		fmt.Fprintf(w, "%s cannot delete the secrets of tenant %q from %s: %v\n", cs.WarningIcon(), opts.Name, cfg.CredentialsPath(), err)
	default:
		fmt.Fprintf(w, "%s cannot delete the secret of tenant %q from the keyring: %v\n", cs.WarningIcon(), opts.Name, err)
	}
	fmt.Fprintf(w, "%s Removed tenant %s\n", cs.SuccessIcon(), cs.Bold(opts.Name))
	if wasDefault && len(cfg.Tenants) > 1 {
		fmt.Fprintf(w, "It was the default tenant: choose another with 'jwh tenant use NAME'\n")
	}
	return nil
}
