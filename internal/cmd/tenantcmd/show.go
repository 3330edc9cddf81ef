package tenantcmd

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// ShowOptions are the inputs of jwh tenant show.
type ShowOptions struct {
	IO      *iostreams.IOStreams
	Config  func() (*tenant.Config, error)
	Secrets func() tenant.SecretStore
	Getenv  func(string) string
	Now     func() time.Time
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
		Short: "Show a tenant and where its secrets come from",
		Long: `Show a tenant (by default the selected one: --tenant, JWH_TENANT, the default
tenant, or the only one) and where its secrets come from, in the words of the
one rule every command follows (see 'Where secrets come from' in
docs/scripting.md). No secret is ever printed.

For a connect tenant: its base URL, app key and client key, and where the
shared secret comes from: JWH_SHARED_SECRET (for the selected tenant), the OS
keyring, or nowhere.

For an oauth tenant: its site, cloud id, client id and scopes; where the client
secret comes from (JWH_CLIENT_SECRET for the selected tenant, else where the
login stored it) and where the tokens are stored (the keyring or
credentials.json); when the access token expires; when the refresh token dies
unless it is used (90 days after it was issued) and when the login ends
whatever happens (365 days after the consent).

With -o json, prints {"name", "kind", "site", "baseUrl", "appKey",
"clientKey", "clientId", "cloudId", "scopes", "storage", "default", "config"}
and, for a connect tenant, "secretSource" and "secretDetail"; for an oauth
tenant, "authUrl", "apiUrl", "credentials" (the credentials file),
"clientSecretSource", "clientSecretDetail", "tokensSource", "tokensDetail",
"accessExpiry", "refreshToken" (whether there is one), "refreshExpiry" and
"loginExpiry" (RFC 3339, null when unknown or none). A source is
"environment", "keyring", "file", "missing" or "unavailable" (the keyring or
the file could not be read).`,
		Args: cmdutil.MaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Secrets = f.Secrets
			opts.Getenv = f.Getenv
			opts.Now = f.Now
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
	r := cfg.Resolver(opts.Secrets(), opts.Getenv, opts.TenantFlag)
	if t.IsOAuth() {
		return showOAuth(opts, cfg, r, t)
	}
	secret, src, _ := r.ConnectSecret(t)
	clear(secret)
	if opts.JSON {
		return output.JSON(opts.IO.Out, struct {
			tenantJSON
			Config       string `json:"config"`
			SecretSource string `json:"secretSource"`
			SecretDetail string `json:"secretDetail"`
		}{toJSON(cfg, t), cfg.Path(), src.Kind, src.Detail})
	}
	clientKey := t.ClientKey
	if clientKey == "" {
		clientKey = "(none: jwh listen cannot verify this site's deliveries)"
	}
	printFields(opts.IO.Out, [][2]string{
		{"name", t.Name},
		{"kind", tenant.KindConnect},
		{"base URL", t.BaseURL},
		{"app key", t.AppKey},
		{"client key", clientKey},
		{"default", yesNo(cfg.Default == t.Name)},
		{"secret", src.Detail},
		{"config", cfg.Path()},
	})
	return nil
}

// oauthShowJSON is the -o json output of jwh tenant show for an oauth
// tenant.
type oauthShowJSON struct {
	tenantJSON
	AuthURL            string  `json:"authUrl"`
	APIURL             string  `json:"apiUrl"`
	Config             string  `json:"config"`
	Credentials        string  `json:"credentials"`
	ClientSecretSource string  `json:"clientSecretSource"`
	ClientSecretDetail string  `json:"clientSecretDetail"`
	TokensSource       string  `json:"tokensSource"`
	TokensDetail       string  `json:"tokensDetail"`
	AccessExpiry       *string `json:"accessExpiry"`
	RefreshToken       bool    `json:"refreshToken"`
	RefreshExpiry      *string `json:"refreshExpiry"`
	LoginExpiry        *string `json:"loginExpiry"`
}

func showOAuth(opts *ShowOptions, cfg *tenant.Config, r *tenant.Resolver, t *tenant.Tenant) error {
	login, _ := r.OAuth(t) // on error, its Sources say what is missing
	b := login.Secrets
	if b == nil {
		b = &tenant.OAuthSecrets{}
	}
	authURL, apiURL := oauth.Endpoints(t)
	if opts.JSON {
		return output.JSON(opts.IO.Out, oauthShowJSON{
			tenantJSON: toJSON(cfg, t), AuthURL: authURL, APIURL: apiURL,
			Config: cfg.Path(), Credentials: cfg.CredentialsPath(),
			ClientSecretSource: login.ClientSecretFrom.Kind, ClientSecretDetail: login.ClientSecretFrom.Detail,
			TokensSource: login.Stored.Kind, TokensDetail: login.Stored.Detail,
			AccessExpiry: rfc3339(b.AccessExpiry), RefreshToken: b.RefreshToken != "",
			RefreshExpiry: rfc3339(b.RefreshExpiry()), LoginExpiry: rfc3339(b.AbsoluteExpiry()),
		})
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	tty := opts.IO.IsStdoutTTY()
	access, refresh, end := "unknown", "unknown", "unknown"
	if login.Secrets != nil {
		access = expiry(b.AccessExpiry, now, tty, "")
		refresh = "none (offline_access not granted): log in again when the access token expires"
		end = "-"
		if b.RefreshToken != "" {
			refresh = expiry(b.RefreshExpiry(), now, tty, "90 days after it was issued unless used before")
			end = expiry(b.AbsoluteExpiry(), now, tty, "365 days after the consent whatever happens")
		}
	}
	printFields(opts.IO.Out, [][2]string{
		{"name", t.Name},
		{"kind", tenant.KindOAuth},
		{"site", t.SiteURL},
		{"cloud id", t.CloudID},
		{"client id", t.ClientID},
		{"scopes", strings.Join(t.Scopes, " ")},
		{"default", yesNo(cfg.Default == t.Name)},
		{"client secret", login.ClientSecretFrom.Detail},
		{"tokens", login.Stored.Detail},
		{"access token", access},
		{"refresh token", refresh},
		{"login ends", end},
		{"auth URL", authURL},
		{"API URL", apiURL},
		{"config", cfg.Path()},
	})
	return nil
}

// expiry says when something expires: on a terminal, the time in now's
// zone and how far away it is ("2026-12-23 04:17 (in 29d)", or "(expired
// 3m ago)"); on a pipe, RFC 3339 in UTC, after "expires" or "expired". why,
// when not "", follows after a comma.
func expiry(at, now time.Time, tty bool, why string) string {
	if at.IsZero() {
		return "unknown"
	}
	var s string
	switch {
	case tty:
		s = at.In(now.Location()).Format("2006-01-02 15:04") + " (" + output.Relative(at, now) + ")"
	case output.Expired(at, now):
		s = "expired " + at.UTC().Format(output.TimeLayout)
	default:
		s = "expires " + at.UTC().Format(output.TimeLayout)
	}
	if why != "" {
		s += ", " + why
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// printFields prints "label:  value" lines, the values aligned.
func printFields(w io.Writer, fields [][2]string) {
	width := 0
	for _, f := range fields {
		width = max(width, len(f[0]))
	}
	for _, f := range fields {
		fmt.Fprintf(w, "%-*s  %s\n", width+1, f[0]+":", f[1])
	}
}
