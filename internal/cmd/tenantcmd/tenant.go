// Package tenantcmd implements jwh tenant: adding, importing and logging
// in to, listing, selecting, showing and removing the Jira sites jwh works
// on. Names, URLs, keys and ids go to the config file; shared secrets and
// OAuth tokens go to the OS keyring (or credentials.json) and are never
// printed.
package tenantcmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// NewCmdTenant returns the tenant command group.
func NewCmdTenant(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant <command>",
		Short: "Manage the Jira sites (tenants) jwh works on",
		Long: `A tenant is a local name for one Jira site, of one of two kinds.

A connect tenant is a site on which a Connect app is installed: its base URL,
the app key (the Connect descriptor's key, the iss of the app's JWTs), the
site's client key (the iss of Jira's JWTs) and the shared secret. Add one with
'jwh tenant import' or 'jwh tenant add'.

An oauth tenant is a site reached through Atlassian's API gateway for one OAuth
2.0 (3LO) app and the user who logged in: its cloud id and URL, the app's
client id, and the client secret, refresh token and access token. Add one with
'jwh tenant login'.

The config file ($XDG_CONFIG_HOME/jwh/config.json, or $JWH_CONFIG) holds
everything but the secrets; it is written with mode 0600. The secrets live in
the OS keyring (service jwh, user = the tenant name), or for an oauth tenant
logged in with --no-keyring in credentials.json next to the config file (mode
0600). JWH_SHARED_SECRET (connect) and JWH_CLIENT_SECRET (oauth) stand for the
secret of the selected tenant only, for cron and CI on machines without a
Secret Service.

Commands work on --tenant NAME, else $JWH_TENANT, else the default tenant
(jwh tenant use), else the only tenant.`,
		Example: `  jwh tenant import acme --file installed.json
  printf '%s' "$SECRET" | jwh tenant add acme --base-url https://acme.atlassian.net --app-key com.example.app
  jwh tenant login --client-id Abc123
  jwh tenant list
  jwh tenant use acme`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(
		NewCmdAdd(f, nil),
		NewCmdImport(f, nil),
		NewCmdLogin(f, nil),
		NewCmdList(f, nil),
		NewCmdUse(f, nil),
		NewCmdRemove(f, nil),
		NewCmdShow(f, nil),
	)
	return cmd
}

// tenantJSON is a tenant in -o json output, of either kind (the fields of
// the other kind are empty); it never holds a secret.
type tenantJSON struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Site      string   `json:"site"`
	BaseURL   string   `json:"baseUrl"`
	AppKey    string   `json:"appKey"`
	ClientKey string   `json:"clientKey"`
	ClientID  string   `json:"clientId"`
	CloudID   string   `json:"cloudId"`
	Scopes    []string `json:"scopes"`
	Storage   string   `json:"storage"`
	Default   bool     `json:"default"`
}

// savedJSON is the -o json output of add and import.
type savedJSON struct {
	tenantJSON
	Updated      bool `json:"updated"`
	SecretStored bool `json:"secretStored"`
}

func toJSON(cfg *tenant.Config, t *tenant.Tenant) tenantJSON {
	return tenantJSON{
		Name: t.Name, Kind: t.KindOf(), Site: t.Site(), BaseURL: t.BaseURL, AppKey: t.AppKey, ClientKey: t.ClientKey,
		ClientID: t.ClientID, CloudID: t.CloudID, Scopes: output.NonNil(t.Scopes), Storage: storageOf(t),
		Default: cfg.Default == t.Name,
	}
}

// storageOf says where the secrets of t are kept: the keyring, or for an
// oauth tenant logged in with --no-keyring, the credentials file.
func storageOf(t *tenant.Tenant) string {
	if t.IsOAuth() {
		return t.StorageOf()
	}
	return tenant.StorageKeyring
}

// adviceError replaces the message of err, keeping err for errors.Is (and
// so for the exit status).
type adviceError struct {
	msg string
	err error
}

func (e *adviceError) Error() string { return e.msg }
func (e *adviceError) Unwrap() error { return e.err }

// storeError explains a failure to store a secret; a keyring that is down
// gets both ways out, for the command that was run.
func storeError(err error, name, retry string) error {
	var ke *tenant.KeyringError
	if errors.As(err, &ke) {
		return &adviceError{
			msg: fmt.Sprintf("%s; start or unlock a Secret Service (e.g. gnome-keyring), or run '%s --no-keyring' and set %s when running jwh",
				ke.Reason(), retry, tenant.EnvSecret),
			err: err,
		}
	}
	return fmt.Errorf("store the secret of tenant %q: %w", name, err)
}

// saveInput is what add and import write.
type saveInput struct {
	tenant    tenant.Tenant
	secret    []byte // nil with --no-keyring
	existing  *tenant.Tenant
	retryHint string // the command to suggest with --no-keyring
}

// saveTenant stores the secret (unless it is nil), then saves the config.
// If the config cannot be saved, the keyring is put back as it was: the
// old secret of an updated tenant, or no secret for a new one. The caller
// holds the config's lock (tenant.Config.Lock), so that no other jwh
// changes the tenant's config entry or secret in between.
func saveTenant(cfg *tenant.Config, store tenant.SecretStore, in saveInput) (madeDefault bool, err error) {
	name := in.tenant.Name
	var old []byte
	if in.secret != nil {
		if in.existing != nil {
			old, err = store.Get(name)
			if err != nil && !errors.Is(err, tenant.ErrNoSecret) {
				return false, storeError(err, name, in.retryHint)
			}
		}
		if err := store.Set(name, in.secret); err != nil {
			return false, storeError(err, name, in.retryHint)
		}
	}
	oldDefault := cfg.Default
	cfg.Put(in.tenant)
	madeDefault = oldDefault == "" && cfg.Default == name
	if err := cfg.Save(); err != nil {
		// Put the config in memory back as well, for any later use.
		if in.existing != nil {
			cfg.Put(*in.existing)
		} else {
			_ = cfg.Remove(name)
		}
		cfg.Default = oldDefault
		if in.secret != nil {
			var rerr error
			if old != nil {
				rerr = store.Set(name, old)
			} else {
				rerr = store.Delete(name)
			}
			if rerr != nil {
				return false, fmt.Errorf("%w (and the keyring could not be restored: %v)", err, rerr)
			}
		}
		return false, err
	}
	return madeDefault, nil
}
