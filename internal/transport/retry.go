package transport

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// retryTransport is the outermost RoundTripper: it refuses insecure URLs,
// bounds each attempt and the whole exchange, and repeats requests answered
// with 429 or 503.
type retryTransport struct {
	o     Options
	debug *debugWriter
	next  http.RoundTripper
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := CheckURL(req.URL); err != nil {
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
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		actx, cancelAttempt := context.WithTimeoutCause(ctx, t.o.Timeout, &TimeoutError{After: t.o.Timeout})
		areq := req.Clone(actx)
		if attempt > 1 && hasBody {
			body, err := req.GetBody()
			if err != nil {
				cancelAttempt()
				cancelAll()
				return nil, &Error{Method: method, URL: where, Err: fmt.Errorf("replay the request body: %w", err)}
			}
			areq.Body = body
		}
		resp, err := t.next.RoundTrip(areq)
		if err != nil {
			err = explain(err, parent, actx)
			cancelAttempt()
			cancelAll()
			return nil, &Error{Method: method, URL: where, Err: err}
		}
		last := attempt >= t.o.MaxAttempts || !replayable || !retryable(resp.StatusCode)
		var delay time.Duration
		if !last {
			delay = t.delay(resp.Header.Get("Retry-After"), attempt)
			if waited+delay > t.o.MaxWait {
				t.debug.printf("* %s: not retrying: waiting %s would exceed the %s retry budget\n\n", resp.Status, delay, t.o.MaxWait)
				last = true
			} else if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
				t.debug.printf("* %s: not retrying: waiting %s would exceed the overall timeout\n\n", resp.Status, delay)
				last = true
			}
		}
		if last {
			resp.Body = &attemptBody{
				rc: resp.Body, ctx: actx, parent: parent, method: method, url: where,
				cancel: func() { cancelAttempt(); cancelAll() },
			}
			return resp, nil
		}
		drain(resp.Body)
		cancelAttempt()
		t.debug.printf("* %s: retrying in %s (attempt %d of %d)\n\n", resp.Status, delay, attempt+1, t.o.MaxAttempts)
		if err := t.o.Sleep(ctx, delay); err != nil {
			err = explain(err, parent, ctx)
			cancelAll()
			return nil, &Error{Method: method, URL: where, Err: err}
		}
		waited += delay
	}
}

// retryable reports whether an answer with this status is worth repeating.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// delay returns how long to wait before attempt+1: what Retry-After asks
// for, else the jittered exponential back-off.
func (t *retryTransport) delay(retryAfter string, attempt int) time.Duration {
	if d, ok := ParseRetryAfter(retryAfter, t.o.Now()); ok {
		return d
	}
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
// the attempt's deadline in force while the body is read, turns a read cut
// short by it into a clear *Error, and releases the contexts on EOF or
// Close.
type attemptBody struct {
	rc          io.ReadCloser
	ctx, parent context.Context
	cancel      func()
	method, url string
	once        sync.Once
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.release()
	case err != nil && b.ctx.Err() != nil:
		err = &Error{Method: b.method, URL: b.url, Err: explain(err, b.parent, b.ctx)}
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

// authTransport sets the User-Agent and signs every attempt afresh.
type authTransport struct {
	signer    Signer
	userAgent string
	next      http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if t.userAgent != "" {
		r.Header.Set("User-Agent", t.userAgent)
	}
	if err := t.signer.SignRequest(r); err != nil {
		closeRequestBody(req)
		return nil, fmt.Errorf("sign the request: %w", err)
	}
	return t.next.RoundTrip(r)
}
