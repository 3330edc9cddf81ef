package listen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
)

// ServeHTTP handles one request. Everything that can be decided from the
// request line and the headers is decided before the body is read, so that
// a sender who may not deliver cannot make the listener hold its body: the
// path (404), the method (405), the JWT (a Connect JWT, or with
// "Authorization: Bearer" an OAuth 2.0 app's; 401, or 503 when the tenant's
// secret cannot be read now; skipped with NoVerify) and a declared length
// over MaxBody (413). Then the body is read within the body budget (503
// when there is no room in time; 413 when a body of unknown length passes
// MaxBody), checked as a JSON object (400), and its identifier is looked
// up (a retry of an accepted delivery is a duplicate, answered 200).
// Then Respond may answer it with a status of its own; otherwise the
// delivery is reported and answered 200, or forwarded and answered with
// the app's status.
//
// Every request answered gets a Record (with OnRecord), passed on just
// before the answer is written.
//
// What a refusal's answer says names nothing of the configuration (no
// tenant, client key, keyring or path): anyone can send requests through a
// tunnel. The full reason goes to the *Rejected event, for the developer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	s.requests.Add(1)
	now := s.now()
	// uri is the request line's URI as it is reported and recorded:
	// without the token of a jwt query parameter.
	uri := redactJWT(r.RequestURI)
	id := r.Header.Get(HeaderIdentifier)
	retry := parseRetry(r.Header.Get(HeaderRetry))
	consumed := false // the body has been read to its end

	var token *Authorization // for ShowClaims
	if s.cfg.ShowClaims {
		token = authorizationOf(r)
	}
	var rec *Record
	if s.cfg.OnRecord != nil {
		rec = s.newRecord(r, uri, now, id, retry)
		defer putRecord(rec)
	}
	// record passes on the request's record, answered with status: the
	// last thing before the answer is written.
	record := func(status int) {
		if rec != nil {
			rec.Status = status
			s.cfg.OnRecord(rec)
		}
	}

	// refuse reports a refusal with its full reason and answers status
	// with answer, which must name nothing of the configuration.
	refuse := func(status int, check, reason, answer string) {
		switch status {
		case http.StatusUnauthorized:
			s.rejected.Add(1)
		case http.StatusServiceUnavailable:
			s.unavailable.Add(1)
			w.Header().Set("Retry-After", retryAfter)
		default:
			s.invalid.Add(1)
		}
		if !consumed && r.ContentLength != 0 {
			// Answer at once and hang up, rather than let net/http
			// read what is left of a body nobody wants.
			w.Header().Set("Connection", "close")
		}
		s.cfg.OnEvent(&Rejected{
			Time: now, Method: r.Method, RequestURI: uri,
			Identifier: id, Retry: retry,
			Status: status, Check: check, Reason: reason, Token: token,
		})
		if rec != nil {
			rec.Verdict, rec.Check, rec.Reason = VerdictRefused, check, reason
		}
		record(status)
		http.Error(w, answer, status)
	}

	if !s.onPath(r.URL.Path) {
		refuse(http.StatusNotFound, CheckPath,
			fmt.Sprintf("not found: deliveries are accepted on %s only (--path)", s.cfg.Path), "not found")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(http.StatusMethodNotAllowed, CheckMethod,
			fmt.Sprintf("method %s not allowed: Jira delivers webhooks with POST", r.Method), "method not allowed: use POST")
		return
	}
	// kind is how the tenant signs: a Connect JWT, or (with
	// "Authorization: Bearer") the JWT of an OAuth 2.0 app's delivery.
	var issuer, tenant, kind string
	if !s.cfg.NoVerify {
		var f *failure
		if bearer, ok := bearerToken(r); ok {
			if tenant, f = s.verifyBearer(bearer); f == nil {
				kind = KindOAuth
			}
		} else if issuer, tenant, f = s.verify(r); f == nil {
			kind = KindConnect
		}
		if f != nil {
			refuse(f.status, f.check, f.reason, f.answer)
			return
		}
	}
	limit := s.cfg.MaxBody
	if r.ContentLength > limit {
		refuse(http.StatusRequestEntityTooLarge, CheckSize, s.tooLarge(), "body too large")
		return
	}

	// The body's share of the budget: its declared length, or what a
	// body of unknown length may need while it is read (see readBody).
	weight := r.ContentLength
	if weight < 0 {
		weight = 2 * limit
	}
	if !s.acquire(r, weight) {
		refuse(http.StatusServiceUnavailable, CheckBusy,
			fmt.Sprintf("too many bodies in flight: no room for %d more bytes within %s (--max-inflight is %d bytes)", weight, s.budgetWait(), s.bodies.size),
			"too busy: try again later")
		return
	}
	defer func() { s.bodies.release(weight) }()
	body, err := readBody(r.Body, r.ContentLength, limit)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			refuse(http.StatusRequestEntityTooLarge, CheckSize, s.tooLarge(), "body too large")
			return
		}
		s.errs.Add(1)
		err = fmt.Errorf("%s %s: reading the body: %w", r.Method, uri, err)
		s.cfg.OnEvent(&Error{Time: now, Err: err})
		if rec != nil {
			rec.Verdict, rec.Check, rec.Reason = VerdictRefused, CheckRead, err.Error()
		}
		record(http.StatusBadRequest)
		w.Header().Set("Connection", "close")
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	consumed = true
	if held := int64(cap(body)); held < weight {
		// Keep only what the body occupies while it is handled.
		s.bodies.release(weight - held)
		weight = held
	}
	if rec != nil {
		rec.Body = body
	}

	meta, err := parseMeta(body)
	if err != nil {
		refuse(http.StatusBadRequest, CheckBody, err.Error(), err.Error())
		return
	}
	if rec != nil {
		rec.bodyJSON = true // parseMeta checked it
		rec.Verdict = VerdictVerified
		if s.cfg.NoVerify {
			rec.Verdict = VerdictUnverified
		}
		if tenant != "" {
			rec.Tenant, rec.Kind = tenant, kind
		}
		rec.Event, rec.Issue = meta.Event, meta.IssueKey
	}

	var key dedupKey
	if id != "" {
		// Identifiers are unique per tenant: a Connect tenant is known
		// by its client key, an OAuth tenant (which has none) by name.
		scope := issuer
		if kind == KindOAuth {
			scope = "oauth\x00" + tenant
		}
		key = makeDedupKey(scope, id)
		if first, dup := s.seen.add(key, now); dup {
			s.duplicates.Add(1)
			s.cfg.OnEvent(&Duplicate{
				Time: now, Identifier: id, Retry: retry, Meta: meta, Body: body,
				Verified: !s.cfg.NoVerify, Tenant: tenant, Kind: kind, FirstSeen: first, Token: token,
			})
			if rec != nil {
				rec.Duplicate = true
			}
			record(http.StatusOK)
			w.WriteHeader(http.StatusOK)
			return
		}
	}

	if nth, ok := s.inject(id, key); ok {
		status := s.cfg.Respond.Status
		// A 1xx is informational: HTTP needs a final answer after it,
		// which is 200.
		final := status
		if final < 200 {
			final = http.StatusOK
		}
		if id != "" && !is2xx(final) {
			// Jira will retry: the retry is a new attempt, not a
			// duplicate.
			s.seen.remove(key)
		}
		s.delivered.Add(1)
		s.injected.Add(1)
		s.cfg.OnEvent(&Delivery{
			Time: now, Method: r.Method, RequestURI: uri,
			Body: body, Identifier: id, Retry: retry, Meta: meta,
			Verified: !s.cfg.NoVerify, Issuer: issuer, Tenant: tenant, Kind: kind, Token: token,
			Respond: status, Attempt: nth,
		})
		if rec != nil {
			rec.Injected, rec.Reason = true, s.injectedReason(nth)
		}
		record(final)
		s.pause(r)
		if final != status {
			w.WriteHeader(status)
		}
		w.WriteHeader(final)
		return
	}

	var target string
	if s.cfg.ForwardTo != nil {
		target = s.forwardURL(r.URL)
	}
	s.delivered.Add(1)
	d := &Delivery{
		Time: now, Method: r.Method, RequestURI: uri,
		Body: body, Identifier: id, Retry: retry, Meta: meta,
		Verified: !s.cfg.NoVerify, Issuer: issuer, Tenant: tenant, Kind: kind, Token: token,
		ForwardTo: redactJWT(target),
	}
	s.cfg.OnEvent(d)
	if target == "" {
		record(http.StatusOK)
		s.pauseAll(r)
		w.WriteHeader(http.StatusOK)
		return
	}
	reply := s.forward(r, d, target)
	if !is2xx(reply.status) && id != "" {
		// Jira will retry: the retry is a new attempt, not a duplicate.
		s.seen.remove(key)
	}
	if rec != nil {
		rec.ForwardedTo = d.ForwardTo
	}
	record(reply.status)
	s.pauseAll(r)
	reply.write(w)
}

// pauseAll is pause for a delivery handled as usual: Respond.Delay delays
// every answer when Respond.Status is not set.
func (s *Server) pauseAll(r *http.Request) {
	if s.cfg.Respond.Status == 0 {
		s.pause(r)
	}
}

// retryAfter is the Retry-After of a 503, in seconds: Jira's first retry
// comes at least this late anyway.
const retryAfter = "10"

// A failure is why a request's JWT was refused.
type failure struct {
	status int    // 401, or 503 when the secret cannot be read now
	check  string // Rejected.Check
	reason string // Rejected.Reason: everything the developer needs
	answer string // the answer's body: the check, in generic words
}

// verify checks the JWT of r. It returns the issuer and the name of the
// tenant whose secret verified it, or why it was refused.
func (s *Server) verify(r *http.Request) (issuer, tenant string, f *failure) {
	var lookupErr error
	v, err := connectjwt.Verify(connectjwt.FromRequest(r), connectjwt.VerifyOptions{
		Method:   r.Method,
		URL:      r.URL,
		BasePath: s.cfg.BasePath,
		Key: func(iss string) (*connectjwt.Key, bool) {
			name, secret, err := s.cfg.Secrets.Lookup(iss)
			if err == nil && len(secret) == 0 {
				err = fmt.Errorf("the shared secret of tenant %q is empty", name)
			}
			if err != nil {
				lookupErr = err
				return nil, false
			}
			tenant = name
			return s.keys.get(secret), true
		},
		Leeway: s.cfg.Leeway,
		Now:    s.now,
	})
	if err == nil {
		return v.Issuer, tenant, nil
	}
	f = &failure{status: http.StatusUnauthorized, check: string(connectjwt.CheckMalformed), reason: err.Error()}
	var ve *connectjwt.VerifyError
	if errors.As(err, &ve) {
		f.check = string(ve.Check)
	}
	if ve != nil && ve.Check == connectjwt.CheckSignature && tenant != "" {
		f.reason += fmt.Sprintf(" (tenant %q): if the app was reinstalled, its shared secret changed; import the new installed payload with 'jwh tenant import'", tenant)
	}
	if lookupErr != nil {
		// The Secrets' own words: they know why (another tenant than
		// --tenant, a keyring that is locked).
		f.reason = lookupErr.Error()
		switch {
		case errors.Is(lookupErr, ErrUnknownIssuer):
		case errors.Is(lookupErr, ErrSecretUnavailable):
			// Not the sender's fault, and it may pass: Jira retries
			// a 503, while it gives up after a 401.
			f.status, f.check = http.StatusServiceUnavailable, CheckSecret
			f.answer = "cannot verify the JWT now: try again later"
			return "", "", f
		default:
			f.check = CheckSecret
			f.answer = "cannot verify the JWT"
			return "", "", f
		}
	}
	if f.check == string(connectjwt.CheckMissing) {
		f.answer = "no JWT"
	} else {
		f.answer = "invalid JWT: " + f.check
	}
	return "", "", f
}

// acquire takes weight bytes of the body budget for r, waiting for room at
// most budgetWait. It reports whether it got them.
func (s *Server) acquire(r *http.Request, weight int64) bool {
	if weight == 0 || s.bodies.tryAcquire(weight) {
		return true
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.budgetWait())
	defer cancel()
	return s.bodies.acquire(ctx, weight) == nil
}

// budgetWait is how long a request waits for room in the body budget:
// half of ReadTimeout, so that one that gets room still has time to send
// its body.
func (s *Server) budgetWait() time.Duration { return s.cfg.ReadTimeout / 2 }

// tooLarge is the reason of a 413.
func (s *Server) tooLarge() string {
	return fmt.Sprintf("body larger than the limit of %d bytes (--max-body)", s.cfg.MaxBody)
}

// onPath reports whether p is the listener's path, ignoring one trailing
// slash.
func (s *Server) onPath(p string) bool {
	return strings.TrimSuffix(p, "/") == s.path
}

// parseRetry reads X-Atlassian-Webhook-Retry; absent or unreadable is 0.
func parseRetry(h string) int {
	if h == "" {
		return 0 // a first attempt: no header, and no error to allocate
	}
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// maxKeys bounds the keys a keyCache holds: far more than the tenants of
// a listener.
const maxKeys = 64

// A keyCache holds the connectjwt.Key of each secret that the Secrets
// (shared secrets) and the OAuthSecrets (client secrets) returned, by
// secret, so that a tenant's key schedule is computed once rather than for
// every delivery.
type keyCache struct {
	mu   sync.RWMutex
	keys map[string]*connectjwt.Key
}

// get returns the Key of secret.
func (c *keyCache) get(secret []byte) *connectjwt.Key {
	c.mu.RLock()
	k := c.keys[string(secret)]
	c.mu.RUnlock()
	if k != nil {
		return k
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k = c.keys[string(secret)]; k == nil {
		if c.keys == nil || len(c.keys) >= maxKeys {
			// Secrets that change that often are not worth keeping.
			c.keys = make(map[string]*connectjwt.Key)
		}
		k = connectjwt.NewKey(secret)
		c.keys[string(secret)] = k
	}
	return k
}
