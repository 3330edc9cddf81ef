// Package transport builds the HTTP client that jwh uses to call one Jira
// tenant. Its RoundTripper chain refuses URLs that a signed request must
// not go to (urlpolicy.CheckRequestURL: plain http:// to anything but
// loopback, among others), bounds every attempt and the whole exchange in
// time, retries what is safe to retry with a freshly signed request on
// every attempt, sets the User-Agent, and can dump each exchange for
// --debug with the credentials redacted.
//
// The chain, from the outside in:
//
//	retryTransport  URL check, per-attempt and overall timeouts, retries
//	authTransport   User-Agent and a fresh signature on every attempt
//	debugTransport  the --debug dump of each attempt
//	base            *http.Transport
//
// # Retries
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
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// A Signer authenticates one outgoing request by setting its credentials
// (for a Connect app, *connectjwt.Signer sets "Authorization: JWT ..."; an
// OAuth 2.0 app would set a bearer token). It is called again for every
// attempt, so a token is never reused across retries.
type Signer interface {
	SignRequest(*http.Request) error
}

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
	// Signer signs every attempt. Required.
	Signer Signer
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
	if opts.Signer == nil {
		return nil, errors.New("transport: no signer")
	}
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
	rt = &authTransport{signer: o.Signer, userAgent: o.UserAgent, next: rt}
	rt = &retryTransport{o: o, debug: dbg, next: rt}
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

// RedactURL returns u as a string with the value of a jwt query parameter,
// which carries a token, replaced by "[redacted]". Other parameters keep
// their exact encoding.
func RedactURL(u *url.URL) string {
	if u.RawQuery == "" {
		return u.String()
	}
	parts := strings.Split(u.RawQuery, "&")
	changed := false
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if k == "jwt" {
			parts[i] = "jwt=[redacted]"
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
