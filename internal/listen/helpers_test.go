package listen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
)

// The tenant the tests' Jira signs deliveries for.
const (
	testClientKey = "5e8f3a42-test-client-key"
	testTenant    = "acme"
)

var testSecret = []byte("a-shared-secret-of-the-acme-tenant")

// recorder collects events; it is the OnEvent of the test servers.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// only returns the single event of type T, failing the test when there
// is not exactly one.
func only[T Event](t *testing.T, r *recorder) T {
	t.Helper()
	var found []T
	for _, e := range r.all() {
		if v, ok := e.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %T, have %d among %s", *new(T), len(found), describe(r.all()))
	}
	return found[0]
}

func count[T Event](r *recorder) int {
	n := 0
	for _, e := range r.all() {
		if _, ok := e.(T); ok {
			n++
		}
	}
	return n
}

func describe(events []Event) string {
	var b bytes.Buffer
	for _, e := range events {
		fmt.Fprintf(&b, "\n  %T %+v", e, e)
	}
	return b.String()
}

// testTenants returns the tenants of the tests: acme, whose deliveries
// the tests sign, and another one.
func testTenants(t testing.TB) *Tenants {
	t.Helper()
	var ts Tenants
	if err := ts.Add(testTenant, testClientKey, testSecret); err != nil {
		t.Fatal(err)
	}
	if err := ts.Add("globex", "another-client-key", []byte("globex-secret")); err != nil {
		t.Fatal(err)
	}
	return &ts
}

// listener is a Server running on loopback for one test.
type listener struct {
	*Server
	rec    *recorder
	base   string // http://127.0.0.1:PORT
	ready  *Ready
	stop   func() error
	client *http.Client
}

// start runs a Server for cfg on 127.0.0.1:0 until the test ends. Events
// go to a recorder, then to cfg's OnEvent if any; Secrets is testTenants
// unless given, or OAuth is.
func start(t testing.TB, cfg Config) *listener {
	t.Helper()
	rec := &recorder{}
	readyc := make(chan *Ready, 1)
	also := cfg.OnEvent
	cfg.OnEvent = func(e Event) {
		if r, ok := e.(*Ready); ok {
			readyc <- r
		}
		rec.add(e)
		if also != nil {
			also(e)
		}
	}
	if cfg.Secrets == nil && cfg.OAuth == nil && !cfg.NoVerify {
		cfg.Secrets = testTenants(t)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	var ready *Ready
	select {
	case ready = <-readyc:
	case err := <-done:
		t.Fatalf("Serve returned before Ready: %v", err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 128}
	l := &listener{
		Server: s, rec: rec, base: "http://" + ln.Addr().String(), ready: ready,
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}
	var once sync.Once
	var serveErr error
	l.stop = func() error {
		once.Do(func() {
			cancel()
			serveErr = <-done
			tr.CloseIdleConnections()
		})
		return serveErr
	}
	t.Cleanup(func() {
		if err := l.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l
}

// delivery is a request as Jira sends one.
type delivery struct {
	path       string // path and query; "/" when empty
	body       []byte
	identifier string
	retry      int
	signer     *connectjwt.Signer // nil: no Authorization header
	signPath   string             // sign for this path and query instead of path
	token      string             // a ready-made token instead of signer
	header     http.Header        // more headers
}

// jiraSigner signs as Jira signs deliveries to an app whose base URL has
// the path basePath.
func jiraSigner(basePath string) *connectjwt.Signer {
	return connectjwt.NewSigner(testClientKey, testSecret, basePath)
}

// samplePayload is a jira:issue_updated delivery for issue key.
func samplePayload(key string) []byte {
	return []byte(`{"timestamp":1714000000123,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic",` +
		`"user":{"accountId":"5b10a2844c20165700ede21g","displayName":"Alice Smith"},` +
		`"issue":{"id":"10002","key":"` + key + `","fields":{"summary":"Fix the \u00e9t\u00e9 bug","status":{"name":"Done"}}},` +
		`"changelog":{"id":"10100","items":[{"field":"status","fromString":"In Progress","toString":"Done"}]},` +
		`"matchedWebhookIds":[1000,1001]}`)
}

func (l *listener) send(t testing.TB, d delivery) (*http.Response, string) {
	t.Helper()
	resp, body, err := l.trySend(d)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func (l *listener) trySend(d delivery) (*http.Response, string, error) {
	if d.path == "" {
		d.path = "/"
	}
	req, err := http.NewRequest(http.MethodPost, l.base+d.path, bytes.NewReader(d.body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range d.header {
		req.Header[k] = vs
	}
	if d.identifier != "" {
		req.Header.Set(HeaderIdentifier, d.identifier)
	}
	if d.retry > 0 {
		req.Header.Set(HeaderRetry, fmt.Sprint(d.retry))
	}
	tok := d.token
	if d.signer != nil {
		signPath := d.path
		if d.signPath != "" {
			signPath = d.signPath
		}
		u, err := url.Parse(signPath)
		if err != nil {
			return nil, "", err
		}
		if tok, err = d.signer.Sign(http.MethodPost, u); err != nil {
			return nil, "", err
		}
	}
	if tok != "" {
		req.Header.Set("Authorization", "JWT "+tok)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}
