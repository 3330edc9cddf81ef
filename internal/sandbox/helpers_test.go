package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
)

// t0 is the fixed start of the fake clock: 2019-06-01T12:42:30Z.
var t0 = time.Date(2019, 6, 1, 12, 42, 30, 0, time.UTC)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a listening sandbox with one tenant and a signer for it.
type fixture struct {
	t      *testing.T
	s      *Server
	run    *Running
	ten    *Tenant
	clock  *fakeClock
	signer *connectjwt.Signer
	client *http.Client
}

// start runs a sandbox on loopback with the fake clock and one tenant.
func start(t *testing.T, opts Options, cfg TenantConfig) *fixture {
	t.Helper()
	// The fake clock, unless opts brings its own (then f.clock is nil).
	var clock *fakeClock
	if opts.Clock == nil {
		clock = newClock()
		opts.Clock = clock.Now
	}
	s := New(opts)
	ten, err := s.AddTenant(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return listen(t, s, ten, clock)
}

func listen(t *testing.T, s *Server, ten *Tenant, clock *fakeClock) *fixture {
	t.Helper()
	run, err := s.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	signer := signerFor(ten)
	if clock != nil {
		signer = signer.WithClock(clock.Now)
	}
	return &fixture{
		t: t, s: s, run: run, ten: ten, clock: clock, signer: signer,
		client: &http.Client{Timeout: 10 * time.Second},
	}
}

func signerFor(ten *Tenant) *connectjwt.Signer {
	return connectjwt.NewSigner(ten.AppKey(), []byte(ten.Secret()), ten.BasePath())
}

// reply is an HTTP answer, read in full.
type reply struct {
	status int
	header http.Header
	body   string
}

// do sends a request to target (a path and query on the server's root
// URL), signed by signer unless it is nil, with body as JSON unless empty.
func (f *fixture) do(signer *connectjwt.Signer, method, target, body string) reply {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.run.URL()+target, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if signer != nil {
		if err := signer.Authorize(req); err != nil {
			f.t.Fatal(err)
		}
	}
	return f.send(req)
}

// send sends a prepared request and reads the answer.
func (f *fixture) send(req *http.Request) reply {
	f.t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// signedRequest returns a request for target on the server, signed for the
// fixture's tenant, with body as JSON.
func (f *fixture) signedRequest(method, target, body string) *http.Request {
	f.t.Helper()
	req, err := http.NewRequest(method, f.run.URL()+target, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := f.signer.Authorize(req); err != nil {
		f.t.Fatal(err)
	}
	return req
}

// api sends a request signed for the fixture's tenant to a path relative
// to the tenant's base path.
func (f *fixture) api(method, path, body string) reply {
	f.t.Helper()
	return f.do(f.signer, method, f.ten.BasePath()+path, body)
}

// want fails unless the reply has the status and, when body is not "",
// exactly that body.
func (r reply) want(t *testing.T, status int, body string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if body != "" && r.body != body {
		t.Fatalf("body\n got %s\nwant %s", r.body, body)
	}
}

// errorMessages decodes a Jira error body.
func (r reply) errorMessages(t *testing.T) []string {
	t.Helper()
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if len(e.ErrorMessages) == 0 || e.Errors == nil {
		t.Fatalf("error body %s lacks errorMessages or errors", r.body)
	}
	return e.ErrorMessages
}

// registration is a decoded POST /rest/api/2/webhook answer.
type registration struct {
	Results []struct {
		CreatedWebhookID *int64   `json:"createdWebhookId"`
		Errors           []string `json:"errors"`
	} `json:"webhookRegistrationResult"`
}

func (f *fixture) register(body string) registration {
	f.t.Helper()
	r := f.api("POST", "/rest/api/2/webhook", body)
	r.want(f.t, 200, "")
	var reg registration
	if err := json.Unmarshal([]byte(r.body), &reg); err != nil {
		f.t.Fatal(err)
	}
	return reg
}

// page is a decoded GET /rest/api/2/webhook answer.
type page struct {
	StartAt    int  `json:"startAt"`
	MaxResults int  `json:"maxResults"`
	Total      int  `json:"total"`
	IsLast     bool `json:"isLast"`
	Values     []struct {
		ID             int64    `json:"id"`
		JQLFilter      string   `json:"jqlFilter"`
		Events         []string `json:"events"`
		ExpirationDate any      `json:"expirationDate"`
		URL            string   `json:"url"`
	} `json:"values"`
}

func (f *fixture) list(query string) page {
	f.t.Helper()
	r := f.api("GET", "/rest/api/2/webhook"+query, "")
	r.want(f.t, 200, "")
	var p page
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// webhooksBody returns a registration body for n webhooks on url.
func webhooksBody(url string, n int) string {
	var b strings.Builder
	b.WriteString(`{"url":"` + url + `","webhooks":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"jqlFilter":"project = PRJ","events":["jira:issue_created"]}`)
	}
	b.WriteString("]}")
	return b.String()
}

const hook = "https://app.example.com/webhook-received"
