package transport_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/transport"
)

// How a rawServer treats a request.
type rawAction int

const (
	respond rawAction = iota // 200 {"ok":true}, then close
	closeIt                  // read the request, close without answering (the client reads EOF)
	resetIt                  // read the request, reset the connection (ECONNRESET)
)

// rawServer is a TCP server that reads each request in full and then does
// what its script says, one action per connection (the last one repeats):
// it plays the network failures that an http.Handler cannot.
type rawServer struct {
	ln     net.Listener
	mu     sync.Mutex
	script []rawAction
	seen   []rawRequest
	wg     sync.WaitGroup
}

type rawRequest struct{ method, auth, body string }

func newRawServer(t *testing.T, script ...rawAction) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, script: script}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *rawServer) URL() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(conn)
		}()
	}
}

func (s *rawServer) handle(conn net.Conn) {
	defer conn.Close()
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return
	}
	body, _ := io.ReadAll(req.Body)
	s.mu.Lock()
	s.seen = append(s.seen, rawRequest{req.Method, req.Header.Get("Authorization"), string(body)})
	act := respond
	if len(s.script) > 0 {
		act = s.script[0]
		if len(s.script) > 1 {
			s.script = s.script[1:]
		}
	}
	s.mu.Unlock()
	switch act {
	case respond:
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}")
	case resetIt:
		conn.(*net.TCPConn).SetLinger(0)
	}
}

func (s *rawServer) requests() []rawRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rawRequest(nil), s.seen...)
}

// closedAddress returns a loopback URL where nothing listens.
func closedAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func send(c *http.Client, method, url, body string) (*http.Response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

// transportError fails unless err holds a *transport.Error.
func transportError(t *testing.T, err error) *transport.Error {
	t.Helper()
	var te *transport.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T), want a *transport.Error", err, err)
	}
	return te
}

func TestDroppedConnectionsRetried(t *testing.T) {
	for _, drop := range []rawAction{closeIt, resetIt} {
		clock := newFakeClock()
		srv := newRawServer(t, drop, drop, respond)
		// Waits of a second or more, so that every token has its own iat.
		const base = 2 * time.Second
		c := newClient(t, transport.Options{Authorizer: newSigner(clock), Sleep: clock.Sleep, Now: clock.Now, BaseBackoff: base})
		resp, err := send(c, "GET", srv.URL()+"/rest/api/2/webhook", "")
		if err != nil {
			t.Fatalf("action %d: %v", drop, err)
		}
		if resp.StatusCode != 200 {
			t.Errorf("action %d: status %d", drop, resp.StatusCode)
		}
		reqs := srv.requests()
		if len(reqs) != 3 {
			t.Fatalf("action %d: %d attempts, want 3", drop, len(reqs))
		}
		if reqs[0].auth == reqs[1].auth || reqs[1].auth == reqs[2].auth {
			t.Errorf("action %d: a retry reused a token", drop)
		}
		sleeps := clock.Sleeps()
		caps := []time.Duration{base, 2 * base}
		if len(sleeps) != 2 {
			t.Fatalf("action %d: sleeps %v, want 2", drop, sleeps)
		}
		for i, d := range sleeps {
			if d < caps[i]/2 || d > caps[i] {
				t.Errorf("action %d: wait %d = %s, want within [%s, %s]", drop, i, d, caps[i]/2, caps[i])
			}
		}
	}
}

// Every method against a server that reads each request and then closes
// the connection: idempotent requests are sent MaxAttempts times, POST and
// PATCH once, as they may have reached the server.
func TestRetryDecisionPerMethod(t *testing.T) {
	for _, tc := range []struct {
		method   string
		body     string
		attempts int
	}{
		{"GET", "", 4},
		{"HEAD", "", 4},
		{"OPTIONS", "", 4},
		{"PUT", `{"webhookIds":[1]}`, 4},
		{"DELETE", `{"webhookIds":[1]}`, 4},
		{"POST", `{"url":"https://app.example.com/hook","webhooks":[]}`, 1},
		{"PATCH", `{}`, 1},
	} {
		clock := newFakeClock()
		srv := newRawServer(t, closeIt)
		var dbg strings.Builder
		c := newClient(t, transport.Options{Sleep: clock.Sleep, Now: clock.Now, Debug: &dbg})
		_, err := send(c, tc.method, srv.URL()+"/rest/api/2/webhook", tc.body)
		te := transportError(t, err)
		reqs := srv.requests()
		if len(reqs) != tc.attempts || te.Attempts != tc.attempts {
			t.Errorf("%s: the server saw %d attempts, the error says %d; want %d", tc.method, len(reqs), te.Attempts, tc.attempts)
		}
		for i, r := range reqs {
			if r.method != tc.method || r.body != tc.body {
				t.Errorf("%s: attempt %d was %s with body %q", tc.method, i+1, r.method, r.body)
			}
		}
		if !te.Sent || te.Method != tc.method || te.URL != srv.URL()+"/rest/api/2/webhook" {
			t.Errorf("%s: error fields %+v", tc.method, te)
		}
		note := "not retrying: the " + tc.method + " may have reached the server"
		if strings.Contains(dbg.String(), note) != (tc.attempts == 1) {
			t.Errorf("%s: debug output with %q: %v, want %v", tc.method, note, !(tc.attempts == 1), tc.attempts == 1)
		}
		want := "Jira closed the connection (4 attempts over "
		if tc.attempts == 1 {
			want = "Jira closed the connection (1 attempt); the " + tc.method + " may have reached Jira, so it was not repeated: check before sending it again"
		}
		if !strings.HasPrefix(te.Error(), want) {
			t.Errorf("%s: error %q, want it to start with %q", tc.method, te, want)
		}
	}
}

// A POST that never got a connection reached nothing, and is repeated.
func TestRefusedPOSTRetried(t *testing.T) {
	clock := newFakeClock()
	c := newClient(t, transport.Options{Sleep: clock.Sleep, Now: clock.Now, MaxAttempts: 3})
	addr := closedAddress(t)
	_, err := send(c, "POST", addr+"/rest/api/2/webhook", `{"url":"x"}`)
	te := transportError(t, err)
	if te.Attempts != 3 || te.Sent || len(clock.Sleeps()) != 2 {
		t.Errorf("attempts %d, sent %v, waits %v; want 3 attempts, not sent, 2 waits", te.Attempts, te.Sent, clock.Sleeps())
	}
	host := strings.TrimPrefix(addr, "http://")
	if want := "Jira at " + host + " refused the connection (3 attempts over "; !strings.HasPrefix(te.Error(), want) ||
		!strings.HasSuffix(te.Error(), "); check the tenant's base URL, or try again later") {
		t.Errorf("error %q", te)
	}
}

// A certificate that is not trusted does not become trusted by trying
// again.
func TestTLSFailureNotRetried(t *testing.T) {
	hits := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the server's side of the failed handshake
	srv.StartTLS()
	defer srv.Close()
	clock := newFakeClock()
	c := newClient(t, transport.Options{Sleep: clock.Sleep, Now: clock.Now})
	_, err := send(c, "GET", srv.URL+"/rest/api/2/webhook", "")
	te := transportError(t, err)
	if te.Attempts != 1 || hits != 0 || len(clock.Sleeps()) != 0 {
		t.Errorf("attempts %d, hits %d, waits %v; want one attempt", te.Attempts, hits, clock.Sleeps())
	}
	host := strings.TrimPrefix(srv.URL, "https://")
	if want := "the TLS connection to " + host + " failed ("; !strings.HasPrefix(te.Error(), want) || !strings.Contains(te.Error(), "certificate") {
		t.Errorf("error %q", te)
	}
}

// The waits between attempts add up: the retries stop before their sum
// passes MaxWait, even when each one alone is within it.
func TestWaitsAddUpToMaxWait(t *testing.T) {
	clock := newFakeClock()
	h := map[string]string{"Retry-After": "20"}
	rec := &recorder{answers: []answer{{status: 429, header: h}, {status: 429, header: h}, {status: 429, header: h, body: "third"}, {status: 200}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c := newClient(t, transport.Options{Sleep: clock.Sleep, Now: clock.Now, MaxAttempts: 10, MaxWait: 50 * time.Second, TotalTimeout: time.Hour})
	resp, err := c.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || string(body) != "third" {
		t.Errorf("got %d %q, want the third answer", resp.StatusCode, body)
	}
	if got := clock.Sleeps(); len(got) != 2 || got[0]+got[1] != 40*time.Second {
		t.Errorf("waits %v, want 20s and 20s (a third would make 60s, past the 50s budget)", got)
	}
	if n := len(rec.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// The same budget holds for the back-off after failures on the way.
func TestBackoffAfterFailuresStopsAtMaxWait(t *testing.T) {
	clock := newFakeClock()
	srv := newRawServer(t, closeIt)
	c := newClient(t, transport.Options{
		Sleep: clock.Sleep, Now: clock.Now, MaxAttempts: 10,
		BaseBackoff: 4 * time.Second, MaxBackoff: 4 * time.Second, MaxWait: 9 * time.Second,
	})
	_, err := send(c, "GET", srv.URL()+"/x", "")
	te := transportError(t, err)
	// Each wait is within [2s, 4s]: two fit in 9s whatever the jitter, and
	// three fit only if their sum is at most 9s.
	var sum time.Duration
	for _, d := range clock.Sleeps() {
		sum += d
	}
	if sum > 9*time.Second || len(clock.Sleeps()) < 2 || te.Attempts != len(clock.Sleeps())+1 || len(srv.requests()) != te.Attempts {
		t.Errorf("waits %v (sum %s) and %d attempts (%d seen); want at least 2 waits adding up to 9s or less", clock.Sleeps(), sum, te.Attempts, len(srv.requests()))
	}
	if te.Elapsed != sum {
		t.Errorf("elapsed %s, want %s (the waits, on the test's clock)", te.Elapsed, sum)
	}
}

func TestCancelDuringAttemptNotRetried(t *testing.T) {
	srv, hits := hangingServer(t, false)
	c := newClient(t, transport.Options{Timeout: time.Hour, TotalTimeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
	done := doInBackground(c, req)
	for deadline := time.Now().Add(30 * time.Second); hits.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the server")
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if te := transportError(t, err); te.Attempts != 1 {
			t.Errorf("%d attempts, want 1", te.Attempts)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the client kept going after the context was cancelled")
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d attempts reached the server, want 1", n)
	}
}
