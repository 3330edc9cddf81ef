package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// Thresholds of the checks.
const (
	// ClockWarn is the clock skew above which the clock check warns;
	// Jira refuses a Connect JWT beyond connectjwt.JiraLeeway.
	ClockWarn = 10 * time.Second
	// ExpiringWithin is how soon a webhook must expire for a warning.
	ExpiringWithin = 7 * 24 * time.Hour
	// FailedWithin is how far back failed deliveries count: Jira keeps
	// them about that long.
	FailedWithin = 72 * time.Hour
	// RefreshWarn is how long before a refresh token or a login ends the
	// OAuth checks warn (as every command does on stderr).
	RefreshWarn = oauth.WarnBefore
)

// guide is where docs/troubleshooting.md explains each cause.
const guide = "docs/troubleshooting.md#"

// webhookReadScopes are the scopes, classic or granular, that let an
// OAuth login list its webhooks.
var webhookReadScopes = []string{"manage:jira-webhook", "read:webhook:jira"}

// checker runs the checks of one tenant, sending each result to out as
// soon as it is known.
type checker struct {
	ctx  context.Context
	opts *Options
	cfg  *tenant.Config
	r    *tenant.Resolver
	t    *tenant.Tenant
	out  chan<- Result

	clockOff bool // the clock check failed: a 401 is its doing

	siteOnce sync.Once
	site     string // see siteBase
}

func (c *checker) emit(check string, s Status, detail, fix string) {
	c.out <- Result{Tenant: c.t.Name, Check: check, Status: s, Detail: detail, Fix: fix}
}

func (c *checker) pass(check, detail string)      { c.emit(check, Pass, detail, "") }
func (c *checker) warn(check, detail, fix string) { c.emit(check, Warn, detail, fix) }

// fail reports a failed check; credentials marks a failure of
// credentials (exit status 3).
func (c *checker) fail(check, detail, fix string, credentials bool) {
	c.out <- Result{Tenant: c.t.Name, Check: check, Status: Fail, Detail: detail, Fix: fix, credentials: credentials}
}

func (c *checker) now() time.Time { return c.opts.Now() }

// run runs the checks in order; a check that fails ends those that need
// it.
func (c *checker) run() {
	c.pass("config", c.configDetail())
	if c.t.IsOAuth() {
		if !c.oauthSecrets() {
			return
		}
	} else if !c.connectSecret() {
		return
	}
	client, err := c.opts.Client(c.t, c.r)
	if err != nil {
		// The secrets were read a moment ago, so this is the base URL (or
		// an OAuth tenant's URLs) in the config, unless the keyring has
		// just stopped answering.
		check := "base-url"
		if errors.Is(err, tenant.ErrNoSecret) || errors.Is(err, tenant.ErrKeyringDown) {
			check = "secret"
		}
		c.fail(check, err.Error(), c.reimport(), cmdutil.ExitCode(err) == cmdutil.ExitCredentials)
		return
	}
	if !c.probe(client) {
		return
	}
	c.webhooks(client)
	if !c.t.IsOAuth() {
		c.failedDeliveries(client)
	}
}

// configDetail describes the tenant as the config holds it.
func (c *checker) configDetail() string {
	if c.t.IsOAuth() {
		return fmt.Sprintf("%s: oauth tenant, site %s, client id %s", c.cfg.Path(), c.t.SiteURL, c.t.ClientID)
	}
	return fmt.Sprintf("%s: connect tenant, base URL %s, app key %s", c.cfg.Path(), c.t.BaseURL, c.t.AppKey)
}

// reimport is what fixes a Connect tenant's record: its installed payload
// imported again; for an OAuth tenant, a new login.
func (c *checker) reimport() string {
	if c.t.IsOAuth() {
		return c.t.LoginCommand()
	}
	return "import the app's installed payload again: jwh tenant import " + c.t.Name + " --file installed.json"
}

// connectSecret checks that the shared secret is found, and says where.
func (c *checker) connectSecret() bool {
	secret, src, err := c.r.ConnectSecret(c.t)
	clear(secret)
	if err == nil {
		c.pass("secret", src.Detail)
		return true
	}
	fix := guide + "no-secret-or-the-keyring-is-unavailable"
	var ke *tenant.KeyringError
	switch {
	case src.Kind == tenant.SourceMissing:
		where := "not in the " + tenant.KeyringSource(c.t.Name)
		if c.r.Selected == c.t.Name {
			where += ", and " + tenant.EnvSecret + " is not set"
		}
		c.fail("secret", where, strings.TrimPrefix(src.Detail, "missing: ")+"; see "+fix, true)
	case errors.As(err, &ke):
		detail, advice, _ := strings.Cut(err.Error(), "; ")
		c.fail("secret", detail, advice+"; see "+fix, true)
	default:
		c.fail("secret", err.Error(), "see "+fix, true)
	}
	return false
}

// oauthSecrets checks each secret of an OAuth tenant's bundle, the ages
// of its refresh token and login, and its scopes. It reports whether a
// request can be tried: not without tokens, nor without a scope of the
// webhook API (the gateway would refuse it, and the refused token would
// be refreshed for nothing).
func (c *checker) oauthSecrets() bool {
	login, err := c.r.OAuth(c.t)
	if err != nil {
		if login.ClientSecret != "" {
			c.pass("client-secret", login.ClientSecretFrom.Detail)
		}
		c.fail("tokens", login.Stored.Detail, "log in again: "+c.t.LoginCommand()+"; see "+guide+"oauth-20-tenants", true)
		return false
	}
	b := login.Secrets
	if login.ClientSecret == "" {
		c.fail("client-secret", "the stored login has no client secret", "log in again: "+c.t.LoginCommand(), true)
		return false
	}
	c.pass("client-secret", login.ClientSecretFrom.Detail)
	now := c.now()
	stored := login.Stored.Detail
	hasRefresh := b.RefreshToken != ""
	switch {
	case b.AccessToken != "" && now.Before(b.AccessExpiry):
		c.pass("access-token", fmt.Sprintf("%s: valid until %s", stored, when(b.AccessExpiry, now)))
	case hasRefresh:
		c.pass("access-token", stored+": "+expiredOrNone(b, now)+": the next request refreshes it")
	default:
		c.fail("access-token", stored+": "+expiredOrNone(b, now)+", and there is no refresh token",
			"log in again: "+c.t.LoginCommand(), true)
		return false
	}
	if !hasRefresh {
		c.warn("refresh-token", "none: offline_access was not granted, so the login ends when the access token expires",
			"log in again with offline_access, one of jwh's default scopes: "+c.t.LoginCommand())
	} else {
		issued := b.RefreshIssued
		if issued.IsZero() {
			issued = b.LoginAt
		}
		c.age("refresh-token", issued.Add(tenant.RefreshInactivity), now,
			"90 days without use end it", "any jwh command that refreshes renews it (a daily jwh extend --all does; docs/cron.md), or log in again: "+c.t.LoginCommand())
		if abs := b.AbsoluteExpiry(); !abs.IsZero() {
			c.age("login", abs, now, "365 days after the consent, whatever happens", "log in again: "+c.t.LoginCommand())
		}
	}
	scopes := b.Scopes
	if len(scopes) == 0 {
		scopes = c.t.Scopes
	}
	if len(scopes) > 0 {
		granted := "granted: " + strings.Join(scopes, " ")
		if !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(webhookReadScopes, s) }) {
			c.fail("scopes", granted+"; none lets the login read webhooks (manage:jira-webhook, or read:webhook:jira)",
				"log in again with jwh's default scopes: "+c.t.LoginCommand()+"; see "+guide+"missing-scopes", true)
			return false
		}
		c.pass("scopes", granted)
	}
	return true
}

// expiredOrNone says that the access token has expired, or that there is
// none.
func expiredOrNone(b *tenant.OAuthSecrets, now time.Time) string {
	if b.AccessToken == "" || b.AccessExpiry.IsZero() {
		return "no access token"
	}
	return "the access token expired " + when(b.AccessExpiry, now)
}

// age checks something that ends at end: a warning within RefreshWarn,
// a failure once past.
func (c *checker) age(check string, end, now time.Time, why, fix string) {
	switch {
	case !now.Before(end):
		c.fail(check, fmt.Sprintf("ended %s; %s", when(end, now), why), "log in again: "+c.t.LoginCommand(), true)
	case end.Sub(now) <= RefreshWarn:
		c.warn(check, fmt.Sprintf("ends %s; %s", when(end, now), why), fix)
	default:
		c.pass(check, fmt.Sprintf("valid until %s; %s", when(end, now), why))
	}
}

// when shows a time for the checks' lines: the date and time in UTC and
// how far away it is, "2026-12-23 04:17 UTC (in 29d)" or "... (3d ago)".
func when(at, now time.Time) string {
	return at.UTC().Format("2006-01-02 15:04 UTC") + " (" + strings.TrimPrefix(output.Relative(at, now), "expired ") + ")"
}

// probePath is the signed request that tells whether Jira takes the
// tenant's credentials: GET /rest/api/2/myself for a Connect app. An
// OAuth login lists one webhook instead: /myself needs a scope
// (read:jira-user) that jwh's logins do not ask for.
func (c *checker) probePath() string {
	if c.t.IsOAuth() {
		return jira.WebhookPath + "?maxResults=1"
	}
	return jira.MyselfPath
}

// probe sends the signed request, and checks from its answer that the
// base URL answers, that the clocks agree and that Jira takes the
// credentials. It reports whether the checks that follow can run.
func (c *checker) probe(client *jira.Client) bool {
	path := c.probePath()
	resp, err := client.Do(c.ctx, http.MethodGet, path, nil)
	received := c.now()
	if resp == nil {
		var ae *transport.AuthorizeError
		switch {
		case errors.Is(err, context.Canceled):
		case errors.As(err, &ae):
			c.fail("auth", err.Error(), c.reimport()+"; see "+guide+"oauth-20-tenants", cmdutil.ExitCode(err) == cmdutil.ExitCredentials)
		default:
			c.fail("base-url", err.Error(), "check the tenant's base URL (jwh tenant show "+c.t.Name+") and the network; docs/scripting.md#network says what is retried", false)
		}
		return false
	}
	base := client.BaseURL()
	var apiErr *jira.APIError
	errors.As(err, &apiErr)
	answer := fmt.Sprintf("%d %s to GET %s", resp.Status, http.StatusText(resp.Status), path)
	switch {
	case resp.Status == http.StatusNotFound:
		if site := c.siteBase(base); site != "" {
			c.fail("base-url", fmt.Sprintf("%s answers %s, and %s takes the app's JWT: the path %s is not the site's", base, answer, site, strings.TrimPrefix(base.Path, siteBasePath(site))),
				c.contextPathFix(site), false)
		} else {
			c.fail("base-url", fmt.Sprintf("%s answers %s: no Jira REST API there", base, answer),
				"check the base URL against the site's: "+c.reimport(), false)
		}
		c.clock(resp, received)
		return false
	case apiErr != nil && !apiErr.Credentials():
		c.fail("base-url", fmt.Sprintf("%s answers %s", base, apiErr), "try again later; --debug shows the exchange", false)
		c.clock(resp, received)
		return false
	}
	c.pass("base-url", fmt.Sprintf("%s answers (%s)", base, answer))
	c.clock(resp, received)
	if apiErr == nil {
		if c.t.IsOAuth() {
			c.pass("auth", "the gateway takes the access token (GET "+path+")")
		} else {
			c.pass("auth", "Jira takes the app's JWT (app key "+c.t.AppKey+")")
		}
		return true
	}
	if c.t.IsOAuth() {
		c.oauthRefused(apiErr)
	} else {
		c.connectRefused(base, apiErr)
	}
	return false
}

// clock compares this machine's clock with the Date of Jira's answer,
// received at received. HTTP dates have whole seconds: the answer was
// written within the second after its Date.
func (c *checker) clock(resp *jira.Response, received time.Time) {
	date, ok := resp.Date()
	if !ok {
		c.warn("clock", "Jira's answer has no Date header: the clocks could not be compared",
			"if Jira refuses the JWT, compare this machine's clock with the time; see "+guide+"the-clock-is-off")
		return
	}
	skew := date.Add(500 * time.Millisecond).Sub(received).Round(time.Second)
	abs := skew.Abs()
	var off string
	switch {
	case skew > 0:
		off = fmt.Sprintf("this machine's clock is %s behind Jira's", abs)
	default:
		off = fmt.Sprintf("this machine's clock is %s ahead of Jira's", abs)
	}
	fix := "set this machine's clock right (on Linux: timedatectl set-ntp true); see " + guide + "the-clock-is-off"
	switch {
	case c.t.IsOAuth() && abs > connectjwt.JiraLeeway:
		c.warn("clock", off+": jwh judges when the access token expires by it", fix)
	case abs > connectjwt.JiraLeeway:
		c.clockOff = true
		c.fail("clock", fmt.Sprintf("%s; Jira allows %s", off, connectjwt.JiraLeeway), fix, false)
	case abs > ClockWarn:
		c.warn("clock", fmt.Sprintf("%s; Jira allows %s", off, connectjwt.JiraLeeway), fix)
	case abs <= time.Second:
		c.pass("clock", fmt.Sprintf("within a second of Jira's (Date header); Jira allows %s", connectjwt.JiraLeeway))
	default:
		c.pass("clock", fmt.Sprintf("%s; Jira allows %s", off, connectjwt.JiraLeeway))
	}
}

// refused says how Jira answered a refused request.
func refused(e *jira.APIError) string {
	s := fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	if len(e.Messages) > 0 {
		s += " (" + strings.Join(e.Messages, "; ") + ")"
	}
	return s
}

// uuidRE matches a Jira client key: a UUID, once prefixed with "jira:".
var uuidRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(jira:)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
})

// connectRefused classifies a 401 or 403 to a Connect tenant's JWT by the
// causes of the guide, in the order that tells them apart: the clock
// (measured), the app key (it cannot be a client key), the context path
// (a request signed for a shorter one is taken), the shared secret (what
// is left).
func (c *checker) connectRefused(base *url.URL, e *jira.APIError) {
	head := "Jira refused the app's JWT: " + refused(e)
	if e.Status == http.StatusForbidden {
		c.fail("auth", head+": the app may not read this site: its descriptor lacks the READ scope, or the app is disabled there",
			"the app's descriptor needs the READ scope, which the webhook API takes; see "+guide+"missing-scopes", true)
		return
	}
	switch {
	case c.clockOff:
		c.fail("auth", head+": the clock is off (see clock)",
			"set this machine's clock right (on Linux: timedatectl set-ntp true); see "+guide+"the-clock-is-off", true)
	case c.t.ClientKey != "" && c.t.AppKey == c.t.ClientKey:
		c.fail("auth", head+": the app key is the tenant's client key "+c.t.ClientKey,
			c.reimportKeys(), true)
	case uuidRE().MatchString(c.t.AppKey):
		c.fail("auth", head+": the app key "+c.t.AppKey+" looks like a client key, not the key of an app descriptor",
			c.reimportKeys(), true)
	case base.Path != "" && c.siteBase(base) != "":
		site := c.siteBase(base)
		c.fail("auth", fmt.Sprintf("%s: the base URL's path %s is not the site's: a request to %s, signed for it, is taken", head, strings.TrimPrefix(base.Path, siteBasePath(site)), site),
			c.contextPathFix(site), true)
	default:
		c.fail("auth", head+": the shared secret is not the one Jira has: the app was reinstalled (a new secret) or uninstalled",
			"if the app is still installed, import its latest installed payload: jwh tenant import "+c.t.Name+" --file installed.json; see "+guide+"the-app-was-uninstalled-or-reinstalled", true)
	}
}

// siteBase tries the base URL without the last segments of its path,
// shortest path last, each request signed for the base it goes to, and
// returns the first that Jira takes, or "": a base URL copied from
// elsewhere may carry a path (Confluence's /wiki) that the site, and the
// JWT's qsh, do not have (Jira Cloud sites have none). It sends a request
// per segment at most, and only once Jira has refused the tenant's own.
func (c *checker) siteBase(base *url.URL) string {
	if c.t.IsOAuth() {
		return ""
	}
	c.siteOnce.Do(func() {
		p := strings.TrimSuffix(base.Path, "/")
		for p != "" {
			p = p[:strings.LastIndex(p, "/")]
			u := *base
			u.Path, u.RawPath = p, ""
			t := *c.t
			t.BaseURL = u.String()
			client, err := c.opts.Client(&t, c.r)
			if err != nil {
				return
			}
			if resp, err := client.Do(c.ctx, http.MethodGet, c.probePath(), nil); err == nil && resp.Status < 300 {
				c.site = t.BaseURL
				return
			}
		}
	})
	return c.site
}

// siteBasePath returns the path of a base URL that siteBase returned.
func siteBasePath(site string) string {
	u, err := url.Parse(site)
	if err != nil {
		return ""
	}
	return u.Path
}

// contextPathFix says how to drop a wrong context path.
func (c *checker) contextPathFix(site string) string {
	return "use the site's base URL, " + site + ", as the installed payload's baseUrl has it: jwh tenant import " + c.t.Name +
		" --file installed.json; see " + guide + "a-context-path-in-the-base-url"
}

// reimportKeys says how to set the app key and the client key right.
func (c *checker) reimportKeys() string {
	return "import the installed payload again, whose key is the app key and clientKey the client key: jwh tenant import " + c.t.Name +
		" --file installed.json; see " + guide + "the-app-key-and-the-client-key-mixed-up"
}

// oauthRefused classifies a 401 or 403 from the gateway (which has
// already refreshed a refused token once).
func (c *checker) oauthRefused(e *jira.APIError) {
	head := "the gateway refused the access token: " + refused(e)
	switch {
	case slices.ContainsFunc(e.Messages, func(m string) bool { return strings.Contains(m, "scope does not match") }):
		c.fail("auth", head+": the login lacks a scope of the webhook API",
			"log in again with jwh's default scopes: "+c.t.LoginCommand()+"; see "+guide+"missing-scopes", true)
	case e.Status == http.StatusForbidden:
		c.fail("auth", head+": the user who logged in may not manage webhooks on this site",
			"log in as a user with access to the site: "+c.t.LoginCommand()+"; see "+guide+"missing-scopes", true)
	default:
		c.fail("auth", head+": the user revoked the app's access, or the site removed it",
			"log in again: "+c.t.LoginCommand()+"; see "+guide+"oauth-20-tenants", true)
	}
}

// failRequest reports the request of a check that the credentials check
// let through, and that failed all the same; nothing once the command is
// interrupted.
func (c *checker) failRequest(check string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	var apiErr *jira.APIError
	c.fail(check, err.Error(), "try again later; --debug shows the exchange", errors.As(err, &apiErr) && apiErr.Credentials())
}

// webhooks checks when the tenant's webhooks expire.
func (c *checker) webhooks(client *jira.Client) {
	hooks, err := client.AllWebhooks(c.ctx)
	if err != nil {
		c.failRequest("webhooks", err)
		return
	}
	now := c.now()
	var expired, soon []int64
	var next time.Time
	for _, w := range hooks {
		switch {
		case w.Expiration.IsZero():
		case output.Expired(w.Expiration, now):
			expired = append(expired, w.ID)
		case w.Expiration.Sub(now) <= ExpiringWithin:
			soon = append(soon, w.ID)
			fallthrough
		default:
			if next.IsZero() || w.Expiration.Before(next) {
				next = w.Expiration
			}
		}
	}
	extend := "jwh extend --all -t " + c.t.Name
	switch {
	case len(hooks) == 0:
		c.pass("webhooks", "none registered")
	case len(expired) > 0:
		c.fail("webhooks", fmt.Sprintf("%d of %d expired, so Jira sends them nothing: %s", len(expired), len(hooks), output.JoinIDs(expired)),
			extend+" (expired webhooks can be extended again), then check the cron job; see "+guide+"webhooks-that-expired", false)
	case len(soon) > 0:
		c.warn("webhooks", fmt.Sprintf("%d of %d expire within 7 days, the first at %s: %s", len(soon), len(hooks), when(next, now), output.JoinIDs(soon)),
			extend+", and run it daily from cron (docs/cron.md)")
	case next.IsZero():
		c.pass("webhooks", output.Plural(len(hooks), "webhook")+"; Jira does not say when they expire")
	default:
		c.pass("webhooks", fmt.Sprintf("%s; the first to expire at %s", output.Plural(len(hooks), "webhook"), when(next, now)))
	}
}

// failedDeliveries checks for deliveries that Jira gave up on lately.
func (c *checker) failedDeliveries(client *jira.Client) {
	failed, err := client.FailedWebhooks(c.ctx)
	if err != nil {
		c.failRequest("failed", err)
		return
	}
	now := c.now()
	var n int
	var last jira.FailedWebhook
	for _, f := range failed {
		if !f.FailureTime.IsZero() && now.Sub(f.FailureTime) > FailedWithin {
			continue
		}
		n++
		if f.FailureTime.After(last.FailureTime) || n == 1 {
			last = f
		}
	}
	if n == 0 {
		c.pass("failed", "no failed deliveries in the last 72 hours")
		return
	}
	detail := fmt.Sprintf("%d failed deliveries in the last 72 hours, the last to %s", n, last.URL)
	if n == 1 {
		detail = "1 failed delivery in the last 72 hours, to " + last.URL
	}
	if !last.FailureTime.IsZero() {
		detail += ", at " + when(last.FailureTime, now)
	}
	c.warn("failed", detail, "jwh failed -t "+c.t.Name+" lists them; a callback URL that no longer answers fills this list: see "+guide+"a-tunnel-url-that-changed")
}
