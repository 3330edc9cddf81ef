package cmdtest

import (
	"context"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// OAuthLogin logs user in to the OAuth app of a sandbox served at sbURL
// (its root URL), as jwh tenant login --no-browser --no-keyring does: it
// approves the consent without a page, exchanges the code, and adds the
// tenant called name, of kind oauth, for the site of the sandbox's tenant
// site, to the config file at configPath, with its secrets in
// credentials.json next to it. The tests of commands that need an OAuth
// tenant use it instead of driving jwh tenant login, which has tests of
// its own.
func OAuthLogin(t testing.TB, sb *sandbox.Server, sbURL, configPath, name, site, user string) *tenant.Tenant {
	t.Helper()
	sbt, ok := sb.Tenant(site)
	if !ok {
		t.Fatalf("the sandbox has no tenant %q", site)
	}
	a := sb.OAuthApp()
	app := &oauth.App{
		ClientID: a.ClientID, ClientSecret: a.ClientSecret, AuthURL: sbURL, APIURL: sbURL,
		RedirectURI: oauth.DefaultRedirectURI, Scopes: oauth.DefaultScopes,
	}
	loc, err := sandbox.Approve(nil, app.AuthCodeURL("state"), user)
	if err != nil {
		t.Fatalf("the sandbox did not approve the login: %v", err)
	}
	ctx := context.Background()
	tok, err := app.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatalf("exchanging the code: %v", err)
	}
	cfg, err := tenant.LoadConfig(configPath)
	if err != nil {
		t.Fatal(err)
	}
	tn := tenant.Tenant{
		Name: name, Kind: tenant.KindOAuth, ClientID: a.ClientID, CloudID: sbt.CloudID(), SiteURL: sbt.BaseURL(),
		Scopes: tok.Scopes, AuthURL: sbURL, APIURL: sbURL, Storage: tenant.StorageFile,
	}
	now := time.Now()
	bundle := &tenant.OAuthSecrets{
		ClientSecret: a.ClientSecret, RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken,
		AccessExpiry: tok.Expiry, RefreshIssued: now, LoginAt: now, Scopes: tok.Scopes,
	}
	err = cfg.Update(ctx, func(c *tenant.Config) error {
		if err := c.Resolver(nil, nil, "").SaveOAuth(&tn, bundle); err != nil {
			return err
		}
		c.Put(tn)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &tn
}
