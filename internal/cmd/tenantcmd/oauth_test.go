package tenantcmd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdLogin(t *testing.T) {
	def := oauth.DefaultScopes
	five := DefaultLoginTimeout
	cmdtest.Flags(t, cmdtest.InGroup("tenant", NewCmdLogin), []cmdtest.Case[LoginOptions]{
		{Args: "--client-id cid", Want: LoginOptions{ClientID: "cid", Scopes: def, RedirectURI: "http://localhost:8976/callback", Timeout: five}},
		{Args: "acme --client-id ' cid ' --site https://acme.atlassian.net/ --no-browser --no-keyring --timeout 30s -o json",
			Want: LoginOptions{Name: "acme", ClientID: "cid", Site: "https://acme.atlassian.net/", Scopes: def, RedirectURI: "http://localhost:8976/callback",
				NoBrowser: true, NoKeyring: true, Timeout: 30 * time.Second, JSON: true}},
		{Args: "--client-id cid --scope read:jira-work --scope 'manage:jira-webhook,read:jira-work offline_access'",
			Want: LoginOptions{ClientID: "cid", Scopes: []string{"read:jira-work", "manage:jira-webhook", "offline_access"}, RedirectURI: "http://localhost:8976/callback", Timeout: five}},
		{Args: "--client-id cid --callback-port 9000", Want: LoginOptions{ClientID: "cid", Scopes: def, RedirectURI: "http://localhost:9000/callback", Timeout: five}},
		{Args: "--client-id cid --redirect-uri http://127.0.0.1:7000/oauth/cb", Want: LoginOptions{ClientID: "cid", Scopes: def, RedirectURI: "http://127.0.0.1:7000/oauth/cb", Timeout: five}},
		{Args: "--client-id cid --auth-url http://127.0.0.1:4000/ --api-url https://api.example.com",
			Want: LoginOptions{ClientID: "cid", Scopes: def, RedirectURI: "http://localhost:8976/callback", Timeout: five,
				AuthURL: "http://127.0.0.1:4000", APIURL: "https://api.example.com"}},
		{Args: "", WantErr: "missing --client-id: the app's client id (developer console: Settings)"},
		{Args: "--client-id ' '", WantErr: "missing --client-id: the app's client id (developer console: Settings)"},
		{Args: "--client-id cid --client-secret s", WantErr: "unknown flag: --client-secret"},
		{Args: "'bad name' --client-id cid", WantErr: `invalid tenant name "bad name": use letters, digits, '.', '-' and '_', starting with a letter or digit`},
		{Args: "a b --client-id cid", WantErr: `unexpected argument "b"`},
		{Args: "--client-id cid --callback-port 9000 --redirect-uri http://localhost:9000/cb", WantErr: "specify either --callback-port or --redirect-uri, not both"},
		{Args: "--client-id cid --callback-port 0", WantErr: "invalid --callback-port 0: use a port from 1 to 65535"},
		{Args: "--client-id cid --redirect-uri https://app.example.com/cb",
			WantErr: `redirect URI "https://app.example.com/cb" is not plain http on this machine: use http://localhost:PORT/PATH (or 127.0.0.1 or [::1]), as among the app's callback URLs`},
		{Args: "--client-id cid --auth-url http://auth.example.com",
			WantErr: `invalid --auth-url "http://auth.example.com": plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https`},
		{Args: "--client-id cid --api-url ftp://x", WantErr: `invalid --api-url "ftp://x": scheme "ftp" is not supported: use https`},
		{Args: "--client-id cid --timeout 0s", WantErr: "invalid --timeout 0s: use a duration above 0, such as 5m"},
	})
}

// oauthTenant is an OAuth tenant of the tests, stored where storage says.
func oauthTenant(name, storage string) tenant.Tenant {
	return tenant.Tenant{Name: name, Kind: tenant.KindOAuth, ClientID: "cid-" + name, CloudID: "cloud-" + name,
		SiteURL: "https://" + name + ".atlassian.net", Scopes: []string{"manage:jira-webhook", "read:jira-work", "offline_access"},
		Storage: storage}
}

var showNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// seedOAuth stores the bundle of an OAuth tenant that h.seed configured:
// logged in 200 days before showNow, refreshed 10 days before it, its
// access token good for 40 more minutes.
func seedOAuth(t *testing.T, h *harness, tn tenant.Tenant) {
	t.Helper()
	cfg, err := h.config()
	if err != nil {
		t.Fatal(err)
	}
	b := &tenant.OAuthSecrets{
		ClientSecret: theSecret + "-cs", RefreshToken: theSecret + "-rt", AccessToken: theSecret + "-at",
		AccessExpiry: showNow.Add(40 * time.Minute), RefreshIssued: showNow.Add(-10 * 24 * time.Hour),
		LoginAt: showNow.Add(-200 * 24 * time.Hour), Scopes: tn.Scopes,
	}
	if err := cfg.Resolver(h.store, h.env.get, "").SaveOAuth(&tn, b); err != nil {
		t.Fatal(err)
	}
}

func seedBothKinds(t *testing.T, h *harness) {
	h.seed(t, "globex",
		tenant.Tenant{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: "ck-acme"},
		oauthTenant("globex", tenant.StorageKeyring),
		oauthTenant("initech", tenant.StorageFile),
	)
	_ = h.store.Delete("initech") // its secrets are in the file
	seedOAuth(t, h, oauthTenant("globex", tenant.StorageKeyring))
	seedOAuth(t, h, oauthTenant("initech", tenant.StorageFile))
}

func TestListRunBothKinds(t *testing.T) {
	t.Run("tty", func(t *testing.T) {
		h := newHarness(t)
		seedBothKinds(t, h)
		h.ios.SetStdoutTTY(true)
		if err := listRun(&ListOptions{IO: h.ios, Config: h.config}); err != nil {
			t.Fatal(err)
		}
		want := "NAME     KIND     SITE                           APP              DEFAULT  \n" +
			"acme     connect  https://acme.atlassian.net     com.example.app           \n" +
			"globex   oauth    https://globex.atlassian.net   cid-globex       *        \n" +
			"initech  oauth    https://initech.atlassian.net  cid-initech               \n"
		if h.out.String() != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", h.out, want)
		}
	})
	t.Run("piped", func(t *testing.T) {
		h := newHarness(t)
		seedBothKinds(t, h)
		if err := listRun(&ListOptions{IO: h.ios, Config: h.config}); err != nil {
			t.Fatal(err)
		}
		want := "acme\tconnect\thttps://acme.atlassian.net\tcom.example.app\t\n" +
			"globex\toauth\thttps://globex.atlassian.net\tcid-globex\t*\n" +
			"initech\toauth\thttps://initech.atlassian.net\tcid-initech\t\n"
		if h.out.String() != want {
			t.Errorf("stdout:\n%q\nwant:\n%q", h.out, want)
		}
	})
	t.Run("json", func(t *testing.T) {
		h := newHarness(t)
		seedBothKinds(t, h)
		if err := listRun(&ListOptions{IO: h.ios, Config: h.config, JSON: true}); err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		if err := json.Unmarshal(h.out.Bytes(), &got); err != nil || len(got) != 3 {
			t.Fatalf("%v: %s", err, h.out)
		}
		g := got[1]
		if g["kind"] != "oauth" || g["site"] != "https://globex.atlassian.net" || g["clientId"] != "cid-globex" || g["cloudId"] != "cloud-globex" ||
			g["storage"] != "keyring" || g["default"] != true || g["baseUrl"] != "" || len(g["scopes"].([]any)) != 3 {
			t.Errorf("globex: %v", g)
		}
		if got[2]["storage"] != "file" || got[0]["kind"] != "connect" || got[0]["site"] != "https://acme.atlassian.net" {
			t.Errorf("acme %v, initech %v", got[0], got[2])
		}
	})
}

func TestShowRunOAuth(t *testing.T) {
	h := newHarness(t)
	seedBothKinds(t, h)
	opts := showOpts(h, "globex")
	opts.Now = func() time.Time { return showNow }
	h.ios.SetStdoutTTY(true)
	if err := showRun(opts); err != nil {
		t.Fatal(err)
	}
	want := "name:           globex\n" +
		"kind:           oauth\n" +
		"site:           https://globex.atlassian.net\n" +
		"cloud id:       cloud-globex\n" +
		"client id:      cid-globex\n" +
		"scopes:         manage:jira-webhook read:jira-work offline_access\n" +
		"default:        yes\n" +
		"client secret:  stored in keyring (service jwh, user globex)\n" +
		"tokens:         stored in keyring (service jwh, user globex)\n" +
		"access token:   2026-06-01 12:40 (in 40m)\n" +
		"refresh token:  2026-08-20 12:00 (in 80d), 90 days after it was issued unless used before\n" +
		"login ends:     2026-11-13 12:00 (in 165d), 365 days after the consent whatever happens\n" +
		"auth URL:       https://auth.atlassian.com\n" +
		"API URL:        https://api.atlassian.com\n" +
		"config:         " + h.cfgPath + "\n"
	if h.out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", h.out, want)
	}

	// Piped: times in RFC 3339; JWH_CLIENT_SECRET stands for the selected
	// tenant's client secret; the file storage.
	h.out.Reset()
	h.ios.SetStdoutTTY(false)
	h.env[tenant.EnvClientSecret] = "from-env"
	h.env[tenant.EnvTenant] = "initech"
	opts = showOpts(h, "initech")
	opts.Now = func() time.Time { return showNow.Add(41 * time.Minute) }
	if err := showRun(opts); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"client secret:  from JWH_CLIENT_SECRET (overrides the stored one)\n",
		"tokens:         stored in " + h.cfg(t).CredentialsPath() + "\n",
		"access token:   expired 2026-06-01T12:40:00.000Z\n",
		"refresh token:  expires 2026-08-20T12:00:00.000Z, 90 days after it was issued unless used before\n",
		"default:        no\n",
	} {
		if !strings.Contains(h.out.String(), line) {
			t.Errorf("stdout lacks %q:\n%s", line, h.out)
		}
	}

	// -o json.
	h.out.Reset()
	opts.JSON = true
	if err := showRun(opts); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(h.out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"name": "initech", "kind": "oauth", "storage": "file", "clientSecretSource": "environment", "tokensSource": "file",
		"accessExpiry": "2026-06-01T12:40:00Z", "refreshToken": true, "refreshExpiry": "2026-08-20T12:00:00Z",
		"loginExpiry": "2026-11-13T12:00:00Z", "authUrl": "https://auth.atlassian.com", "credentials": h.cfg(t).CredentialsPath(),
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestShowRunOAuthMissing(t *testing.T) {
	h := newHarness(t)
	h.seed(t, "", oauthTenant("globex", tenant.StorageKeyring))
	_ = h.store.Delete("globex")
	opts := showOpts(h, "globex")
	opts.JSON = true
	if err := showRun(opts); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(h.out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	wantDetail := `missing: no login stored for tenant "globex" in the keyring (service jwh, user globex): log in with 'jwh tenant login globex --client-id cid-globex'`
	if got["tokensSource"] != "missing" || got["tokensDetail"] != wantDetail || got["accessExpiry"] != nil || got["refreshToken"] != false {
		t.Errorf("json: %v", got)
	}
	h.out.Reset()
	h.store = downStore{}
	opts.JSON = false
	if err := showRun(opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.out.String(), "tokens:         unavailable: keyring unavailable: cannot read the secret of tenant \"globex\"") ||
		!strings.Contains(h.out.String(), "access token:   unknown\n") {
		t.Errorf("stdout:\n%s", h.out)
	}
}

func TestRemoveRunOAuth(t *testing.T) {
	h := newHarness(t)
	seedBothKinds(t, h)
	if err := removeRun(t.Context(), removeOpts(h, "initech")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(h.cfg(t).CredentialsPath())
	if err != nil || strings.Contains(string(data), "initech") {
		t.Errorf("credentials file after remove (%v):\n%s", err, data)
	}
	if _, err := h.store.Get("globex"); err != nil {
		t.Errorf("globex's keyring item: %v", err)
	}
	if err := removeRun(t.Context(), removeOpts(h, "globex")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Get("globex"); !errors.Is(err, tenant.ErrNoSecret) {
		t.Errorf("globex's keyring item after remove: %v", err)
	}
	if names := h.saved(t).Names(); len(names) != 1 || names[0] != "acme" {
		t.Errorf("tenants left: %v", names)
	}
}

// TestLoginRefusesConnectTenant: logging in under the name of a Connect
// tenant is refused before anything is read or sent.
func TestLoginRefusesConnectTenant(t *testing.T) {
	h := newHarness(t)
	seedTwo(t, h)
	opts := &LoginOptions{IO: h.ios, Config: h.config, Secrets: func() tenant.SecretStore { return h.store }, Getenv: h.env.get,
		HTTPClient: nil, Name: "acme", ClientID: "cid", RedirectURI: oauth.DefaultRedirectURI, Timeout: time.Minute}
	err := loginRun(context.Background(), opts)
	want := "tenant acme is a Connect tenant: remove it first with 'jwh tenant remove acme' (its shared secret cannot be read back from Jira), or log in under another name"
	if err == nil || err.Error() != want || cmdutil.ExitCode(err) != 2 {
		t.Errorf("got %v", err)
	}
}

func (h *harness) cfg(t *testing.T) *tenant.Config {
	t.Helper()
	cfg, err := h.config()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAddAndImportRefuseOAuthTenant: a Connect tenant never replaces an
// OAuth tenant (its bundle would be lost or orphaned).
func TestAddAndImportRefuseOAuthTenant(t *testing.T) {
	h := newHarness(t)
	seedBothKinds(t, h)
	want := "tenant globex is an OAuth 2.0 tenant: remove it first with 'jwh tenant remove globex', or give the Connect tenant another name"
	h.in.WriteString(theSecret)
	err := addRun(t.Context(), addOpts(h, "globex", "https://globex.example", "k"))
	if err == nil || err.Error() != want || exitCode(err) != 2 {
		t.Errorf("add: %v", err)
	}
	file := h.cfgPath + ".installed"
	if err := os.WriteFile(file, []byte(payload("https://globex.example", "ck-globex")), 0o600); err != nil {
		t.Fatal(err)
	}
	err = importRun(t.Context(), &ImportOptions{IO: h.ios, Config: h.config, Secrets: func() tenant.SecretStore { return h.store }, Name: "globex", File: file})
	if err == nil || err.Error() != want || exitCode(err) != 2 {
		t.Errorf("import: %v", err)
	}
	if got, _ := h.saved(t).Get("globex"); got == nil || !got.IsOAuth() {
		t.Errorf("globex after: %+v", got)
	}
	if l, err := h.cfg(t).Resolver(h.store, h.env.get, "").OAuth(savedTenant(h, t, "globex")); err != nil || l.Secrets.RefreshToken != theSecret+"-rt" {
		t.Errorf("globex's bundle after: %v", err)
	}
}

func savedTenant(h *harness, t *testing.T, name string) *tenant.Tenant {
	t.Helper()
	tn, err := h.saved(t).Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}
