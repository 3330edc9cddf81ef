// Package transport builds the HTTP clients that jwh uses to call one
// Jira tenant (and an OAuth 2.0 authorization server). Its RoundTripper
// chain refuses URLs that a request with credentials must not go to
// (urlpolicy.CheckRequestURL: plain http:// to anything but loopback,
// among others), bounds every attempt and the whole exchange in time,
// retries what is safe to retry with fresh credentials on every attempt,
// sets the User-Agent, and can dump each exchange for --debug with the
// credentials redacted.
//
// The chain, from the outside in:
//
//	retryTransport  URL check, per-attempt and overall timeouts, retries,
//	                one re-authorization after a 401
//	authTransport   User-Agent and fresh credentials on every attempt
//	debugTransport  the --debug dump of each attempt
//	base            *http.Transport
//
// # Credentials
//
// An Authorizer sets the credentials of each attempt: a Connect JWT whose
// qsh fits that exact request, or an OAuth 2.0 bearer token. A client
// without one (the token endpoint, where credentials travel in the body)
// sends requests as they are. When an attempt is answered 401 and the
// Authorizer is also a Reauthorizer (a cached OAuth token that may have
// been revoked or replaced), it is asked once per exchange for fresh
// credentials, and the request is sent once more if it got them; a second
// 401 is returned as it is. An error of the Authorizer ends the exchange
// as a *AuthorizeError, in the Authorizer's own words.
//
// A request is sent at most MaxAttempts times (4), and only within the
// overall timeout (TotalTimeout, 2 minutes) and the retry budget (MaxWait,
// 60 s: the waits between attempts add up to no more). Each attempt is
// bounded by Timeout (30 s), and signed afresh, after the wait, so a retry
// never carries an old token. It is repeated when:
//
//   - Jira answers 429 or 503: after what Retry-After asks for, else after
//     the back-off; a Retry-After beyond the budget ends the retries and the
//     answer is returned as it is.
//   - The attempt failed on the way and the failure can pass: the connection
//     was closed or reset (EOF, unexpected EOF, ECONNRESET), refused, a DNS
//     server did not answer, or the attempt ran out of time. The wait is the
//     back-off: drawn from [d/2, d] with d = BaseBackoff·2^(n-1), at most
//     MaxBackoff (0.5 s, 1 s, 2 s, ...).
//
// Only idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) are repeated
// after a failure on the way: for those, a request that reached Jira and
// lost its answer does no harm when sent again. A POST (or PATCH) is
// repeated only when its attempt never got a connection (refused, DNS,
// a failed dial or TLS handshake): once it has one, it may have reached
// Jira, and sending it again could register webhooks twice; the *Error then
// has Sent set, and the caller decides what to do (jwh register lists the
// webhooks to find out). A request whose body cannot be replayed (no
// GetBody) is never repeated. Nothing is repeated after the caller's
// context ends, nor after a host name is not found, a TLS certificate is
// refused, or any other answer.
//
// A request that got no usable answer fails with an *Error whose text says,
// for a person, what happened, how many attempts over how long, and what to
// do; the method and URL are its fields and in the --debug dump.
package transport

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// An Authorizer sets the credentials of one attempt of a request: for a
// Connect app, *connectjwt.Signer sets "Authorization: JWT ..." with a
// fresh token whose qsh is that of the request; for an OAuth 2.0 app, the
// token source of package oauth sets "Authorization: Bearer ...",
// refreshing the token first when it is about to expire. It is called
// again for every attempt, so a retry never carries an old token.
type Authorizer interface {
	Authorize(req *http.Request) error
}

// A Reauthorizer is an Authorizer whose credentials Jira may refuse while
// the Authorizer still holds them: a cached access token that was revoked,
// or replaced by another process. When an attempt is answered 401,
// Reauthorize is called with the request as it was sent (its credentials
// included) and reports whether it has fresh ones; if so, the request is
// sent once more. It is called at most once per exchange, and only for
// requests that can be sent again (no body, or one that GetBody replays).
type Reauthorizer interface {
	Reauthorize(sent *http.Request) (bool, error)
}

// AuthorizeError is the failure of the Authorizer or Reauthorizer of an
// exchange (an OAuth login that has expired, a refresh that failed). Its
// text is the Authorizer's own: it says what to do.
type AuthorizeError struct {
	Err error
}

func (e *AuthorizeError) Error() string { return e.Err.Error() }

func (e *AuthorizeError) Unwrap() error { return e.Err }

// Defaults for the zero values of Options.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultTotalTimeout = 2 * time.Minute
	DefaultMaxAttempts  = 4
	DefaultMaxWait      = 60 * time.Second
	DefaultBaseBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff   = 10 * time.Second
)

// Options configure New. Zero values mean the defaults above.
type Options struct {
	// Authorizer sets the credentials of every attempt; nil sends
	// requests with none (the OAuth token endpoint).
	Authorizer Authorizer
	// Peer names the server in errors for people; "" means "Jira".
	Peer string
	// UserAgent is the User-Agent header, e.g. "jwh/1.2.0".
	UserAgent string

	// Timeout bounds one attempt, from sending the request to reading the
	// last byte of the response body.
	Timeout time.Duration
	// TotalTimeout bounds the whole exchange: every attempt and every wait
	// between attempts.
	TotalTimeout time.Duration
	// MaxAttempts is how many times a request is sent at most; 1 disables
	// retries.
	MaxAttempts int
	// MaxWait caps the sum of the waits between attempts. A Retry-After
	// that asks for more than what is left of it ends the retries, and the
	// 429 or 503 answer is returned as it is.
	MaxWait time.Duration
	// BaseBackoff and MaxBackoff shape the jittered exponential back-off
	// used when an answer has no usable Retry-After: the n-th wait is drawn
	// from [d/2, d] with d = min(BaseBackoff*2^(n-1), MaxBackoff).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration

	// Debug, when not nil, receives a dump of every attempt: method, URL,
	// headers (credentials redacted), body, status and duration.
	Debug io.Writer

	// Sleep waits for d or until ctx is done, whichever comes first, and
	// then returns ctx's error, if any. Tests replace it; nil means a real
	// timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used for HTTP-date Retry-After values and the
	// durations in the debug dump; nil means time.Now.
	Now func() time.Time
	// Base is the innermost RoundTripper; nil means a clone of
	// http.DefaultTransport.
	Base http.RoundTripper
}

// New returns an *http.Client for one tenant configured by opts. Redirects
// are followed only within the same scheme and host, so credentials never
// travel to another host.
func New(opts Options) (*http.Client, error) {
	o := opts
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.TotalTimeout <= 0 {
		o.TotalTimeout = DefaultTotalTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = DefaultBaseBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Base == nil {
		o.Base = http.DefaultTransport.(*http.Transport).Clone()
	}
	var rt http.RoundTripper = o.Base
	var dbg *debugWriter
	if o.Debug != nil {
		dbg = &debugWriter{w: o.Debug}
		rt = &debugTransport{w: dbg, now: o.Now, next: rt}
	}
	rt = &authTransport{auth: o.Authorizer, userAgent: o.UserAgent, next: rt}
	reauth, _ := o.Authorizer.(Reauthorizer)
	rt = &retryTransport{o: o, reauth: reauth, debug: dbg, next: rt}
	return &http.Client{Transport: rt, CheckRedirect: checkRedirect}, nil
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	prev := via[len(via)-1].URL
	if !strings.EqualFold(req.URL.Scheme, prev.Scheme) || !strings.EqualFold(req.URL.Host, prev.Host) {
		return fmt.Errorf("redirect to %s refused: it leaves %s://%s", RedactURL(req.URL), prev.Scheme, prev.Host)
	}
	return nil
}

// RedactURL returns u as a string with the values of the query parameters
// that carry credentials (jwt, and the OAuth 2.0 fields of secretFields)
// replaced by "[redacted]". Other parameters keep their exact encoding.
func RedactURL(u *url.URL) string {
	if u.RawQuery == "" {
		return u.String()
	}
	parts := strings.Split(u.RawQuery, "&")
	changed := false
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		// The name as a server reads it: "jw%74" is "jwt" too.
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if name == "jwt" || isSecretField(name) {
			parts[i] = k + "=[redacted]"
			changed = true
		}
	}
	if !changed {
		return u.String()
	}
	c := *u
	c.RawQuery = strings.Join(parts, "&")
	return c.String()
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jitter returns a duration drawn uniformly from [d/2, d].
func jitter(d time.Duration) time.Duration {
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}
