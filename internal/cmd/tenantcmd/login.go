package tenantcmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/cli/browser"
	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// DefaultLoginTimeout is how long jwh tenant login waits for the browser.
const DefaultLoginTimeout = 5 * time.Minute

// LoginOptions are the inputs of jwh tenant login.
type LoginOptions struct {
	IO      *iostreams.IOStreams
	Config  func() (*tenant.Config, error)
	Secrets func() tenant.SecretStore
	Getenv  func(string) string
	Now     func() time.Time
	// HTTPClient returns the client of the requests to the authorization
	// server and the gateway (timeouts, --debug).
	HTTPClient func() (*http.Client, error)
	// Browser opens an address in the user's browser.
	Browser func(url string) error
	JSON    bool // -o json

	Name        string // empty: the site's host name
	ClientID    string
	Site        string   // --site: a URL or a cloud id
	Scopes      []string // --scope, else oauth.DefaultScopes
	RedirectURI string   // from --redirect-uri or --callback-port, else oauth.DefaultRedirectURI
	NoBrowser   bool
	NoKeyring   bool
	AuthURL     string // --auth-url, normalised; empty when not given
	APIURL      string // --api-url, normalised; empty when not given
	Timeout     time.Duration
}

// NewCmdLogin returns jwh tenant login. Tests pass runF to see the parsed
// Options.
func NewCmdLogin(f *cmdutil.Factory, runF func(*LoginOptions) error) *cobra.Command {
	opts := &LoginOptions{}
	var port int
	cmd := &cobra.Command{
		Use:   "login [<name>] --client-id <id>",
		Short: "Log in to a Jira site with an OAuth 2.0 (3LO) app",
		Long: `Log in to a Jira site as a user of an OAuth 2.0 (3LO) app and keep the login as
a tenant of kind oauth. Every command works on it as on a Connect tenant, through
Atlassian's API gateway (API_URL/ex/jira/CLOUD_ID) with a bearer token.

The client secret (developer console: the app's Settings) comes from
JWH_CLIENT_SECRET when set, else from the first line of standard input when it
is not a terminal, else from a prompt without echo; never from a flag or an
argument.

jwh opens the authorization page in the browser (the command in $BROWSER, else
the system's), prints its address too, and waits on a loopback server for the
browser to come back to the redirect URI: http://localhost:8976/callback, or on
another port with --callback-port, or --redirect-uri. That address must be one
of the app's callback URLs (developer console: Authorization → OAuth 2.0 (3LO)),
character for character. The answer's state is checked, the code exchanged for
tokens, and the site chosen among those the login covers: --site (a URL or a
cloud id), else the only one. --timeout bounds the wait (default 5m).

--no-browser is for a machine where the browser runs elsewhere: jwh prints the
address to open, and reads the address the browser was sent to (pasted from its
address bar, even though that page fails to load) from standard input: after the
client secret's line when piped, else at a second prompt.

The scopes default to manage:jira-webhook read:jira-work offline_access. Without
offline_access granted there is no refresh token: the login works until its
access token expires (an hour), and jwh says so.

The secrets (client secret, refresh token, access token) are stored together in
the OS keyring (service jwh, user = NAME), or with --no-keyring in
credentials.json next to the config file (mode 0600); the config file holds no
secret. --auth-url and --api-url (defaults https://auth.atlassian.com and
https://api.atlassian.com; plain http only for loopback hosts) are stored on
the tenant: the sandbox plays both.

NAME defaults to the site's host name. Logging in again to a name replaces its
tokens; without --site, --auth-url and --api-url it keeps the tenant's site and
URLs. A name that is a Connect tenant is refused: remove it first with 'jwh
tenant remove NAME' (its shared secret cannot be read back from Jira, so jwh
does not replace it by accident). The first tenant becomes the default.

With -o json, prints {"name", "kind", "site", "cloudId", "clientId", "scopes",
"storage", "default", "updated", "accessExpiry", "refreshToken" (whether there
is one), "refreshExpiry", "loginExpiry"}: times in RFC 3339, null when there is
no refresh token.

Exit status: 0 logged in, 2 bad input (flags, a redirect URI jwh cannot receive
or its port taken, an answer for another login, no answer in time, several sites
and no --site), 3 credentials (consent denied, client id or secret refused, the
keyring unavailable), 1 anything else.`,
		Example: `  jwh tenant login --client-id Abc123            # prompts for the client secret
  printf '%s\n' "$CLIENT_SECRET" | jwh tenant login acme --client-id Abc123 --site https://acme.atlassian.net
  JWH_CLIENT_SECRET=... jwh tenant login --client-id Abc123 --no-browser --no-keyring`,
		Args: cmdutil.MaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g := cmdutil.GlobalsOf(cmd)
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Secrets = f.Secrets
			opts.Getenv = f.Getenv
			opts.Now = f.Now
			opts.HTTPClient = func() (*http.Client, error) { return f.OAuthHTTPClient(g.Debug) }
			opts.Browser = openBrowser(f.Getenv, f.IOStreams.ErrOut)
			opts.JSON = g.JSON
			if len(args) == 1 {
				opts.Name = args[0]
				if err := tenant.ValidateName(opts.Name); err != nil {
					return cmdutil.InputError(err)
				}
			}
			opts.ClientID = strings.TrimSpace(opts.ClientID)
			if opts.ClientID == "" {
				return cmdutil.UsageErrorf("missing --client-id: the app's client id (developer console: Settings)")
			}
			fl := cmd.Flags()
			if err := cmdutil.MutuallyExclusive("specify either --callback-port or --redirect-uri, not both",
				fl.Changed("callback-port"), fl.Changed("redirect-uri")); err != nil {
				return err
			}
			switch {
			case fl.Changed("callback-port"):
				if port < 1 || port > 65535 {
					return cmdutil.UsageErrorf("invalid --callback-port %d: use a port from 1 to 65535", port)
				}
				opts.RedirectURI = oauth.RedirectURIForPort(port)
			case fl.Changed("redirect-uri"):
				if _, err := oauth.ParseRedirectURI(opts.RedirectURI); err != nil {
					return cmdutil.InputError(err)
				}
			default:
				opts.RedirectURI = oauth.DefaultRedirectURI
			}
			opts.Scopes = scopeList(opts.Scopes)
			if len(opts.Scopes) == 0 {
				opts.Scopes = slices.Clone(oauth.DefaultScopes)
			}
			for _, u := range []struct {
				flag  string
				value *string
			}{{"auth-url", &opts.AuthURL}, {"api-url", &opts.APIURL}} {
				if !fl.Changed(u.flag) {
					continue
				}
				v, err := urlpolicy.ParseBaseURL(*u.value)
				if err != nil {
					return cmdutil.InputErrorf("invalid --%s %q: %s", u.flag, urlpolicy.Redacted(*u.value), urlpolicy.Reason(err))
				}
				*u.value = v.String()
			}
			opts.Site = strings.TrimSpace(opts.Site)
			if opts.Timeout <= 0 {
				return cmdutil.UsageErrorf("invalid --timeout %s: use a duration above 0, such as 5m", opts.Timeout)
			}
			if runF != nil {
				return runF(opts)
			}
			return loginRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.ClientID, "client-id", "", "the app's client `id` (required)")
	fl.StringVar(&opts.Site, "site", "", "the site to use, by `URL or cloud id`, when the login covers several")
	fl.StringArrayVar(&opts.Scopes, "scope", nil, "a `scope` to ask for (repeatable, or space- or comma-separated); default manage:jira-webhook read:jira-work offline_access")
	fl.IntVar(&port, "callback-port", oauth.DefaultCallbackPort, "the `port` of the redirect URI http://localhost:PORT/callback")
	fl.StringVar(&opts.RedirectURI, "redirect-uri", "", "the redirect `URI`: http://localhost:PORT/PATH, one of the app's callback URLs")
	fl.BoolVar(&opts.NoBrowser, "no-browser", false, "print the address to open and read the address the browser was sent to")
	fl.BoolVar(&opts.NoKeyring, "no-keyring", false, "store the secrets in credentials.json next to the config file, not in the keyring")
	fl.StringVar(&opts.AuthURL, "auth-url", "", "the authorization server's `URL` (default https://auth.atlassian.com)")
	fl.StringVar(&opts.APIURL, "api-url", "", "the API gateway's `URL` (default https://api.atlassian.com)")
	fl.DurationVar(&opts.Timeout, "timeout", DefaultLoginTimeout, "how long to wait for the browser's answer")
	return cmd
}

// scopeList splits the values of --scope at spaces and commas.
func scopeList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// openBrowser returns the func that opens an address in the browser: the
// command in $BROWSER (split at spaces, the address appended), else the
// system's (xdg-open and the like, through github.com/cli/browser). What
// they print goes to w, never to standard output.
func openBrowser(getenv func(string) string, w io.Writer) func(string) error {
	return func(u string) error {
		if words := strings.Fields(getenv("BROWSER")); len(words) > 0 {
			cmd := exec.Command(words[0], append(words[1:], u)...)
			cmd.Stdout, cmd.Stderr = w, w
			return cmd.Run()
		}
		browser.Stdout, browser.Stderr = w, w
		return browser.OpenURL(u)
	}
}

// login is one run of jwh tenant login.
type login struct {
	opts     *LoginOptions
	cfg      *tenant.Config
	existing *tenant.Tenant // the OAuth tenant of that name, when logging in again
	app      *oauth.App
	redirect *url.URL
	cs       iostreams.ColorScheme
}

func loginRun(ctx context.Context, opts *LoginOptions) error {
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	l := &login{opts: opts, cfg: cfg, cs: opts.IO.ErrColorScheme()}
	if opts.Name != "" {
		if t, err := cfg.Get(opts.Name); err == nil {
			if !t.IsOAuth() {
				return connectTenantError(t.Name)
			}
			l.existing = t
		}
	}
	l.redirect, err = oauth.ParseRedirectURI(opts.RedirectURI)
	if err != nil {
		return err
	}
	// The callback port first: if it is taken, no secret is asked for.
	var srv *oauth.CallbackServer
	if !opts.NoBrowser {
		if srv, err = oauth.ListenCallback(l.redirect); err != nil {
			return err
		}
		defer srv.Close()
	}
	secret, err := l.clientSecret()
	if err != nil {
		return err
	}
	hc, err := opts.HTTPClient()
	if err != nil {
		return err
	}
	var prev tenant.Tenant
	if l.existing != nil {
		prev = *l.existing
	}
	authURL, apiURL := oauth.Endpoints(&prev)
	l.app = &oauth.App{
		ClientID: opts.ClientID, ClientSecret: secret,
		AuthURL:     cmp.Or(opts.AuthURL, authURL),
		APIURL:      cmp.Or(opts.APIURL, apiURL),
		RedirectURI: opts.RedirectURI, Scopes: opts.Scopes, HTTPClient: hc, Now: opts.Now,
	}
	state, err := oauth.NewState()
	if err != nil {
		return err
	}
	if opts.NoBrowser {
		answer, err := l.pasted(ctx, state)
		if err != nil {
			return err
		}
		_, err = l.complete(ctx, answer, state)
		return err
	}
	answer, err := l.waitForBrowser(ctx, srv, state)
	if err != nil {
		return err
	}
	t, err := l.complete(ctx, answer, state)
	if err != nil {
		srv.Finish(err.Error(), true)
		return err
	}
	srv.Finish(fmt.Sprintf("Logged in to %s as tenant %s.", t.SiteURL, t.Name), false)
	return nil
}

// connectTenantError refuses to turn a Connect tenant into an OAuth one.
func connectTenantError(name string) error {
	return cmdutil.InputErrorf("tenant %s is a Connect tenant: remove it first with 'jwh tenant remove %s' (its shared secret cannot be read back from Jira), or log in under another name", name, name)
}

// oauthTenantError refuses to turn an OAuth tenant into a Connect one.
func oauthTenantError(name string) error {
	return cmdutil.InputErrorf("tenant %s is an OAuth 2.0 tenant: remove it first with 'jwh tenant remove %s', or give the Connect tenant another name", name, name)
}

// clientSecret reads the client secret: JWH_CLIENT_SECRET, else the first
// line of standard input, else a prompt without echo.
func (l *login) clientSecret() (string, error) {
	if s := strings.TrimSpace(l.opts.Getenv(tenant.EnvClientSecret)); s != "" {
		return s, nil
	}
	s, err := l.opts.IO.ReadSecretLine("Client secret of the app " + l.opts.ClientID + ": ")
	switch {
	case errors.Is(err, io.EOF):
		s = ""
	case err != nil:
		return "", cmdutil.InputError(err)
	}
	if s = strings.TrimSpace(s); s == "" {
		if l.opts.IO.IsStdinTTY() {
			return "", cmdutil.InputErrorf("empty client secret: type the app's client secret (developer console: Settings)")
		}
		return "", cmdutil.InputErrorf("no client secret: set %s, or pipe the app's client secret on the first line of standard input", tenant.EnvClientSecret)
	}
	return s, nil
}

// noAnswer is the advice when the browser never came back: the
// authorization server shows a redirect URI it does not know in the
// browser, and never redirects.
func (l *login) noAnswer(within string) string {
	return fmt.Sprintf("no answer from the browser%s: if Atlassian said the redirect URI is not registered, add %s to the app's callback URLs in the developer console (Authorization → OAuth 2.0 (3LO)), then try again",
		within, l.redirect)
}

// waitForBrowser opens the authorization page and waits for the browser
// to bring the answer to srv.
func (l *login) waitForBrowser(ctx context.Context, srv *oauth.CallbackServer, state string) (*oauth.Answer, error) {
	w := l.opts.IO.ErrOut
	authURL := l.app.AuthCodeURL(state)
	fmt.Fprintf(w, "Opening the authorization page in your browser; if it does not open, open this address:\n  %s\n", authURL)
	fmt.Fprintf(w, "Waiting up to %s for the browser to come back to %s, which must be one of the app's callback URLs (developer console: Authorization → OAuth 2.0 (3LO)).\n",
		l.opts.Timeout, l.redirect)
	opened := make(chan error, 1)
	go func() { opened <- l.opts.Browser(authURL) }()
	wctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	type result struct {
		answer *oauth.Answer
		err    error
	}
	answers := make(chan result, 1)
	go func() {
		a, err := srv.Wait(wctx)
		answers <- result{a, err}
	}()
	for {
		select {
		case err := <-opened:
			if err != nil {
				fmt.Fprintf(w, "%s cannot open a browser (%v): open the address above yourself\n", l.cs.WarningIcon(), err)
			}
			opened = nil // the browser command has ended; keep waiting for its answer
		case r := <-answers:
			switch {
			case r.err == nil:
				return r.answer, nil
			case ctx.Err() != nil:
				fmt.Fprintln(w, l.noAnswer(""))
				return nil, ctx.Err()
			}
			return nil, &oauth.Error{Kind: oauth.ErrNoAnswer, Msg: l.noAnswer(" within " + l.opts.Timeout.String())}
		}
	}
}

// pasted prints the authorization page's address and reads the address
// the browser was sent to from standard input (--no-browser).
func (l *login) pasted(ctx context.Context, state string) (*oauth.Answer, error) {
	w := l.opts.IO.ErrOut
	fmt.Fprintf(w, "Open this address in a browser, log in and choose Accept:\n  %s\n", l.app.AuthCodeURL(state))
	fmt.Fprintf(w, "The browser is then sent to %s?code=...; on a machine where jwh does not listen that page fails to load, which is expected: copy its address from the address bar.\n", l.redirect)
	type result struct {
		line string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		line, err := l.opts.IO.ReadLine("Paste the address here: ")
		got <- result{line, err}
	}()
	wctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	select {
	case r := <-got:
		switch {
		case errors.Is(r.err, io.EOF):
			return nil, &oauth.Error{Kind: oauth.ErrBadAnswer,
				Msg: "no address on standard input: give the address the browser was sent to on the line after the client secret (or run on a terminal to paste it)"}
		case r.err != nil:
			return nil, cmdutil.InputErrorf("read the address: %v", r.err)
		}
		return oauth.ParseAnswer(r.line, l.redirect)
	case <-wctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &oauth.Error{Kind: oauth.ErrNoAnswer, Msg: fmt.Sprintf("no address pasted within %s: run jwh tenant login again (with a longer --timeout)", l.opts.Timeout)}
	}
}

// complete checks the answer, exchanges its code, chooses the site and
// saves the tenant and its secrets.
func (l *login) complete(ctx context.Context, answer *oauth.Answer, state string) (*tenant.Tenant, error) {
	code, err := answer.Check(state)
	if err != nil {
		return nil, err
	}
	tok, err := l.app.Exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	sites, err := l.app.AccessibleResources(ctx, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	want := l.opts.Site
	if want == "" && l.existing != nil {
		want = l.existing.CloudID
	}
	site, err := oauth.ChooseSite(sites, want)
	if err != nil {
		return nil, err
	}
	t, bundle, updated, madeDefault, err := l.save(ctx, site, tok)
	if err != nil {
		return nil, err
	}
	return t, l.report(t, bundle, updated, madeDefault)
}

// save writes the tenant and its secrets, under the config's lock and the
// tenant's refresh lock: the secrets first, then the config; if the config
// cannot be saved, the secrets are put back as they were. It returns the
// tenant and the bundle it stored.
func (l *login) save(ctx context.Context, site *oauth.Site, tok *oauth.Token) (t *tenant.Tenant, bundle *tenant.OAuthSecrets, updated, madeDefault bool, err error) {
	siteURL := strings.TrimRight(site.URL, "/")
	name := l.opts.Name
	if name == "" {
		u, _ := url.Parse(siteURL)
		if u != nil {
			name = u.Hostname()
		}
		if err := tenant.ValidateName(name); err != nil {
			return nil, nil, false, false, cmdutil.InputErrorf("cannot name the tenant after the site %s: give a name, as in 'jwh tenant login NAME --client-id %s'", siteURL, l.opts.ClientID)
		}
	}
	cfg := l.cfg
	unlock, err := cfg.Lock(ctx)
	if err != nil {
		return nil, nil, false, false, err
	}
	defer unlock()
	var cur *tenant.Tenant
	if c, err := cfg.Get(name); err == nil {
		if !c.IsOAuth() {
			return nil, nil, false, false, connectTenantError(name)
		}
		cur = c
	}
	nt := tenant.Tenant{
		Name: name, Kind: tenant.KindOAuth, ClientID: l.opts.ClientID, CloudID: site.ID, SiteURL: siteURL,
		Scopes: tok.Scopes, Storage: tenant.StorageKeyring,
	}
	if l.app.AuthURL != oauth.DefaultAuthURL {
		nt.AuthURL = l.app.AuthURL
	}
	if l.app.APIURL != oauth.DefaultAPIURL {
		nt.APIURL = l.app.APIURL
	}
	if l.opts.NoKeyring {
		nt.Storage = tenant.StorageFile
	}
	now := time.Now()
	if l.opts.Now != nil {
		now = l.opts.Now()
	}
	bundle = &tenant.OAuthSecrets{
		ClientSecret: l.app.ClientSecret, RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken,
		AccessExpiry: tok.Expiry, LoginAt: now, Scopes: tok.Scopes,
	}
	if tok.RefreshToken != "" {
		bundle.RefreshIssued = now
	}
	r := cfg.Resolver(l.opts.Secrets(), l.opts.Getenv, "")
	// No refresh of the login this one replaces may store its tokens
	// over the new ones.
	unlockLogin, err := r.LockOAuth(ctx, &nt)
	if err != nil {
		return nil, nil, false, false, err
	}
	defer unlockLogin()
	var old *tenant.OAuthSecrets
	if cur != nil && cur.StorageOf() == nt.StorageOf() {
		if prev, err := r.OAuth(cur); err == nil {
			old = prev.Secrets
		}
	}
	if err := r.SaveOAuth(&nt, bundle); err != nil {
		return nil, nil, false, false, err
	}
	oldDefault := cfg.Default
	cfg.Put(nt)
	if err := cfg.Save(); err != nil {
		if cur != nil {
			cfg.Put(*cur)
		} else {
			_ = cfg.Remove(name)
		}
		cfg.Default = oldDefault
		var rerr error
		if old != nil {
			rerr = r.SaveOAuth(cur, old)
		} else {
			rerr = r.DeleteSecrets(&nt)
		}
		if rerr != nil {
			return nil, nil, false, false, fmt.Errorf("%w (and the secrets stored for tenant %s could not be put back: %v)", err, name, rerr)
		}
		return nil, nil, false, false, err
	}
	if cur != nil && cur.StorageOf() != nt.StorageOf() {
		// The previous login's secrets, left where it kept them.
		if err := r.DeleteSecrets(cur); err != nil && !errors.Is(err, tenant.ErrNoSecret) {
			fmt.Fprintf(l.opts.IO.ErrOut, "%s the previous login's secrets of tenant %s may remain: %v\n", l.cs.WarningIcon(), name, err)
		}
	}
	return &nt, bundle, cur != nil, oldDefault == "" && cfg.Default == name, nil
}

// loginJSON is the -o json output of jwh tenant login.
type loginJSON struct {
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	Site          string   `json:"site"`
	CloudID       string   `json:"cloudId"`
	ClientID      string   `json:"clientId"`
	Scopes        []string `json:"scopes"`
	Storage       string   `json:"storage"`
	Default       bool     `json:"default"`
	Updated       bool     `json:"updated"`
	AccessExpiry  *string  `json:"accessExpiry"`
	RefreshToken  bool     `json:"refreshToken"`
	RefreshExpiry *string  `json:"refreshExpiry"`
	LoginExpiry   *string  `json:"loginExpiry"`
}

// report says what was saved, tenant t and its bundle b: -o json on
// standard output, else lines on standard error.
func (l *login) report(t *tenant.Tenant, b *tenant.OAuthSecrets, updated, madeDefault bool) error {
	if l.opts.JSON {
		j := loginJSON{
			Name: t.Name, Kind: tenant.KindOAuth, Site: t.SiteURL, CloudID: t.CloudID, ClientID: t.ClientID,
			Scopes: output.NonNil(t.Scopes), Storage: t.StorageOf(), Default: l.cfg.Default == t.Name, Updated: updated,
			AccessExpiry: rfc3339(b.AccessExpiry), RefreshToken: b.RefreshToken != "",
			RefreshExpiry: rfc3339(b.RefreshExpiry()), LoginExpiry: rfc3339(b.AbsoluteExpiry()),
		}
		return output.JSON(l.opts.IO.Out, j)
	}
	w := l.opts.IO.ErrOut
	verb := "Logged in"
	if updated {
		verb = "Logged in again"
	}
	fmt.Fprintf(w, "%s %s to %s as tenant %s (cloud id %s)\n", l.cs.SuccessIcon(), verb, t.SiteURL, l.cs.Bold(t.Name), t.CloudID)
	if t.StorageOf() == tenant.StorageFile {
		fmt.Fprintf(w, "Secrets stored in %s\n", l.cfg.CredentialsPath())
	} else {
		fmt.Fprintf(w, "Secrets stored in the %s\n", tenant.KeyringSource(t.Name))
	}
	if b.RefreshToken == "" {
		fmt.Fprintf(w, "%s no refresh token (offline_access not granted): this login works until the access token expires at %s; add offline_access to --scope and the app's permissions for cron use\n",
			l.cs.WarningIcon(), b.AccessExpiry.UTC().Format(time.RFC3339))
	}
	if madeDefault {
		fmt.Fprintf(w, "%s is the default tenant\n", t.Name)
	}
	return nil
}

// rfc3339 returns t in RFC 3339 (UTC), or nil for the zero time.
func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}
