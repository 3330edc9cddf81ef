package sandbox

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// consentHTML is the consent page and the error page of the
// authorization endpoint: plain HTML and CSS, nothing fetched from
// elsewhere, no script.
//
//go:embed page/consent.html
var consentHTML string

// consentTemplate is parsed on first use, not when jwh starts.
var consentTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("consent").Parse(consentHTML))
})

// scopeText says what each scope lets the app do, in the words of
// Atlassian's consent screen.
var scopeText = map[string]string{
	"manage:jira-webhook": "Manage Jira webhooks",
	"read:jira-work":      "View Jira issue data",
	"write:jira-work":     "Create and manage issues",
	"read:jira-user":      "View user profiles",
	"offline_access":      "Keep access to the data you have given it access to (refresh tokens)",
	"read:webhook:jira":   "View webhooks",
	"write:webhook:jira":  "Create and refresh webhooks",
	"delete:webhook:jira": "Delete webhooks",
	"read:jql:jira":       "Validate JQL",
	"read:field:jira":     "View fields",
	"read:project:jira":   "View projects",
	"read:me":             "View your profile",
}

type pageData struct {
	Consent     bool
	Title       string
	Error       string
	App         string
	ClientID    string
	Scopes      []scopeLine
	Sites       []siteLine
	Action      string
	Token       string
	User        string
	RedirectURI string
}

type scopeLine struct{ Name, Text string }

type siteLine struct{ Name, URL string }

// pageHeader is the header of every page of the authorization endpoint:
// it can be neither framed nor cached, loads nothing, and leaks no
// address in a Referer.
func pageHeader() http.Header {
	return http.Header{
		"Content-Security-Policy": {"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"},
		"X-Frame-Options":         {"DENY"},
		"X-Content-Type-Options":  {"nosniff"},
		"Cache-Control":           {"no-store"},
		"Referrer-Policy":         {"no-referrer"},
	}
}

func renderPage(status int, d pageData) response {
	var b bytes.Buffer
	if err := consentTemplate().Execute(&b, d); err != nil {
		panic(fmt.Sprintf("sandbox: rendering the consent page: %v", err)) // the template and data are ours
	}
	return response{status: status, header: pageHeader(), body: b.Bytes(), contentType: "text/html; charset=utf-8"}
}

// htmlError is an error page of the authorization endpoint, which never
// redirects a request it cannot trust to its redirect URI.
func htmlError(status int, title, message string) response {
	return renderPage(status, pageData{Title: title, Error: message})
}

// showConsent shows the consent page for ar, with a fresh form token that
// the answer must carry: it is what keeps another site from posting an
// approval in the user's name.
func (s *Server) showConsent(ar authRequest, user, problem string) response {
	tok := randomToken(32)
	s.mu.Lock()
	now := s.now()
	s.pruneLocked(now)
	if len(s.oauth.pages) >= maxPending {
		s.mu.Unlock()
		return tooMany("consent pages are waiting for an answer", pageLifetime)
	}
	s.oauth.pages[tokenKey(tok)] = &consentPage{req: ar, expires: now.Add(pageLifetime)}
	clientID := s.oauth.clientID
	s.mu.Unlock()
	return s.consentPage(ar, clientID, tok, user, problem, http.StatusOK)
}

func (s *Server) consentPage(ar authRequest, clientID, tok, user, problem string, status int) response {
	d := pageData{
		Consent: true, Title: "Authorize " + OAuthAppName, Error: problem, App: OAuthAppName, ClientID: clientID,
		Action: AuthorizePath, Token: tok, User: user, RedirectURI: ar.redirectURI,
	}
	for _, sc := range ar.scopes {
		text := scopeText[sc]
		if text == "" {
			text = "Use the scope"
		}
		d.Scopes = append(d.Scopes, scopeLine{sc, text})
	}
	for _, t := range s.Tenants() {
		d.Sites = append(d.Sites, siteLine{t.name, t.BaseURL()})
	}
	return renderPage(status, d)
}

// consentAnswer serves the consent page's form: Accept redirects to the
// callback with a code, Deny with error=access_denied.
func (s *Server) consentAnswer(r *http.Request, rec *Request) response {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		rec.Reason = "consent posted from another site (Sec-Fetch-Site " + site + ")"
		return htmlError(http.StatusForbidden, "Refused", "The consent form was posted from another site.")
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !strings.EqualFold(o, "http://"+r.Host) {
		rec.Reason = "consent posted from another origin: " + o
		return htmlError(http.StatusForbidden, "Refused", "The consent form was posted from another site ("+o+").")
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		rec.Reason = "consent answer not form-encoded"
		return htmlError(http.StatusBadRequest, "Bad answer", "The consent page's answer must be form-encoded.")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBody+1))
	if err != nil || len(b) > maxTokenBody {
		rec.Reason = "consent answer unreadable or too large"
		return htmlError(http.StatusBadRequest, "Bad answer", "The consent page's answer could not be read.")
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		rec.Reason = "consent answer not form-encoded"
		return htmlError(http.StatusBadRequest, "Bad answer", "The consent page's answer must be form-encoded.")
	}
	key := tokenKey(form.Get("consent"))
	s.mu.Lock()
	s.pruneLocked(s.now())
	page, ok := s.oauth.pages[key]
	clientID := s.oauth.clientID
	s.mu.Unlock()
	if !ok {
		rec.Reason = "unknown, used or expired consent page"
		return htmlError(http.StatusBadRequest, "This page has expired",
			"This consent page has expired or was already answered: start the login again (run jwh tenant login again).")
	}
	take := func() bool { // the page is answered once
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.oauth.pages[key]; !ok {
			return false
		}
		delete(s.oauth.pages, key)
		return true
	}
	switch form.Get("action") {
	case "deny":
		if !take() {
			rec.Reason = "consent page answered twice"
			return htmlError(http.StatusBadRequest, "This page has expired", "This consent page was already answered: start the login again.")
		}
		rec.Reason = "denied on the consent page"
		return denyRedirect(page.req)
	case "approve":
	default:
		rec.Reason = "consent answer is neither approve nor deny"
		return htmlError(http.StatusBadRequest, "Bad answer", "The consent page's answer must be Accept or Deny.")
	}
	user := strings.TrimSpace(form.Get("user"))
	if problem := checkUser(user); problem != "" {
		rec.Reason = problem
		return s.consentPage(page.req, clientID, form.Get("consent"), user, problem+".", http.StatusBadRequest)
	}
	if !take() {
		rec.Reason = "consent page answered twice"
		return htmlError(http.StatusBadRequest, "This page has expired", "This consent page was already answered: start the login again.")
	}
	rec.User, rec.Verified = user, true
	return s.approve(page.req, user)
}

var tagRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<[^>]*>`) })

// pageText is the message of an error page, for an error line: the text
// of its error paragraph, or of the whole page.
func pageText(b []byte) string {
	s := string(b)
	if i := strings.Index(s, `id="error">`); i >= 0 {
		s = s[i+len(`id="error">`):]
		if j := strings.Index(s, "</p>"); j >= 0 {
			s = s[:j]
		}
	}
	s = strings.Join(strings.Fields(tagRE().ReplaceAllString(s, " ")), " ")
	s = strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`).Replace(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
