package listencmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// The tenants of the tests. acme and globex have client keys; beta, added
// with jwh tenant add and no --client-key, has none.
const (
	acmeKey   = "5e8f3a42-acme-client-key"
	globexKey = "77c1d0e9-globex-client-key"
)

// secretOf is the shared secret of a test tenant; it must never be printed.
func secretOf(name string) []byte { return []byte("SECRET-of-" + name + "-b6f1c0ffee") }

// syncBuffer is a bytes.Buffer safe for the concurrent writes of the
// listener's handlers and the reads of the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a fake environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// harness holds the dependencies of one jwh listen run.
type harness struct {
	ios         *iostreams.IOStreams
	out, errOut *syncBuffer
	env         env
	store       tenant.SecretStore
	cfgPath     string
	f           *cmdutil.Factory

	mu  sync.Mutex
	now time.Time // the listener's clock

	// inspectListener, when set, is where jwh listen --inspect serves.
	inspectListener net.Listener
}

// newHarness returns a harness with the tenants acme (the default),
// globex and beta configured and their secrets in a memory store.
func newHarness(t testing.TB) *harness {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	h := &harness{
		ios: ios, out: &syncBuffer{}, errOut: &syncBuffer{},
		env:     env{},
		store:   tenant.NewMemoryStore(),
		cfgPath: filepath.Join(t.TempDir(), "jwh", "config.json"),
		now:     time.Date(2026, 4, 25, 9, 30, 15, 0, time.Local),
	}
	ios.Out, ios.ErrOut = h.out, h.errOut
	h.env[tenant.EnvConfig] = h.cfgPath
	cfg, err := tenant.LoadConfig(h.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := cfg.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, tn := range []tenant.Tenant{
		{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: acmeKey},
		{Name: "globex", BaseURL: "https://globex.atlassian.net", AppKey: "com.example.app", ClientKey: globexKey},
		{Name: "beta", BaseURL: "https://beta.atlassian.net", AppKey: "com.example.app"},
	} {
		cfg.Put(tn)
		if err := h.store.Set(tn.Name, secretOf(tn.Name)); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Default = "acme"
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	h.f = &cmdutil.Factory{
		IOStreams: ios,
		Getenv:    h.env.get,
		Now:       h.clock,
		Config:    cmdutil.LoadConfigOnce(h.env.get),
		Secrets:   func() tenant.SecretStore { return h.store },
	}
	t.Cleanup(func() {
		for where, s := range map[string]string{"stdout": h.out.String(), "stderr": h.errOut.String()} {
			for _, name := range []string{"acme", "globex", "beta"} {
				if strings.Contains(s, string(secretOf(name))) {
					t.Errorf("the secret of %s appears on %s", name, where)
				}
			}
		}
	})
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// options returns the Options that jwh listen with argv would run with.
func (h *harness) options(t testing.TB, argv ...string) *Options {
	t.Helper()
	var got *Options
	cmd := NewCmdListen(h.f, func(o *Options) error { got = o; return nil })
	if err := cmdtest.Run(cmd, argv...); err != nil {
		t.Fatalf("jwh listen %s: %v", strings.Join(argv, " "), err)
	}
	return got
}

// exitCode is the exit status a user would see for err.
func exitCode(err error) int { return cmdutil.ExitCode(err) }

// running is jwh listen running on loopback.
type running struct {
	base   string // http://127.0.0.1:PORT
	client *http.Client
	stop   func() error // cancels the context and returns listenRun's error
}

// start runs jwh listen with argv on 127.0.0.1:0 until the test ends (or
// stop), and waits until it is ready.
func (h *harness) start(t testing.TB, argv ...string) *running {
	t.Helper()
	opts := h.options(t, argv...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Listener = ln
	opts.InspectListener = h.inspectListener
	ready := make(chan struct{})
	errOut := h.ios.ErrOut
	h.ios.ErrOut = &readySignal{w: errOut, ready: ready}
	t.Cleanup(func() { h.ios.ErrOut = errOut })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- listenRun(ctx, opts) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("jwh listen stopped before it was ready: %v\nstderr:\n%s", err, h.errOut)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	r := &running{base: "http://" + ln.Addr().String(), client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	var once sync.Once
	var runErr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
			tr.CloseIdleConnections()
		})
		return runErr
	}
	t.Cleanup(func() { r.stop() })
	return r
}

// readySignal passes writes on to w and closes ready once "Ready!" has
// been written.
type readySignal struct {
	w     io.Writer
	once  sync.Once
	ready chan struct{}
}

func (r *readySignal) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("Ready!")) {
		defer r.once.Do(func() { close(r.ready) })
	}
	return r.w.Write(p)
}

// delivery is a request as Jira sends one.
type delivery struct {
	method     string // POST when empty
	path       string // path and query; "/" when empty
	body       []byte
	chunked    bool // send the body without its length
	identifier string
	retry      int
	signer     *connectjwt.Signer // nil: no Authorization header
	token      string             // a ready-made token instead of signer
	bearer     string             // a ready-made Bearer token instead of either
}

// jira signs as Jira signs the deliveries of the tenant whose client key is
// clientKey with the secret of tenant name, to an app whose base URL has
// the path basePath, at the listener's time.
func (h *harness) jira(clientKey, name, basePath string) *connectjwt.Signer {
	return connectjwt.NewSigner(clientKey, secretOf(name), basePath).WithClock(h.clock)
}

func (r *running) send(t *testing.T, d delivery) (int, string) {
	t.Helper()
	status, body, err := r.trySend(d)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

func (r *running) trySend(d delivery) (int, string, error) {
	resp, body, err := r.do(d)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, body, nil
}

// do sends d and returns the whole answer.
func (r *running) do(d delivery) (*http.Response, string, error) {
	if d.path == "" {
		d.path = "/"
	}
	if d.method == "" {
		d.method = http.MethodPost
	}
	req, err := http.NewRequest(d.method, r.base+d.path, bytes.NewReader(d.body))
	if err != nil {
		return nil, "", err
	}
	if d.chunked {
		req.ContentLength = -1
		req.Body = io.NopCloser(bytes.NewReader(d.body)) // of unknown length
	}
	req.Header.Set("Content-Type", "application/json")
	if d.identifier != "" {
		req.Header.Set(listen.HeaderIdentifier, d.identifier)
	}
	if d.retry > 0 {
		req.Header.Set(listen.HeaderRetry, fmt.Sprint(d.retry))
	}
	tok := d.token
	if d.signer != nil {
		u, err := url.Parse(d.path)
		if err != nil {
			return nil, "", err
		}
		if tok, err = d.signer.Sign(d.method, u); err != nil {
			return nil, "", err
		}
	}
	if tok != "" {
		req.Header.Set("Authorization", "JWT "+tok)
	}
	if d.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+d.bearer)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// payload is a jira:issue_updated delivery for issue key, as Jira sends it:
// compact JSON, with non-ASCII text escaped.
func payload(key string) []byte {
	return []byte(`{"timestamp":1714000000123,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic",` +
		`"user":{"accountId":"5b10a2844c20165700ede21g","displayName":"Alice Smith"},` +
		`"issue":{"id":"10002","key":"` + key + `","fields":{"summary":"Fix the \u00e9t\u00e9 bug","status":{"name":"Done"}}},` +
		`"matchedWebhookIds":[1000,1001]}`)
}
