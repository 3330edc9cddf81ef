package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// OAuthWebhook is a webhook that a user registered with the OAuth app
// through the gateway. Jira keeps it per app, user and site: only that
// user lists, refreshes and deletes it.
type OAuthWebhook struct {
	Webhook
	User string // the sandbox user who registered it; AccountID(User) is its owner
}

// CloudID returns the tenant's cloud id: the id of the site in
// accessible-resources and in gateway paths.
func (t *Tenant) CloudID() string { return t.cloudID }

// OAuthCallback returns the URL the OAuth app's webhooks on the tenant
// deliver to, "" while it has none.
func (t *Tenant) OAuthCallback() string {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.oauthCallback
}

// OAuthWebhooks returns copies of the OAuth app's webhooks on the tenant,
// every user's, by id, expired ones included.
func (t *Tenant) OAuthWebhooks() []OAuthWebhook {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	out := make([]OAuthWebhook, len(t.oauthHooks))
	for i, w := range t.oauthHooks {
		out[i] = OAuthWebhook{w.Webhook.clone(), w.User}
	}
	return out
}

// OAuthFailedDeliveries returns the deliveries to the OAuth app's webhooks
// that failed for good, oldest first. Jira lists failed deliveries to
// Connect apps only, so no endpoint shows them.
func (t *Tenant) OAuthFailedDeliveries() []FailedDelivery {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	retained := t.s.retainedFunc()
	var out []FailedDelivery
	for _, f := range t.oauthFailed {
		if retained(f) {
			out = append(out, f)
		}
	}
	return out
}

// The scopes that each webhook operation takes: the classic scope, or
// the granular one.
var (
	scopesRead   = []string{"manage:jira-webhook", "read:webhook:jira"}
	scopesWrite  = []string{"manage:jira-webhook", "write:webhook:jira"}
	scopesDelete = []string{"manage:jira-webhook", "delete:webhook:jira"}
)

// gateway serves API_URL/ex/jira/{cloudId}/...: a site's API with a
// user's access token. It checks the token, finds the site, checks the
// token's scopes for the operation, then answers as the Connect API does
// (faults, denial, 429s and 503s included) but for the user's webhooks of
// the OAuth app. The trigger endpoint is there too, with any valid token.
func (s *Server) gateway(r *http.Request, rec *Request) response {
	cloudID, sub, _ := strings.Cut(strings.TrimPrefix(rec.Path, GatewayPath), "/")
	g, reason := s.bearer(r)
	if reason != "" {
		rec.Reason = reason
		return unauthorized("Unauthorized")
	}
	rec.User = g.user
	t := s.siteByCloudID(cloudID)
	if t == nil {
		return jiraError(http.StatusNotFound, fmt.Sprintf("No site has the cloud id %q: accessible-resources lists the sites and their ids.", cloudID))
	}
	rec.Tenant = t.name
	rest := connectjwt.CanonicalPath("/"+sub, "")
	if rest == TriggerPath {
		rec.Verified = true
		return s.admin(r, t) // the sandbox's own endpoint: no faults, no denial
	}
	endpoint, scopes := s.oauthRoute(r, t, g, rest)
	if scopes != nil && !slices.ContainsFunc(scopes, func(sc string) bool { return slices.Contains(g.scopes, sc) }) {
		rec.Reason = fmt.Sprintf("scope does not match: %s %s needs %s; the token has %s",
			r.Method, rest, strings.Join(scopes, " or "), strings.Join(g.scopes, " "))
		return unauthorized("Unauthorized; scope does not match")
	}
	rec.Verified = true
	return s.serveVerified(t, rec, endpoint)
}

func (s *Server) siteByCloudID(id string) *Tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byCloudID[id]
}

// oauthRoute returns the endpoint that serves a gateway request and the
// scopes it needs (nil: any valid token).
func (s *Server) oauthRoute(r *http.Request, t *Tenant, g grant, rest string) (func() response, []string) {
	if sub, ok := apiPath(rest); ok {
		switch sub {
		case "webhook":
			switch r.Method {
			case http.MethodPost:
				return func() response { return s.oauthRegister(r, t, g.user) }, scopesWrite
			case http.MethodGet:
				return func() response { return s.oauthList(r, t, g.user) }, scopesRead
			case http.MethodDelete:
				return func() response { return s.oauthDelete(r, t, g.user) }, scopesDelete
			}
			return func() response { return methodNotAllowed(r, "DELETE, GET, POST") }, nil
		case "webhook/refresh":
			if r.Method == http.MethodPut {
				return func() response { return s.oauthRefresh(r, t, g.user) }, scopesWrite
			}
			return func() response { return methodNotAllowed(r, "PUT") }, nil
		case "webhook/failed":
			if r.Method == http.MethodGet {
				return func() response {
					return jiraError(http.StatusForbidden, "Only Connect apps can use this operation.")
				}, nil
			}
			return func() response { return methodNotAllowed(r, "GET") }, nil
		case "myself":
			if r.Method == http.MethodGet {
				return func() response { return myselfAnswer(t, AccountID(g.user), "atlassian", g.user) }, nil
			}
			return func() response { return methodNotAllowed(r, "GET") }, nil
		}
	}
	return func() response {
		return jiraError(http.StatusNotFound, fmt.Sprintf(
			"The sandbox does not emulate %s %s: its gateway serves /rest/api/2/webhook, /rest/api/2/webhook/refresh, /rest/api/2/webhook/failed and /rest/api/2/myself (or /rest/api/3/...).",
			r.Method, rest))
	}, nil
}

func (s *Server) oauthRegister(r *http.Request, t *Tenant, user string) response {
	return s.createWebhooks(r, t, &t.oauthCallback, webhookspec.OAuth,
		func() int {
			n := 0
			for _, w := range t.oauthHooks {
				if w.User == user {
					n++
				}
			}
			return n
		},
		func(w Webhook) { t.oauthHooks = append(t.oauthHooks, OAuthWebhook{w, user}) })
}

func (s *Server) oauthList(r *http.Request, t *Tenant, user string) response {
	return s.listPage(r, func() []Webhook {
		var mine []Webhook
		for _, w := range t.oauthHooks {
			if w.User == user {
				mine = append(mine, w.Webhook)
			}
		}
		return mine
	})
}

func (s *Server) oauthDelete(r *http.Request, t *Tenant, user string) response {
	return s.changeWebhooks(r, t, func(ids []int64) bool {
		kept := slices.DeleteFunc(slices.Clone(t.oauthHooks), func(w OAuthWebhook) bool {
			return w.User == user && slices.Contains(ids, w.ID)
		})
		if len(kept) == len(t.oauthHooks) {
			return false
		}
		t.oauthHooks = kept
		if len(kept) == 0 {
			t.oauthCallback = ""
		}
		return true
	}, deleted)
}

func (s *Server) oauthRefresh(r *http.Request, t *Tenant, user string) response {
	expires := s.now().Add(Lifetime)
	return s.changeWebhooks(r, t, func(ids []int64) bool {
		changed := false
		for i, w := range t.oauthHooks {
			if w.User == user && slices.Contains(ids, w.ID) {
				t.oauthHooks[i].ExpiresAt = expires
				changed = true
			}
		}
		return changed
	}, s.refreshed(expires))
}
