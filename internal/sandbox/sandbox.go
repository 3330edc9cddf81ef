// Package sandbox is the project's one stand-in for Jira Cloud: an
// http.Handler that serves Jira's dynamic-webhook API (register, list,
// delete, refresh, failed deliveries) and GET /rest/api/2/myself for several
// tenants at once, each under its own context path, checking every Connect
// JWT and its qsh exactly as Jira does and enforcing Jira's limits (100
// webhooks per app and tenant, one callback URL, and the rules of
// internal/webhookspec on the callback URL, events and JQL filters). It
// backs jwh sandbox, jwh demo and the tests of every client package, which
// run it on loopback with Listen.
//
// It also plays Atlassian's side of an OAuth 2.0 (3LO) app, on its root
// URL: the authorization endpoint (a consent page, or approve=USER
// without one), the token endpoint with rotating refresh tokens, the
// reuse interval and the 90-day and 365-day expiries, accessible-
// resources (every tenant is a site with a cloud id), and the gateway
// /ex/jira/{cloudId}/... that serves the same webhook API to a user's
// access token, with per-user ownership and Jira's limit of 5 webhooks per
// user and site. Webhooks registered there are delivered with a Bearer
// JWT signed with the client secret.
//
// Options make it misbehave on purpose for those tests: a fixed clock,
// latency, leading 429s with Retry-After, random 503s, dropped connections
// and requests never answered, short pages, and expiration dates in either
// of Jira's two forms. Requests returns a log of
// every request with the outcome of its JWT check, so tests can assert
// request economy. Open keeps the state in a file across restarts.
//
// It also does what Jira does next: Tenant.Trigger (and the trigger
// endpoint, POST {base}/rest/jwh-sandbox/1/trigger, which jwh trigger
// calls) delivers an event to the webhooks whose events and JQL filter
// match, signed as Jira signs, with Jira's identifier and retry headers
// and its retries (scaled down in time by Options.RetryScale); deliveries
// that fail for good are listed as failed. docs/sandbox.md describes what
// it emulates and what it does not.
package sandbox

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
)

// Jira's limits and defaults, as the sandbox enforces them.
const (
	// Lifetime is how long a webhook lives after registration or refresh.
	Lifetime = 30 * 24 * time.Hour
	// Leeway is the clock skew allowed on a JWT's exp and iat: Jira's.
	Leeway = connectjwt.JiraLeeway
	// MaxTokenLifetime is the most a JWT's exp may be after its iat; both
	// must be there, as numbers.
	MaxTokenLifetime = time.Hour
	// DefaultPageCap is the most items a page holds unless Options.PageCap
	// says otherwise; it is also the default maxResults.
	DefaultPageCap = 100
	// FailedRetention is how long failed deliveries stay listed.
	FailedRetention = 72 * time.Hour
	// DefaultAppKey is the app key of tenants added without one.
	DefaultAppKey = "jwh-sandbox-app"
	// maxLogged is how many requests the log keeps; older ones are dropped.
	maxLogged = 10000
	// maxBody is the largest request body the sandbox reads.
	maxBody = 1 << 20
)

// Options change how a Server behaves, mostly for tests. The zero value
// behaves like Jira on a good day.
type Options struct {
	// Clock is the time source for JWT checks, expiry dates, failure
	// retention, the request log and the Date header of every answer; nil
	// means time.Now. A clock some minutes off this machine's plays a Jira
	// whose clock disagrees with the app's (see ClockSkew).
	Clock func() time.Time
	// PageCap is the most items a page of webhooks or failed deliveries
	// holds, whatever maxResults asks for; 0 means DefaultPageCap.
	PageCap int
	// ExpirationAsString makes expirationDate a string such as
	// "2019-06-01T12:42:30.000+0000" (as in Jira's published examples)
	// instead of epoch milliseconds (as in its schema).
	ExpirationAsString bool
	// Latency delays every response.
	Latency time.Duration
	// Leading429 answers the first Leading429 requests of each tenant whose
	// JWT verified with 429 Too Many Requests.
	Leading429 int
	// RetryAfter is the Retry-After of 429 and 503 answers, sent in whole
	// seconds rounded up (so 0 sends "Retry-After: 0").
	RetryAfter time.Duration
	// Rate503 is the probability that a request whose JWT verified (and
	// that was not answered 429) is answered 503 Service Unavailable.
	Rate503 float64
	// DropRate is the probability that a request whose JWT verified is
	// dropped: the sandbox closes the connection without answering. The
	// request takes effect first, or not at all, at random with even odds:
	// as on a real network, the client cannot tell which (a registration
	// may have been made although its answer never came). Trigger
	// requests are never dropped.
	DropRate float64
	// HangRate is the probability that a request whose JWT verified is
	// never answered: the sandbox holds it until the client gives up (or
	// the sandbox stops), then closes the connection. It takes effect or
	// not as a dropped request does.
	HangRate float64
	// Seed seeds the random source of Rate503, DropRate and HangRate, so
	// runs repeat.
	Seed uint64
	// FailedAfterParam is the name of the cursor parameter of GET
	// /rest/api/2/webhook/failed, used in its next URLs; "" means "after".
	// Jira's name has varied: clients must follow next as given.
	FailedAfterParam string

	// RetryScale multiplies Jira's waits between delivery attempts (see
	// FirstRetryDelay): 1 is Jira's own timing, 0 means
	// DefaultRetryScale. Tests use a tiny value such as 1e-6.
	RetryScale float64
	// DeliveryTimeout bounds one delivery attempt; 0 means
	// DefaultDeliveryTimeout.
	DeliveryTimeout time.Duration
	// DeliveryClient sends deliveries; nil means a client that does not
	// follow redirects (a redirect is a failed attempt, as in Jira).
	DeliveryClient *http.Client
	// OnRequest, when set, is called with every request once it has been
	// logged (see Requests), from the goroutine serving it.
	OnRequest func(Request)
	// OnAttempt, when set, is called after every delivery attempt, from
	// the goroutine delivering.
	OnAttempt func(AttemptReport)

	// OAuth configures the OAuth 2.0 (3LO) side: the app's credentials
	// and the lifetimes of its tokens.
	OAuth OAuthOptions
}

// Request is one request as the sandbox saw it.
type Request struct {
	Time     time.Time // on the server's clock
	Tenant   string    // "" when no tenant serves the path
	Method   string
	Path     string // escaped, including the tenant's context path
	RawQuery string
	Status   int
	// Verified reports whether the request's credentials passed every
	// check: the Connect JWT, or the OAuth access token and its scope.
	Verified bool
	// Check and Reason say which JWT check failed and why; both are empty
	// when the JWT verified or was not checked (no tenant at the path).
	// For OAuth requests Check is empty and Reason says why the access
	// token, the client or the grant was refused.
	Check  connectjwt.Check
	Reason string
	// Kind is the app the request was for: KindConnect (the Connect API,
	// checked by JWT), KindOAuth (the authorization server and the
	// gateway), or "" when nothing serves the path.
	Kind string
	// User is the sandbox user an OAuth request acted as, when known.
	User string
	// Grant is the grant_type of a request to the token endpoint, and
	// GrantError the OAuth error code it was answered with ("" when it
	// got tokens). Reason then says why, without any secret.
	Grant, GrantError string
	// Fault is the failure the sandbox played on the request ("" for none);
	// the request then got no answer, and Status is 0. TookEffect says
	// whether it was served (a registration made, ...) before the fault.
	Fault      Fault
	TookEffect bool
}

// A Fault is a network failure that the sandbox plays on purpose (see
// Options.DropRate and Options.HangRate).
type Fault string

const (
	// FaultDropped is a connection closed without an answer.
	FaultDropped Fault = "dropped"
	// FaultHung is a request never answered: the connection was held until
	// the client gave up or the sandbox stopped.
	FaultHung Fault = "hung"
)

// Server is the sandbox: an http.Handler serving any number of tenants.
// It is safe for concurrent use.
type Server struct {
	opts      Options
	now       func() time.Time
	pageCap   int
	afterName string
	statePath string // "" unless opened with Open
	stateLock func() // releases the state file's lock; nil after Close

	retryScale      float64
	deliveryTimeout time.Duration
	client          *http.Client

	mu      sync.Mutex
	tenants []*Tenant // sorted by name
	// byPath and byCloudID find a request's tenant in one lookup per
	// segment of its path, however many tenants there are.
	byPath    map[string]*Tenant // by context path ("" for the root)
	byCloudID map[string]*Tenant
	nextID    int64
	rng       *rand.Rand
	// log holds the last maxLogged requests at its end (loggedLocked returns
	// them); it grows to twice that before the old ones are dropped, so
	// that a request costs no copy of the whole log.
	log     []Request
	url     string // root URL while listening, "" otherwise
	addr    string // the address last listened on, kept in the state
	jitter  *rand.Rand
	seq     int64                   // numbers changelogs and comments
	pending map[*Triggered]struct{} // events with deliveries under way
	idle    chan struct{}           // closed when pending empties
	release chan struct{}           // closed when the server stops: hung requests end

	dropRate, hangRate float64 // Options.DropRate and HangRate, or SetFaults

	oauth oauthApp // the OAuth 2.0 app and its logins
}

// New returns an empty in-memory sandbox. Add tenants with AddTenant.
func New(opts Options) *Server {
	s := &Server{opts: opts, now: opts.Clock, pageCap: opts.PageCap, afterName: opts.FailedAfterParam, nextID: 1000,
		dropRate: opts.DropRate, hangRate: opts.HangRate}
	if s.now == nil {
		s.now = time.Now
	}
	if s.pageCap <= 0 {
		s.pageCap = DefaultPageCap
	}
	if s.afterName == "" {
		s.afterName = "after"
	}
	s.rng = rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	s.jitter = rand.New(rand.NewPCG(opts.Seed^0x5851f42d4c957f2d, opts.Seed))
	s.retryScale = opts.RetryScale
	if s.retryScale <= 0 {
		s.retryScale = DefaultRetryScale
	}
	s.deliveryTimeout = opts.DeliveryTimeout
	if s.deliveryTimeout <= 0 {
		s.deliveryTimeout = DefaultDeliveryTimeout
	}
	s.client = opts.DeliveryClient
	if s.client == nil {
		s.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	s.oauth = newOAuthApp(opts.OAuth)
	return s
}

// SetFaults changes the share of requests that are dropped and hung (see
// Options.DropRate and Options.HangRate) from the next request on: the
// network of a running sandbox can turn bad, or good again.
func (s *Server) SetFaults(dropRate, hangRate float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropRate, s.hangRate = dropRate, hangRate
}

// Now returns the time on the server's clock.
func (s *Server) Now() time.Time { return s.now() }

// URL returns the server's root URL, such as "http://127.0.0.1:41234",
// while it listens, and "" otherwise.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Tenant returns the tenant called name.
func (s *Server) Tenant(name string) (*Tenant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := slices.BinarySearchFunc(s.tenants, name, func(t *Tenant, name string) int { return strings.Compare(t.name, name) })
	if !found {
		return nil, false
	}
	return s.tenants[i], true
}

// Tenants returns every tenant, sorted by name.
func (s *Server) Tenants() []*Tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tenants)
}

// Requests returns a copy of the request log, oldest first. The log keeps
// the most recent 10000 requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.loggedLocked())
}

// loggedLocked returns the request log: the last maxLogged requests.
func (s *Server) loggedLocked() []Request {
	return s.log[max(0, len(s.log)-maxLogged):]
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// routeLocked finds the tenant whose context path is the longest
// whole-segment prefix of the escaped path, and the path relative to it in
// canonical form. A tenant at the root serves every path no other claims.
func (s *Server) routeLocked(escapedPath string) (*Tenant, string) {
	// The path itself, then without its last segment, and so on: the
	// whole-segment prefixes, longest first, down to the root ("").
	for p := escapedPath; ; {
		if t, ok := s.byPath[p]; ok {
			return t, connectjwt.CanonicalPath(escapedPath, t.basePath)
		}
		if p == "" {
			return nil, ""
		}
		p = p[:max(0, strings.LastIndexByte(p, '/'))]
	}
}

// response is what a handler decided to answer.
type response struct {
	status      int
	header      http.Header
	body        []byte
	contentType string // of body; "" means JSON
	fault       Fault  // when set, the answer is not sent
}

// ServeHTTP answers one request: a path of the OAuth side (see serveOAuth)
// is served as such; any other finds the tenant by path, verifies the JWT
// against it (401 on failure), applies the fault options, the tenant's
// denial and the 429/503 options, then serves the endpoint. Every request
// is logged before its response is written (or, for a fault, not).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	rec := Request{Time: now, Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery}
	resp := s.serve(r, &rec)
	if resp.fault == "" {
		rec.Status = resp.status
	}
	s.mu.Lock()
	if len(s.log) >= 2*maxLogged {
		s.log = append(make([]Request, 0, 2*maxLogged), s.log[len(s.log)-maxLogged+1:]...)
	}
	s.log = append(s.log, rec)
	s.mu.Unlock()
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(rec)
	}

	if d := s.opts.Latency; d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			return
		}
	}
	switch resp.fault {
	case FaultHung:
		s.hang(r)
		drop(w)
		return
	case FaultDropped:
		drop(w)
		return
	}
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	// Jira's clock, not this machine's, as net/http would write it.
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	if resp.body != nil {
		ct := resp.contentType
		if ct == "" {
			ct = "application/json;charset=UTF-8"
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	}
	w.WriteHeader(resp.status)
	if resp.body != nil {
		w.Write(resp.body) //nolint:errcheck // the client may have gone; nothing to do
	}
}

func (s *Server) serve(r *http.Request, rec *Request) response {
	// The OAuth side lives on the root, before any tenant: a tenant at
	// "/" serves every other path.
	if resp, ok := s.serveOAuth(r, rec); ok {
		return resp
	}
	s.mu.Lock()
	t, rest := s.routeLocked(rec.Path)
	s.mu.Unlock()
	if t == nil {
		return jiraError(http.StatusNotFound, "No sandbox tenant serves "+rec.Path+": tenants are at "+s.contextPaths())
	}
	rec.Tenant, rec.Kind = t.name, KindConnect

	var iss string
	_, err := connectjwt.Verify(connectjwt.FromRequest(r), connectjwt.VerifyOptions{
		Method:   r.Method,
		URL:      r.URL,
		BasePath: t.basePath,
		Secret: func(got string) ([]byte, bool) {
			iss = got
			if got != t.appKey {
				return nil, false
			}
			return []byte(t.secret), true
		},
		Leeway:      Leeway,
		MaxLifetime: MaxTokenLifetime,
		Now:         s.now,
	})
	if err != nil {
		reason := err.Error()
		check := connectjwt.Check("")
		if ve, ok := err.(*connectjwt.VerifyError); ok {
			check = ve.Check
			if check == connectjwt.CheckIssuer && iss != "" {
				reason = fmt.Sprintf("unknown issuer %q: the app installed on this tenant has the key %q", iss, t.appKey)
			}
		}
		rec.Check, rec.Reason = check, reason
		resp := jiraError(http.StatusUnauthorized, "JWT verification failed: "+reason)
		resp.header = http.Header{"Www-Authenticate": {`JWT realm="` + t.name + `"`}}
		return resp
	}
	rec.Verified = true
	if rest == TriggerPath {
		// The sandbox's own endpoint: no faults, no denial, no throttling.
		return s.admin(r, t)
	}
	return s.serveVerified(t, rec, func() response { return s.endpoint(r, t, rest) })
}

// serveVerified answers a request to the API of either app whose
// credentials verified: the fault options, the tenant's denial, the
// 429/503 options, then the endpoint.
func (s *Server) serveVerified(t *Tenant, rec *Request, endpoint func() response) response {
	rec.Fault, rec.TookEffect = s.fault()
	if rec.Fault != "" && !rec.TookEffect {
		return response{fault: rec.Fault}
	}
	resp := s.answerVerified(t, endpoint)
	resp.fault = rec.Fault
	return resp
}

// answerVerified is the tenant's denial, the 429/503 options, then the
// endpoint.
func (s *Server) answerVerified(t *Tenant, endpoint func() response) response {
	s.mu.Lock()
	denied := t.denied
	t.verified++
	throttle := t.verified <= s.opts.Leading429
	unavailable := !throttle && s.opts.Rate503 > 0 && s.rng.Float64() < s.opts.Rate503
	s.mu.Unlock()
	switch {
	case denied == http.StatusUnauthorized:
		return jiraError(denied, "Client must be authenticated to access this resource.")
	case denied == http.StatusForbidden:
		return jiraError(denied, "The app is not allowed to access this resource on this tenant.")
	case throttle:
		resp := jiraError(http.StatusTooManyRequests, "Rate limit exceeded.")
		resp.header = http.Header{"Retry-After": {s.retryAfter()}}
		return resp
	case unavailable:
		resp := jiraError(http.StatusServiceUnavailable, "Service unavailable: try again later.")
		resp.header = http.Header{"Retry-After": {s.retryAfter()}}
		return resp
	}
	return endpoint()
}

// fault decides whether to play a network failure on a request, and if so
// whether the request takes effect first.
func (s *Server) fault() (f Fault, tookEffect bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropRate <= 0 && s.hangRate <= 0 {
		return "", false
	}
	switch x := s.rng.Float64(); {
	case x < s.dropRate:
		f = FaultDropped
	case x < s.dropRate+s.hangRate:
		f = FaultHung
	default:
		return "", false
	}
	return f, s.rng.Float64() < 0.5
}

// hang holds a request until its client gives up or the server stops. It
// reads the rest of the body first: only then does net/http notice that
// the client has closed the connection.
func (s *Server) hang(r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	release := s.release
	s.mu.Unlock()
	select {
	case <-r.Context().Done():
	case <-release:
	}
}

// drop closes the request's connection without answering.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not a connection of its own (HTTP/2): abort the handler, which
		// ends the stream without an answer.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

func (s *Server) retryAfter() string {
	return strconv.FormatInt(int64(math.Ceil(s.opts.RetryAfter.Seconds())), 10)
}

func (s *Server) contextPaths() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tenants) == 0 {
		return "(none: the sandbox has no tenants)"
	}
	var out string
	for i, t := range s.tenants {
		if i > 0 {
			out += ", "
		}
		p := t.basePath
		if p == "" {
			p = "/"
		}
		out += p
	}
	return out
}
