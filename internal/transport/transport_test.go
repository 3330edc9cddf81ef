package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/transport"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

const testSecret = "s3cr3t-shared-secret-value"

// fakeClock is the clock of a test: Sleep records the wait and advances
// the time instead of blocking.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// recorder is a minimal server for the edge cases: it answers with the
// statuses and headers of a script, one per request, and records what it
// received.
type recorder struct {
	mu      sync.Mutex
	answers []answer
	seen    []seenRequest
}

type answer struct {
	status int
	header map[string]string
	body   string
}

type seenRequest struct {
	method, uri, auth, userAgent, body string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.seen = append(r.seen, seenRequest{req.Method, req.RequestURI, req.Header.Get("Authorization"), req.Header.Get("User-Agent"), string(body)})
	a := answer{status: http.StatusOK, body: `{"ok":true}`}
	if len(r.answers) > 0 {
		a = r.answers[0]
		r.answers = r.answers[1:]
	}
	r.mu.Unlock()
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (r *recorder) requests() []seenRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seenRequest(nil), r.seen...)
}

func newSigner(clock *fakeClock) *connectjwt.Signer {
	s := connectjwt.NewSigner("com.example.app", []byte(testSecret), "")
	if clock != nil {
		s = s.WithClock(clock.Now)
	}
	return s
}

func newClient(t *testing.T, o transport.Options) *http.Client {
	t.Helper()
	if o.Authorizer == nil {
		o.Authorizer = newSigner(nil)
	}
	c, err := transport.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func issuedAt(t *testing.T, auth string) time.Time {
	t.Helper()
	tok, ok := strings.CutPrefix(auth, "JWT ")
	if !ok {
		t.Fatalf("Authorization %q is not a JWT", auth)
	}
	v, err := connectjwt.Verify(tok, connectjwt.VerifyOptions{
		Method: "GET", URL: &url.URL{Path: "/rest/api/2/webhook"},
		Secret: func(string) ([]byte, bool) { return []byte(testSecret), true },
		Leeway: time.Hour,
	})
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return v.IssuedAt
}

func TestRetryAfterHTTPDateNewToken(t *testing.T) {
	clock := newFakeClock()
	rec := &recorder{answers: []answer{{
		status: http.StatusServiceUnavailable,
		header: map[string]string{"Retry-After": clock.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)},
	}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newClient(t, transport.Options{Authorizer: newSigner(clock), Sleep: clock.Sleep, Now: clock.Now, UserAgent: "jwh/test"})

	resp, err := c.Get(srv.URL + "/rest/api/2/webhook")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if got := clock.Sleeps(); len(got) != 1 || got[0] != 3*time.Second {
		t.Fatalf("sleeps %v, want [3s]", got)
	}
	reqs := rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if reqs[0].auth == reqs[1].auth {
		t.Error("the retry reused the first token")
	}
	if d := issuedAt(t, reqs[1].auth).Sub(issuedAt(t, reqs[0].auth)); d != 3*time.Second {
		t.Errorf("second token issued %s after the first, want 3s (signed after the wait)", d)
	}
	for _, r := range reqs {
		if r.userAgent != "jwh/test" {
			t.Errorf("User-Agent %q", r.userAgent)
		}
	}
}

func TestMalformedRetryAfterBacksOff(t *testing.T) {
	clock := newFakeClock()
	rec := &recorder{answers: []answer{
		{status: 429, header: map[string]string{"Retry-After": "soon"}},
		{status: 429, header: map[string]string{"Retry-After": "-5"}},
		{status: 429},
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newClient(t, transport.Options{
		Sleep: clock.Sleep, Now: clock.Now, MaxAttempts: 5,
		BaseBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
	})
	resp, err := c.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	sleeps := clock.Sleeps()
	caps := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	if len(sleeps) != len(caps) {
		t.Fatalf("sleeps %v, want 3", sleeps)
	}
	for i, d := range sleeps {
		if d < caps[i]/2 || d > caps[i] {
			t.Errorf("sleep %d = %s, want within [%s, %s]", i, d, caps[i]/2, caps[i])
		}
	}
}

func TestRetriesExhaustedReturnLastAnswer(t *testing.T) {
	clock := newFakeClock()
	h := map[string]string{"Retry-After": "1"}
	rec := &recorder{answers: []answer{
		{status: 429, header: h, body: "a"}, {status: 429, header: h, body: "b"}, {status: 429, header: h, body: "c"}, {status: 200},
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newClient(t, transport.Options{Sleep: clock.Sleep, Now: clock.Now, MaxAttempts: 3})
	resp, err := c.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || string(body) != "c" {
		t.Errorf("got %d %q, want the third answer (429 c)", resp.StatusCode, body)
	}
	if n := len(rec.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if got := clock.Sleeps(); len(got) != 2 {
		t.Errorf("sleeps %v, want two", got)
	}
}

func TestRetryAfterBeyondBudgetIsNotWaited(t *testing.T) {
	clock := newFakeClock()
	rec := &recorder{answers: []answer{{status: 429, header: map[string]string{"Retry-After": "3600"}}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newClient(t, transport.Options{Sleep: clock.Sleep, Now: clock.Now, MaxWait: time.Minute})
	resp, err := c.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 {
		t.Errorf("status %d, want 429", resp.StatusCode)
	}
	if got := clock.Sleeps(); len(got) != 0 {
		t.Errorf("slept %v", got)
	}
}

func TestOtherStatusesAreNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 404, 500, 502} {
		clock := newFakeClock()
		rec := &recorder{answers: []answer{{status: status}}}
		srv := httptest.NewServer(rec)
		c := newClient(t, transport.Options{Sleep: clock.Sleep, Now: clock.Now})
		resp, err := c.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status || len(rec.requests()) != 1 {
			t.Errorf("status %d: got %d after %d requests", status, resp.StatusCode, len(rec.requests()))
		}
		srv.Close()
	}
}

func TestRequestBodyReplayed(t *testing.T) {
	clock := newFakeClock()
	rec := &recorder{answers: []answer{
		{status: 503, header: map[string]string{"Retry-After": "0"}},
		{status: 429, header: map[string]string{"Retry-After": "1"}},
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newClient(t, transport.Options{Sleep: clock.Sleep, Now: clock.Now})
	const payload = `{"webhookIds":[1,2,3]}`
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/rest/api/2/webhook/refresh", strings.NewReader(payload))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	reqs := rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.method != "PUT" || r.body != payload {
			t.Errorf("attempt %d: %s with body %q", i+1, r.method, r.body)
		}
	}
}

func TestBodyWithoutGetBodyIsNotRetried(t *testing.T) {
	clock := newFakeClock()
	rec := &recorder{answers: []answer{{status: 429, header: map[string]string{"Retry-After": "1"}}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newClient(t, transport.Options{Sleep: clock.Sleep, Now: clock.Now})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/x", io.NopCloser(strings.NewReader("once")))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || len(rec.requests()) != 1 {
		t.Errorf("got %d after %d requests, want the 429 after one", resp.StatusCode, len(rec.requests()))
	}
}

// hangingServer accepts requests and never answers until the test ends.
func hangingServer(t *testing.T, writeHeaderFirst bool) (*httptest.Server, *atomic.Int32) {
	release := make(chan struct{})
	hits := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if writeHeaderFirst {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			io.WriteString(w, `{"values":[`)
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv, hits
}

// A server that never answers: every attempt runs out of time, and the
// request is given up after MaxAttempts.
func TestNeverAnsweringServer(t *testing.T) {
	srv, hits := hangingServer(t, false)
	clock := newFakeClock()
	c := newClient(t, transport.Options{Timeout: 150 * time.Millisecond, Sleep: clock.Sleep, Now: clock.Now})
	target := srv.URL + "/rest/api/2/webhook"
	resp, err := c.Get(target)
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error")
	}
	var te *transport.TimeoutError
	if !errors.As(err, &te) || te.Overall {
		t.Fatalf("error %v (%T), want a per-attempt *TimeoutError", err, err)
	}
	var e *transport.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T, want *transport.Error inside", err)
	}
	if e.Method != "GET" || e.URL != target || e.Attempts != 4 || !e.Sent {
		t.Errorf("error fields %+v", e)
	}
	if !strings.HasPrefix(e.Error(), "Jira did not answer within 150ms (4 attempts over ") ||
		!strings.HasSuffix(e.Error(), "s); check the network or try again later") {
		t.Errorf("error %q", e.Error())
	}
	// The server may run the handler of the last attempt after the client
	// gave up on it: on a loaded machine, 150 ms can pass before it does.
	for deadline := time.Now().Add(30 * time.Second); hits.Load() < 4; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			break
		}
	}
	if n := hits.Load(); n != 4 {
		t.Errorf("%d attempts reached the server, want 4", n)
	}
	if n := len(clock.Sleeps()); n != 3 {
		t.Errorf("%d waits, want 3", n)
	}
}

func TestBodyThatNeverEnds(t *testing.T) {
	srv, _ := hangingServer(t, true)
	// The attempt's timeout covers connecting and the headers too, which a
	// loaded machine can make slow: start short, and give the attempt more
	// time until the headers arrive within it. What is checked is that the
	// body's endless read is then cut at that timeout.
	for timeout := 150 * time.Millisecond; ; timeout *= 2 {
		c := newClient(t, transport.Options{Timeout: timeout, MaxAttempts: 1})
		resp, err := c.Get(srv.URL + "/rest/api/2/webhook")
		if err != nil {
			if timeout > 20*time.Second {
				t.Fatalf("no headers within %s: %v", timeout, err)
			}
			continue
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		e := transportError(t, err)
		want := fmt.Sprintf("Jira did not answer within %s (1 attempt); check the network or try again later", timeout)
		if e.Error() != want || e.Attempts != 1 || !e.Sent {
			t.Errorf("read error %q (%+v), want %q", e, e, want)
		}
		return
	}
}

func TestOverallTimeout(t *testing.T) {
	srv, _ := hangingServer(t, false)
	c := newClient(t, transport.Options{Timeout: time.Minute, TotalTimeout: 150 * time.Millisecond})
	_, err := c.Get(srv.URL + "/x")
	var te *transport.TimeoutError
	if !errors.As(err, &te) || !te.Overall {
		t.Fatalf("error %v, want the overall *TimeoutError", err)
	}
	if !strings.Contains(err.Error(), "no usable answer within 150ms, retries included") {
		t.Errorf("error %q", err)
	}
}

func TestCancelStopsWaiting(t *testing.T) {
	hit := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(429)
		select {
		case hit <- struct{}{}:
		default:
		}
	}))
	defer srv.Close()
	c := newClient(t, transport.Options{MaxWait: time.Hour, TotalTimeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
	done := doInBackground(c, req)
	<-hit
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the client kept waiting after the context was cancelled")
	}
}

// doInBackground sends req with c and returns where its error will come.
func doInBackground(c *http.Client, req *http.Request) <-chan error {
	done := make(chan error, 1)
	go func() {
		resp, err := c.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		done <- err
	}()
	return done
}

func TestDebugRedacts(t *testing.T) {
	rec := &recorder{answers: []answer{
		{status: 429, header: map[string]string{"Retry-After": "1", "Set-Cookie": "atlassian.xsrf.token=abc"}},
		{status: 200, header: map[string]string{"Content-Type": "application/json"}, body: `{"values":[]}`},
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	var dbg bytes.Buffer
	clock := newFakeClock()
	c := newClient(t, transport.Options{Debug: &dbg, Sleep: clock.Sleep, Now: clock.Now, UserAgent: "jwh/test"})
	req, _ := http.NewRequest("POST", srv.URL+"/rest/api/2/webhook?startAt=0&jwt=leaked.token.value", strings.NewReader(`{"url":"https://app.example.com"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"values":[]}` {
		t.Errorf("body after the dump: %q", body)
	}
	out := dbg.String()
	for _, want := range []string{
		"> POST " + srv.URL + "/rest/api/2/webhook?startAt=0&jwt=[redacted]\n",
		"> Authorization: JWT [redacted]\n",
		"> User-Agent: jwh/test\n",
		`{"url":"https://app.example.com"}`,
		"< HTTP/1.1 429 Too Many Requests (",
		"< Set-Cookie: [redacted]\n",
		"* 429 Too Many Requests: retrying in 1s (attempt 2 of 4)",
		"< HTTP/1.1 200 OK (",
		"< Content-Type: application/json\n",
		`{"values":[]}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("debug output lacks %q:\n%s", want, out)
		}
	}
	reqs := rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		tok := strings.TrimPrefix(r.auth, "JWT ")
		if len(tok) < 20 || strings.Contains(out, tok) {
			t.Errorf("debug output shows the token %q", tok)
		}
	}
	for _, secret := range []string{testSecret, "leaked.token.value", "atlassian.xsrf.token=abc"} {
		if strings.Contains(out, secret) {
			t.Errorf("debug output shows %q", secret)
		}
	}
}

func TestDebugTruncatesHugeBodies(t *testing.T) {
	huge := strings.Repeat("x", transport.DebugBodyLimit+1000)
	rec := &recorder{answers: []answer{{status: 200, body: huge}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	var dbg bytes.Buffer
	c := newClient(t, transport.Options{Debug: &dbg})
	resp, err := c.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != huge {
		t.Error("the caller did not get the whole body")
	}
	if !strings.Contains(dbg.String(), "[... 1000 more bytes not shown]") || strings.Contains(dbg.String(), huge) {
		t.Errorf("debug output not truncated (%d bytes)", dbg.Len())
	}
}

type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("request sent to %s", r.URL)
	return nil, errors.New("must not be sent")
}

// TestRefusedURLsAreNotSent: the transport applies urlpolicy's request
// rule to every request (the rule itself is pinned in urlpolicy).
func TestRefusedURLsAreNotSent(t *testing.T) {
	c := newClient(t, transport.Options{Base: failingTransport{t}})
	for _, u := range []string{"http://acme.atlassian.net/rest/api/2/webhook", "http://10.0.0.1:8080/x",
		"http://127.0.0.1.example.com/x", "ftp://acme.atlassian.net/x", "https://user:pw@acme.atlassian.net/x"} {
		_, err := c.Get(u)
		var ue *urlpolicy.Error
		if !errors.As(err, &ue) || ue.Role != urlpolicy.RoleRequest {
			t.Errorf("%s: error %v, want a *urlpolicy.Error for the request", u, err)
		}
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirected request reached the other host with %q", r.Header.Get("Authorization"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.RedirectHandler(other.URL+"/steal", http.StatusFound))
	defer srv.Close()
	c := newClient(t, transport.Options{})
	_, err := c.Get(srv.URL + "/x")
	if err == nil || !strings.Contains(err.Error(), "redirect to "+other.URL+"/steal refused") {
		t.Errorf("error %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 7 ", 7 * time.Second, true},
		{"120", 2 * time.Minute, true},
		{"99999999999999999999", 24 * time.Hour, true},
		{"Sun, 01 Mar 2026 12:00:05 GMT", 5 * time.Second, true},
		{"Sunday, 01-Mar-26 12:00:10 GMT", 10 * time.Second, true},
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},
		{"1.5", 0, false},
		{"-3", 0, false},
		{"soon", 0, false},
	} {
		got, ok := transport.ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRedactHeader(t *testing.T) {
	for _, tc := range [][3]string{
		{"Authorization", "JWT eyJhbGciOi.x.y", "JWT [redacted]"},
		{"authorization", "Bearer abc", "Bearer [redacted]"},
		{"Authorization", "opaque", "[redacted]"},
		{"Cookie", "a=b", "[redacted]"},
		{"Content-Type", "application/json", "application/json"},
	} {
		if got := transport.RedactHeader(tc[0], tc[1]); got != tc[2] {
			t.Errorf("RedactHeader(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// TestRedactURL checks every form of a secret's name in a query, as a
// server would read it, and that other parameters keep their encoding.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://x.example/p?a=1":                          "https://x.example/p?a=1",
		"https://x.example/p?jwt=eyJ.a.b&startAt=0":        "https://x.example/p?jwt=[redacted]&startAt=0",
		"https://x.example/p?jw%74=eyJ.a.b":                "https://x.example/p?jw%74=[redacted]",
		"https://x.example/p?access_token=T&b=%20c":        "https://x.example/p?access_token=[redacted]&b=%20c",
		"https://x.example/p?refresh%5Ftoken=R":            "https://x.example/p?refresh%5Ftoken=[redacted]",
		"https://x.example/p?client_secret=S&code=C&x=%zz": "https://x.example/p?client_secret=[redacted]&code=[redacted]&x=%zz",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := transport.RedactURL(u); got != want {
			t.Errorf("RedactURL(%s) = %s, want %s", in, got, want)
		}
	}
}
