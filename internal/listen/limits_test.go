package listen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwh-cli/jwh/internal/connectjwt"
)

// stallDeadline is how long a stalled body waits for the answer before it
// gives up: generous, so that only a listener that waits for the body
// makes it run out.
const stallDeadline = 20 * time.Second

// stalledBody is a request body that sends its prefix, then waits until
// release is closed, as a sender whose body is still on its way.
type stalledBody struct {
	prefix   []byte
	release  chan struct{}
	timedOut atomic.Bool
}

func (b *stalledBody) Read(p []byte) (int, error) {
	if len(b.prefix) > 0 {
		n := copy(p, b.prefix)
		b.prefix = b.prefix[n:]
		return n, nil
	}
	select {
	case <-b.release:
		return 0, io.EOF
	case <-time.After(stallDeadline):
		b.timedOut.Store(true)
		return 0, errors.New("stalled body: no answer came while it was sent")
	}
}

// TestRefusedBeforeTheBody checks that what the request line and headers
// decide is answered while the body is still being sent: the listener does
// not read a body it is going to refuse.
func TestRefusedBeforeTheBody(t *testing.T) {
	tenants := testTenants(t)
	l := start(t, Config{Path: "/hook", Leeway: DefaultLeeway, OAuth: oauthTenants(t), Secrets: secretsFunc(func(iss string) (string, []byte, error) {
		if iss == "down-key" {
			return "down", nil, fmt.Errorf("%w: the keyring is locked", ErrSecretUnavailable)
		}
		return tenants.Lookup(iss)
	})})
	now := time.Now()
	tests := []struct {
		name     string
		method   string
		path     string
		declared int64 // the Content-Length; -1 for chunked
		signer   *connectjwt.Signer
		bearer   string // an OAuth app's delivery token instead
		status   int
		check    string
	}{
		{"no JWT, chunked", "POST", "/hook", -1, nil, "", 401, string(connectjwt.CheckMissing)},
		{"no JWT, declared", "POST", "/hook", 1 << 20, nil, "", 401, string(connectjwt.CheckMissing)},
		{"bad signature", "POST", "/hook", -1, connectjwt.NewSigner(testClientKey, []byte("wrong"), "/"), "", 401, string(connectjwt.CheckSignature)},
		{"unknown issuer", "POST", "/hook", -1, connectjwt.NewSigner("nobody", testSecret, "/"), "", 401, string(connectjwt.CheckIssuer)},
		{"expired", "POST", "/hook", 5 << 20, jiraSigner("/").WithClock(func() time.Time { return now.Add(-time.Hour) }), "", 401, string(connectjwt.CheckExpiry)},
		{"keyring down", "POST", "/hook", -1, connectjwt.NewSigner("down-key", testSecret, "/"), "", 503, CheckSecret},
		{"declared too large", "POST", "/hook", 20 << 20, jiraSigner("/"), "", 413, CheckSize},
		{"other path", "POST", "/elsewhere", -1, jiraSigner("/"), "", 404, CheckPath},
		{"other method", "PUT", "/hook", -1, jiraSigner("/"), "", 405, CheckMethod},
		{"Bearer, wrong secret", "POST", "/hook", -1, nil,
			bearerJWT(t, jwt.SigningMethodHS256, []byte("wrong"), bearerClaimsAt(workClientID, now)), 401, string(connectjwt.CheckSignature)},
		{"Bearer, alg none", "POST", "/hook", 1 << 20, nil,
			bearerJWT(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, bearerClaimsAt(workClientID, now)), 401, string(connectjwt.CheckAlg)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &stalledBody{prefix: []byte(`{"webhookEvent":`), release: make(chan struct{})}
			defer close(body.release)
			req, err := http.NewRequest(tt.method, l.base+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = tt.declared
			req.Header.Set(HeaderIdentifier, fmt.Sprint("early-", i))
			if tt.signer != nil {
				if err := tt.signer.Authorize(req); err != nil {
					t.Fatal(err)
				}
			}
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			resp, err := l.client.Do(req)
			if body.timedOut.Load() {
				t.Fatalf("no answer while the body was being sent: the listener waited for it (%v)", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
	got := map[string]string{}
	for _, e := range l.rec.all() {
		if r, ok := e.(*Rejected); ok {
			got[r.Identifier] = fmt.Sprint(r.Status, " ", r.Check)
		}
	}
	for i, tt := range tests {
		if want := fmt.Sprint(tt.status, " ", tt.check); got[fmt.Sprint("early-", i)] != want {
			t.Errorf("%s: rejected %q, want %q", tt.name, got[fmt.Sprint("early-", i)], want)
		}
	}
}

// TestBodyBudgetFull checks that a body that finds no room in the budget
// in time is answered 503 with Retry-After, and that the room comes back
// once the bodies holding it have been handled.
func TestBodyBudgetFull(t *testing.T) {
	// The deliveries that hold the budget are forwarded to an app that
	// answers only when told to: they hold their bodies until then.
	received := make(chan struct{}, 8)
	answer := make(chan struct{})
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		received <- struct{}{}
		select {
		case <-answer:
		case <-r.Context().Done():
		}
	}))
	defer a.Close()
	var once sync.Once
	release := func() { once.Do(func() { close(answer) }) }
	defer release()
	target, _ := url.Parse(a.URL)
	// 2,000 bytes in all: the smallest budget for MaxBody 1,000.
	l := start(t, Config{NoVerify: true, MaxBody: 1000, MaxInflight: 1, ForwardTo: target, ReadTimeout: time.Second})
	if l.bodies.size != 2000 {
		t.Fatalf("budget %d, want 2000 (twice MaxBody)", l.bodies.size)
	}

	body := func(n int) []byte { return []byte(`{"pad":"` + strings.Repeat("x", n-10) + `"}`) }
	held := make(chan int, 2)
	for i := range 2 {
		go func() {
			resp, _, err := l.trySend(delivery{body: body(900), identifier: fmt.Sprint("hold-", i)})
			if err != nil {
				t.Error(err)
				held <- 0
				return
			}
			held <- resp.StatusCode
		}()
	}
	for range 2 {
		select {
		case <-received:
		case <-time.After(30 * time.Second):
			t.Fatal("the app did not receive the deliveries that hold the budget")
		}
	}

	// 1,800 bytes are held: 300 more do not fit.
	resp, answerBody := l.send(t, delivery{body: body(300), identifier: "busy"})
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "10" || answerBody != "too busy: try again later\n" {
		t.Errorf("with the budget full: %d, Retry-After %q, %q; want 503, 10, too busy", resp.StatusCode, resp.Header.Get("Retry-After"), answerBody)
	}
	var busy *Rejected
	for _, e := range l.rec.all() {
		if r, ok := e.(*Rejected); ok && r.Identifier == "busy" {
			busy = r
		}
	}
	if want := "too many bodies in flight: no room for 300 more bytes within 500ms (--max-inflight is 2000 bytes)"; busy == nil || busy.Check != CheckBusy || busy.Status != 503 || busy.Reason != want {
		t.Errorf("rejected %+v, want check busy and reason %q", busy, want)
	}

	release()
	for range 2 {
		if status := <-held; status != 200 {
			t.Errorf("a delivery that held the budget got %d", status)
		}
	}
	if resp, _ := l.send(t, delivery{body: body(300), identifier: "after"}); resp.StatusCode != 200 {
		t.Errorf("once the budget is free: status %d", resp.StatusCode)
	}
	if st := l.Stats(); st.Unavailable != 1 || st.Delivered != 3 {
		t.Errorf("stats %+v", st)
	}
	if used := l.bodies.used; used != 0 {
		t.Errorf("%d bytes of the budget still held after every delivery was answered", used)
	}
}

func TestBudget(t *testing.T) {
	b := &budget{size: 100}
	if !b.tryAcquire(60) || b.tryAcquire(50) {
		t.Fatal("tryAcquire: 60 then 50 of 100")
	}
	// A waiter for 50 is first in line; one for 10 that would fit waits
	// behind it, so that large bodies are not starved.
	first := make(chan error, 1)
	go func() { first <- b.acquire(context.Background(), 50) }()
	for waiting(b) != 1 {
		time.Sleep(time.Millisecond)
	}
	if b.tryAcquire(10) {
		t.Error("tryAcquire went ahead of a waiter")
	}
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { second <- b.acquire(ctx, 10) }()
	for waiting(b) != 2 {
		time.Sleep(time.Millisecond)
	}
	b.release(20) // 40 used: the first fits, then the second
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	cancel()
	if b.used != 100 {
		t.Fatalf("used %d, want 100", b.used)
	}

	// A waiter that gives up leaves the line, and those behind it are
	// served if they fit.
	ctx, cancel = context.WithCancel(context.Background())
	big := make(chan error, 1)
	go func() { big <- b.acquire(ctx, 100) }()
	for waiting(b) != 1 {
		time.Sleep(time.Millisecond)
	}
	small := make(chan error, 1)
	go func() { small <- b.acquire(context.Background(), 5) }()
	for waiting(b) != 2 {
		time.Sleep(time.Millisecond)
	}
	b.release(10)
	cancel()
	if err := <-big; !errors.Is(err, context.Canceled) {
		t.Errorf("the waiter that gave up: %v", err)
	}
	if err := <-small; err != nil {
		t.Errorf("the waiter behind it: %v", err)
	}
	if b.used != 95 || waiting(b) != 0 {
		t.Errorf("used %d, %d waiting; want 95, 0", b.used, waiting(b))
	}
}

func waiting(b *budget) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters.Len()
}

func TestReadBody(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 10_000) // 100,000 bytes
	tests := []struct {
		name     string
		r        io.Reader
		declared int64
		limit    int64
		want     []byte
		tooLarge bool
	}{
		{"declared", bytes.NewReader(big[:500]), 500, 1000, big[:500], false},
		{"declared, empty", bytes.NewReader(nil), 0, 1000, []byte{}, false},
		{"chunked, small", bytes.NewReader(big[:500]), -1, 1000, big[:500], false},
		{"chunked, one byte at a time", iotest.OneByteReader(bytes.NewReader(big[:70_000])), -1, 100_000, big[:70_000], false},
		{"chunked, exactly the limit", bytes.NewReader(big), -1, 100_000, big, false},
		{"chunked, one byte more", bytes.NewReader(append(big, '!')), -1, 100_000, nil, true},
		{"chunked, at the limit in small reads", iotest.HalfReader(bytes.NewReader(append(big, '!'))), -1, 100_000, nil, true},
	}
	for _, tt := range tests {
		got, err := readBody(tt.r, tt.declared, tt.limit)
		var mbe *http.MaxBytesError
		switch {
		case tt.tooLarge:
			if !errors.As(err, &mbe) || mbe.Limit != tt.limit {
				t.Errorf("%s: %v, want an *http.MaxBytesError", tt.name, err)
			}
		case err != nil || !bytes.Equal(got, tt.want):
			t.Errorf("%s: %d bytes, %v; want %d bytes", tt.name, len(got), err, len(tt.want))
		case int64(cap(got)) > tt.limit:
			t.Errorf("%s: buffer of %d bytes, beyond the limit %d", tt.name, cap(got), tt.limit)
		}
	}
	// A declared length that does not arrive is an error.
	if _, err := readBody(bytes.NewReader(big[:10]), 20, 100); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short declared body: %v", err)
	}
}

// TestMaxConns checks that connections beyond MaxConns wait to be accepted
// until one of the open ones is closed.
func TestMaxConns(t *testing.T) {
	l := start(t, Config{NoVerify: true, MaxConns: 2})
	addr := strings.TrimPrefix(l.base, "http://")
	var open []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	third, err := net.Dial("tcp", addr) // completed by the kernel, not accepted
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	body := `{"webhookEvent":"x"}`
	fmt.Fprintf(third, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	// Not answered while two connections are open. (Only a wrong
	// listener can be caught here, never a right one: this cannot flake.)
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := third.Read(make([]byte, 1)); n > 0 || !isTimeout(err) {
		t.Fatalf("the third connection was served while two were open: %d bytes, %v", n, err)
	}
	open[0].Close()
	third.SetReadDeadline(time.Now().Add(30 * time.Second))
	status, err := io.ReadAll(io.LimitReader(third, 12))
	if err != nil || string(status) != "HTTP/1.1 200" {
		t.Fatalf("after one connection closed: %q, %v", status, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
