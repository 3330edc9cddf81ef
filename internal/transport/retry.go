package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// retryTransport is the outermost RoundTripper: it refuses the URLs that
// urlpolicy.CheckRequestURL refuses, bounds each attempt and the whole
// exchange, and repeats requests answered with 429 or 503, and requests
// that failed on the way, as the package comment describes.
type retryTransport struct {
	o      Options
	reauth Reauthorizer // nil when the Authorizer is not one
	debug  *debugWriter
	next   http.RoundTripper
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := urlpolicy.CheckRequestURL(req.URL); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	where := RedactURL(req.URL)
	parent := req.Context()
	ctx, cancelAll := context.WithTimeoutCause(parent, t.o.TotalTimeout,
		&TimeoutError{After: t.o.TotalTimeout, Overall: true})
	hasBody := req.Body != nil && req.Body != http.NoBody
	replayable := !hasBody || req.GetBody != nil
	start := t.o.Now()
	fail := func(attempt int, sent bool, err error) error {
		cancelAll()
		var ae *AuthorizeError
		if errors.As(err, &ae) {
			return ae
		}
		return &Error{Method: method, URL: where, Peer: t.o.Peer, Attempts: attempt, Elapsed: t.o.Now().Sub(start), Sent: sent, Err: err}
	}
	var waited time.Duration
	reauthorized := false
	for attempt := 1; ; attempt++ {
		actx, cancelAttempt := context.WithTimeoutCause(ctx, t.o.Timeout, &TimeoutError{After: t.o.Timeout})
		conn := new(connTrace)
		areq := req.Clone(httptrace.WithClientTrace(actx, conn.trace()))
		if attempt > 1 && hasBody {
			body, err := req.GetBody()
			if err != nil {
				cancelAttempt()
				return nil, fail(attempt-1, false, fmt.Errorf("replay the request body: %w", err))
			}
			areq.Body = body
		}
		resp, err := t.next.RoundTrip(areq)
		more := attempt < t.o.MaxAttempts && replayable
		var delay time.Duration
		var ae *AuthorizeError
		if errors.As(err, &ae) {
			// Nothing was sent; the Authorizer has had its own retries.
			cancelAttempt()
			return nil, fail(attempt, false, ae)
		}
		if err != nil {
			err = explain(err, parent, actx)
			sent := conn.sent()
			cancelAttempt()
			if !more || ctx.Err() != nil || !retryableError(err, method, sent) {
				if sent && !idempotent(method) && transient(err) {
					t.debug.printf("* %v: not retrying: the %s may have reached the server\n\n", err, method)
				}
				return nil, fail(attempt, sent, err)
			}
			delay = t.backoff(attempt)
			if !t.mayWait(ctx, delay, waited, err.Error()) {
				return nil, fail(attempt, sent, err)
			}
			t.debug.printf("* %v: retrying in %s (attempt %d of %d)\n\n", err, delay, attempt+1, t.o.MaxAttempts)
		} else {
			if resp.StatusCode == http.StatusUnauthorized && t.reauth != nil && !reauthorized && replayable {
				reauthorized = true
				sent := resp.Request
				if sent == nil {
					sent = areq
				}
				ok, err := t.reauth.Reauthorize(sent.WithContext(ctx))
				switch {
				case err != nil:
					drain(resp.Body)
					cancelAttempt()
					return nil, fail(attempt, true, &AuthorizeError{Err: err})
				case ok:
					drain(resp.Body)
					cancelAttempt()
					t.debug.printf("* %s: sending it again with fresh credentials\n\n", resp.Status)
					continue
				}
			}
			last := !more || !retryable(resp.StatusCode)
			if !last {
				delay = t.delay(resp.Header.Get("Retry-After"), attempt)
				last = !t.mayWait(ctx, delay, waited, resp.Status)
			}
			if last {
				resp.Body = &attemptBody{
					rc: resp.Body, ctx: actx, parent: parent,
					fail:   func(err error) error { return fail(attempt, true, err) },
					cancel: func() { cancelAttempt(); cancelAll() },
				}
				return resp, nil
			}
			drain(resp.Body)
			cancelAttempt()
			t.debug.printf("* %s: retrying in %s (attempt %d of %d)\n\n", resp.Status, delay, attempt+1, t.o.MaxAttempts)
		}
		if err := t.o.Sleep(ctx, delay); err != nil {
			return nil, fail(attempt, false, explain(err, parent, ctx))
		}
		waited += delay
	}
}

// mayWait reports whether a wait of delay before the next attempt fits in
// what is left of the retry budget (MaxWait, after waited) and of the
// overall timeout; why is what the wait is for, for the debug dump.
func (t *retryTransport) mayWait(ctx context.Context, delay, waited time.Duration, why string) bool {
	if waited+delay > t.o.MaxWait {
		t.debug.printf("* %s: not retrying: waiting %s would exceed the %s retry budget\n\n", why, delay, t.o.MaxWait)
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
		t.debug.printf("* %s: not retrying: waiting %s would exceed the overall timeout\n\n", why, delay)
		return false
	}
	return true
}

// connTrace records whether an attempt got a connection: from then on,
// bytes of the request may have reached the server.
type connTrace struct{ got atomic.Bool }

func (c *connTrace) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { c.got.Store(true) }}
}

func (c *connTrace) sent() bool { return c.got.Load() }

// retryable reports whether an answer with this status is worth repeating.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// delay returns how long to wait before attempt+1 after a 429 or 503: what
// Retry-After asks for, else the back-off.
func (t *retryTransport) delay(retryAfter string, attempt int) time.Duration {
	if d, ok := ParseRetryAfter(retryAfter, t.o.Now()); ok {
		return d
	}
	return t.backoff(attempt)
}

// backoff returns the jittered exponential wait before attempt+1.
func (t *retryTransport) backoff(attempt int) time.Duration {
	d := t.o.BaseBackoff
	for i := 1; i < attempt && d < t.o.MaxBackoff; i++ {
		d *= 2
	}
	return jitter(min(d, t.o.MaxBackoff))
}

// maxRetryAfter keeps absurd Retry-After values from overflowing.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter interprets a Retry-After header: a number of seconds or
// an HTTP date, relative to now. A date in the past means no wait. ok is
// false for an empty or malformed value.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = at.Sub(now)
	if d < 0 {
		d = 0
	}
	return min(d, maxRetryAfter), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// explain replaces the error of a failed attempt by its real cause: the
// caller's cancellation, or which timeout ran out.
func explain(err error, parent, ctx context.Context) error {
	if parent.Err() != nil {
		return context.Cause(parent)
	}
	if ctx.Err() != nil {
		if te, ok := context.Cause(ctx).(*TimeoutError); ok {
			return te
		}
	}
	return err
}

// attemptBody is the body of the response that RoundTrip returns. It keeps
// the attempt's deadline in force while the body is read, turns a read that
// fails (cut short by that deadline, or by the connection) into an *Error,
// and releases the contexts on EOF or Close.
type attemptBody struct {
	rc          io.ReadCloser
	ctx, parent context.Context
	fail        func(error) error
	cancel      func()
	once        sync.Once
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.release()
	case err != nil:
		err = b.fail(explain(err, b.parent, b.ctx))
	}
	return n, err
}

func (b *attemptBody) Close() error {
	err := b.rc.Close()
	b.release()
	return err
}

func (b *attemptBody) release() { b.once.Do(b.cancel) }

// drain reads a little of a body that will not be used, so that the
// connection can be reused, and closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	_ = rc.Close()
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// authTransport sets the User-Agent and the credentials of every attempt
// afresh.
type authTransport struct {
	auth      Authorizer // nil: no credentials
	userAgent string
	next      http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if t.userAgent != "" {
		r.Header.Set("User-Agent", t.userAgent)
	}
	if t.auth != nil {
		if err := t.auth.Authorize(r); err != nil {
			closeRequestBody(req)
			return nil, &AuthorizeError{Err: err}
		}
	}
	return t.next.RoundTrip(r)
}
