package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	jwhlisten "github.com/jwh-cli/jwh/internal/listen"
)

// fast makes retries take microseconds.
const fast = 1e-6

// receiver is an app on loopback that answers deliveries with scripted
// statuses and records them.
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	statuses []int // answers in order, the last one repeating; none means 200
	got      []received
}

type received struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, received{req.URL.RequestURI(), req.Header.Clone(), b})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status = r.statuses[min(n, len(r.statuses)-1)]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *receiver) url(path string) string { return r.srv.URL + path }

// trigger triggers ev on the fixture's tenant and waits for the result.
func (f *fixture) trigger(ev Event) TriggerResult {
	f.t.Helper()
	tr, err := f.ten.Trigger(ev)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := tr.Wait(ctx)
	if err != nil {
		f.t.Fatalf("Wait: %v", err)
	}
	if !res.Complete {
		f.t.Fatalf("result not complete after Wait: %+v", res)
	}
	return res
}

// failedList returns the ids of GET /rest/api/2/webhook/failed.
func (f *fixture) failedList() []failedJSON {
	f.t.Helper()
	r := f.api("GET", "/rest/api/2/webhook/failed", "")
	r.want(f.t, 200, "")
	var page struct {
		Values []failedJSON `json:"values"`
	}
	if err := json.Unmarshal([]byte(r.body), &page); err != nil {
		f.t.Fatal(err)
	}
	return page.Values
}

func TestDeliveryVerifiesInListen(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hookPath   string // the callback's path
		appBaseURL string // "" for the origin; else a path on the listener
		basePath   string // listen's BasePath
	}{
		{name: "app at the origin", hookPath: "/hook?tenant=acme&x=%2F"},
		{name: "app under a path", hookPath: "/app/jira/hook", appBaseURL: "/app", basePath: "/app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			origin := "http://" + ln.Addr().String()
			cfg := TenantConfig{Name: "acme", BasePath: "/jira"}
			if tc.appBaseURL != "" {
				cfg.AppBaseURL = origin + tc.appBaseURL
			}
			// Real clocks on both sides, as in jwh demo.
			f := start(t, Options{Clock: time.Now, RetryScale: fast}, cfg)

			var tenants jwhlisten.Tenants
			if err := tenants.Add("acme", f.ten.ClientKey(), []byte(f.ten.Secret())); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var got []jwhlisten.Event
			path, _, _ := strings.Cut(tc.hookPath, "?")
			srv, err := jwhlisten.New(jwhlisten.Config{
				Path: path, BasePath: tc.basePath, Secrets: &tenants, Leeway: jwhlisten.DefaultLeeway,
				OnEvent: func(e jwhlisten.Event) {
					mu.Lock()
					defer mu.Unlock()
					got = append(got, e)
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ctx, ln) }()
			t.Cleanup(func() {
				cancel()
				if err := <-served; err != nil {
					t.Errorf("Serve: %v", err)
				}
			})

			reg := f.register(`{"url":"` + origin + tc.hookPath + `","webhooks":[` +
				`{"jqlFilter":"project = PRJ","events":["jira:issue_updated"]},` +
				`{"jqlFilter":"project = OPS","events":["jira:issue_updated"]}]}`)
			if len(reg.Results) != 2 || reg.Results[0].CreatedWebhookID == nil {
				t.Fatalf("register: %+v", reg)
			}
			res := f.trigger(Event{Name: "jira:issue_updated", Issue: Issue{Key: "PRJ-7"}, ChangedFields: []string{"status"}})
			if len(res.Deliveries) != 1 {
				t.Fatalf("deliveries %+v", res.Deliveries)
			}
			d := res.Deliveries[0]
			if d.Outcome != OutcomeDelivered || d.Status != 200 || len(d.Attempts) != 1 {
				t.Fatalf("delivery %s (%s), %d attempts; want delivered at once", d.Outcome, d.Error, len(d.Attempts))
			}

			mu.Lock()
			defer mu.Unlock()
			var delivery *jwhlisten.Delivery
			for _, e := range got {
				switch e := e.(type) {
				case *jwhlisten.Delivery:
					delivery = e
				case *jwhlisten.Rejected:
					t.Fatalf("listen rejected the delivery: %s: %s", e.Check, e.Reason)
				}
			}
			if delivery == nil {
				t.Fatalf("listen reported no delivery: %v", got)
			}
			if !delivery.Verified || delivery.Tenant != "acme" || delivery.Issuer != f.ten.ClientKey() ||
				delivery.Identifier != d.Identifier || delivery.Retry != 0 || delivery.RequestURI != tc.hookPath {
				t.Errorf("listen's delivery: verified %v, tenant %q, issuer %q, identifier %q (want %q), retry %d, URI %q",
					delivery.Verified, delivery.Tenant, delivery.Issuer, delivery.Identifier, d.Identifier, delivery.Retry, delivery.RequestURI)
			}
			m := delivery.Meta
			if m.Event != "jira:issue_updated" || m.EventType != "issue_generic" || m.IssueKey != "PRJ-7" ||
				m.User != "Sandbox User" || fmt.Sprint(m.MatchedWebhookIDs) != "[1000]" {
				t.Errorf("listen's meta %+v", m)
			}
			if string(delivery.Body) != string(d.Payload) {
				t.Errorf("listen got a body other than the one sent:\n%s\n%s", delivery.Body, d.Payload)
			}
		})
	}
}

func TestDeliveryRefusedByTheApp(t *testing.T) {
	// An app that knows another secret answers 401, which Jira does not
	// retry: the delivery fails at once and is listed as failed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := start(t, Options{Clock: time.Now, RetryScale: fast}, TenantConfig{Name: "acme"})
	var tenants jwhlisten.Tenants
	if err := tenants.Add("acme", f.ten.ClientKey(), []byte("another secret")); err != nil {
		t.Fatal(err)
	}
	srv, err := jwhlisten.New(jwhlisten.Config{Path: "/hook", Secrets: &tenants, OnEvent: func(jwhlisten.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()

	hookURL := "http://" + ln.Addr().String() + "/hook"
	f.register(`{"url":"` + hookURL + `","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`)
	res := f.trigger(Event{Name: "jira:issue_created"})
	d := res.Deliveries[0]
	if d.Outcome != OutcomeFailed || d.Status != 401 || len(d.Attempts) != 1 ||
		d.Error != "answered 401 Unauthorized, which Jira does not retry" {
		t.Errorf("delivery %s, status %d, %d attempts, error %q", d.Outcome, d.Status, len(d.Attempts), d.Error)
	}
	if got := f.failedList(); len(got) != 1 || got[0].ID != d.Identifier || got[0].URL != hookURL || got[0].Body != string(d.Payload) {
		t.Errorf("failed list %+v", got)
	}
	if st := srv.Stats(); st.Rejected != 1 || st.Delivered != 0 {
		t.Errorf("listen stats %+v", st)
	}
}

func TestRetriesUntilDelivered(t *testing.T) {
	rcv := newReceiver(t, 503, 503, 503, 200)
	var mu sync.Mutex
	var reports []AttemptReport
	f := start(t, Options{RetryScale: fast, OnAttempt: func(r AttemptReport) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, r)
	}}, TenantConfig{Name: "acme"})
	f.register(`{"url":"` + rcv.url("/hook") + `","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`)

	res := f.trigger(Event{Name: "jira:issue_created"})
	d := res.Deliveries[0]
	if d.Outcome != OutcomeDelivered || d.Status != 200 || d.Error != "" || len(d.Attempts) != 4 {
		t.Fatalf("delivery %s (%q), status %d, %d attempts; want delivered after 4", d.Outcome, d.Error, d.Status, len(d.Attempts))
	}
	for i, a := range d.Attempts {
		want := []int{503, 503, 503, 200}[i]
		if a.Retry != i || a.Status != want || a.Error != "" {
			t.Errorf("attempt %d: %+v, want retry %d and status %d", i, a, i, want)
		}
	}
	got := rcv.requests()
	if len(got) != 4 {
		t.Fatalf("the receiver got %d requests, want 4", len(got))
	}
	for i, r := range got {
		wantRetry := ""
		if i > 0 {
			wantRetry = fmt.Sprint(i)
		}
		if id := r.header.Get(HeaderIdentifier); id != d.Identifier {
			t.Errorf("attempt %d: identifier %q, want %q", i, id, d.Identifier)
		}
		if _, has := r.header[HeaderRetry]; has != (i > 0) || r.header.Get(HeaderRetry) != wantRetry {
			t.Errorf("attempt %d: %s %q, want %q", i, HeaderRetry, r.header.Get(HeaderRetry), wantRetry)
		}
		if string(r.body) != string(d.Payload) {
			t.Errorf("attempt %d sent another body", i)
		}
		if r.header.Get("Content-Type") != "application/json; charset=UTF-8" || r.header.Get("User-Agent") != UserAgent ||
			!strings.HasPrefix(r.header.Get("Authorization"), "JWT ") {
			t.Errorf("attempt %d headers %v", i, r.header)
		}
	}
	if n := len(f.failedList()); n != 0 {
		t.Errorf("%d failed deliveries listed after a success", n)
	}
	mu.Lock()
	defer mu.Unlock()
	var outcomes []string
	for _, r := range reports {
		outcomes = append(outcomes, r.Outcome)
		if r.Outcome == OutcomePending && r.Next <= 0 {
			t.Errorf("report of a pending attempt without a wait: %+v", r)
		}
		if r.Identifier != d.Identifier || r.Tenant != "acme" || r.Event != "jira:issue_created" || r.IssueKey != "SBX-1" {
			t.Errorf("report %+v", r)
		}
	}
	if fmt.Sprint(outcomes) != "[pending pending pending delivered]" {
		t.Errorf("reported outcomes %v", outcomes)
	}
}

func TestAlwaysFailingDeliveryIsListedAsFailed(t *testing.T) {
	// A closed port: every attempt fails to connect.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/gone"
	ln.Close()

	for _, tc := range []struct {
		name   string
		url    func(t *testing.T) (string, *receiver)
		status int
		err    string
	}{
		{"500", func(t *testing.T) (string, *receiver) { r := newReceiver(t, 500); return r.url("/hook"), r }, 500,
			"answered 500 Internal Server Error after 5 retries"},
		{"429", func(t *testing.T) (string, *receiver) { r := newReceiver(t, 429); return r.url("/hook"), r }, 429,
			"answered 429 Too Many Requests after 5 retries"},
		{"connection refused", func(t *testing.T) (string, *receiver) { return closed, nil }, 0, "after 5 retries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, Options{RetryScale: fast}, TenantConfig{Name: "acme"})
			u, rcv := tc.url(t)
			f.register(`{"url":"` + u + `","webhooks":[{"jqlFilter":"project = SBX","events":["comment_created"]}]}`)
			f.clock.Advance(time.Minute)
			res := f.trigger(Event{Name: "comment_created"})
			d := res.Deliveries[0]
			if d.Outcome != OutcomeFailed || d.Status != tc.status || len(d.Attempts) != MaxRetries+1 || !strings.HasSuffix(d.Error, tc.err) {
				t.Fatalf("delivery %s (%q), status %d, %d attempts", d.Outcome, d.Error, d.Status, len(d.Attempts))
			}
			if rcv != nil && len(rcv.requests()) != MaxRetries+1 {
				t.Errorf("the receiver got %d requests, want %d", len(rcv.requests()), MaxRetries+1)
			}
			if tc.status == 0 && d.Attempts[0].Error == "" {
				t.Errorf("a connection failure without an error: %+v", d.Attempts[0])
			}
			got := f.failedList()
			if len(got) != 1 {
				t.Fatalf("failed list %+v, want the delivery", got)
			}
			if got[0].ID != d.Identifier || got[0].URL != u || got[0].Body != string(d.Payload) || got[0].FailureTime != f.clock.Now().UnixMilli() {
				t.Errorf("failed list entry %+v", got[0])
			}
		})
	}
}

func TestNonRetryableAnswers(t *testing.T) {
	for _, status := range []int{301, 400, 404, 410} {
		rcv := newReceiver(t, status)
		f := start(t, Options{RetryScale: fast}, TenantConfig{Name: "acme"})
		f.register(`{"url":"` + rcv.url("/") + `","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_deleted"]}]}`)
		d := f.trigger(Event{Name: "jira:issue_deleted"}).Deliveries[0]
		if d.Outcome != OutcomeFailed || len(d.Attempts) != 1 || d.Status != status {
			t.Errorf("answer %d: %s after %d attempts", status, d.Outcome, len(d.Attempts))
		}
	}
	// Retried: 408, 409, 425, 429 and 5xx.
	for _, status := range []int{408, 409, 425, 502, 504} {
		rcv := newReceiver(t, status, 204)
		f := start(t, Options{RetryScale: fast}, TenantConfig{Name: "acme"})
		f.register(`{"url":"` + rcv.url("/") + `","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_deleted"]}]}`)
		d := f.trigger(Event{Name: "jira:issue_deleted"}).Deliveries[0]
		if d.Outcome != OutcomeDelivered || len(d.Attempts) != 2 {
			t.Errorf("answer %d then 204: %s after %d attempts", status, d.Outcome, len(d.Attempts))
		}
	}
}

func TestRetryDelays(t *testing.T) {
	s := New(Options{RetryScale: 1, Seed: 7})
	var total time.Duration
	for n := 1; n <= MaxRetries; n++ {
		d := s.retryDelay(n)
		lo := FirstRetryDelay
		for range n - 1 {
			lo *= 3
		}
		if d < lo || d >= lo*145/100 {
			t.Errorf("retry %d waits %s, want [%s, %s)", n, d, lo, lo*145/100)
		}
		total += d
	}
	if total < 15*time.Minute || total > 30*time.Minute {
		t.Errorf("the last retry comes %s after the first failure, want 15 to 30 minutes", total)
	}
	if d := New(Options{}).retryDelay(1); d < 10*time.Millisecond || d >= 15*time.Millisecond {
		t.Errorf("default scale: first retry after %s, want 10 to 15 ms", d)
	}
}

func TestCloseCancelsPendingDeliveries(t *testing.T) {
	rcv := newReceiver(t, 503)
	attempted := make(chan AttemptReport, 10)
	s := New(Options{RetryScale: 1, OnAttempt: func(r AttemptReport) { attempted <- r }}) // the first retry would wait 10 s
	ten, err := s.AddTenant(TenantConfig{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, s: s, run: run, ten: ten, clock: nil, signer: signerFor(ten), client: &http.Client{Timeout: 10 * time.Second}}
	f.register(`{"url":"` + rcv.url("/hook") + `","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`)
	tr, err := ten.Trigger(Event{Name: "jira:issue_created"})
	if err != nil {
		t.Fatal(err)
	}
	if r := <-attempted; r.Outcome != OutcomePending || r.Next < FirstRetryDelay {
		t.Errorf("first attempt: %+v", r)
	}
	if s.PendingDeliveries() != 1 {
		t.Errorf("PendingDeliveries() = %d, want 1", s.PendingDeliveries())
	}
	if err := run.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tr.Done():
	default:
		t.Fatal("Close returned with a delivery pending")
	}
	d := tr.Result().Deliveries[0]
	if d.Outcome != OutcomeCanceled || len(d.Attempts) != 1 || !strings.Contains(d.Error, "canceled") {
		t.Errorf("delivery %s (%q) after %d attempts, want canceled after 1", d.Outcome, d.Error, len(d.Attempts))
	}
	s.mu.Lock()
	n := len(ten.failed)
	s.mu.Unlock()
	if n != 0 || s.PendingDeliveries() != 0 {
		t.Errorf("%d failed deliveries and %d pending after a cancel", n, s.PendingDeliveries())
	}
	if err := s.Drain(context.Background()); err != nil {
		t.Errorf("Drain: %v", err)
	}
}

func TestTriggerUnknownEvent(t *testing.T) {
	s := New(Options{})
	ten, err := s.AddTenant(TenantConfig{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ten.Trigger(Event{Name: "issue_updated"}); err == nil || !strings.Contains(err.Error(), `did you mean "jira:issue_updated"`) {
		t.Errorf("Trigger(issue_updated) = %v", err)
	}
	// No webhooks: nothing to do, and done at once.
	tr, err := ten.Trigger(Event{Name: "jira:issue_created"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Wait(context.Background())
	if err != nil || !res.Complete || len(res.Deliveries) != 0 || len(res.MatchedWebhookIDs) != 0 {
		t.Errorf("no webhooks: %+v, %v", res, err)
	}
}

func TestWaitTimesOut(t *testing.T) {
	rcv := newReceiver(t, 503)
	attempted := make(chan AttemptReport, 10)
	f := start(t, Options{RetryScale: 1, OnAttempt: func(r AttemptReport) { attempted <- r }}, TenantConfig{Name: "acme"})
	f.register(`{"url":"` + rcv.url("/hook") + `","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`)
	tr, err := f.ten.Trigger(Event{Name: "jira:issue_created"})
	if err != nil {
		t.Fatal(err)
	}
	<-attempted
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := tr.Wait(ctx)
	if err != context.Canceled || res.Complete || res.Deliveries[0].Outcome != OutcomePending {
		t.Errorf("Wait with a done context: complete %v, outcome %s, err %v", res.Complete, res.Deliveries[0].Outcome, err)
	}
	tr.Cancel()
	<-tr.Done()
	if got := tr.Result().Deliveries[0].Outcome; got != OutcomeCanceled {
		t.Errorf("after Cancel: %s", got)
	}
}

// The JWT of every attempt is fresh and verifies for the callback.
func TestDeliveryToken(t *testing.T) {
	rcv := newReceiver(t, 500, 200)
	f := start(t, Options{RetryScale: fast}, TenantConfig{Name: "acme", AppBaseURL: "https://app.example.com/base/"})
	f.register(`{"url":"` + rcv.url("/base/hook?a=1") + `","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`)
	f.trigger(Event{Name: "jira:issue_created"})
	got := rcv.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	for i, r := range got {
		req := httptest.NewRequest("POST", r.path, nil)
		req.Header = r.header
		v, err := connectjwt.Verify(connectjwt.FromRequest(req), connectjwt.VerifyOptions{
			Method: "POST", URL: req.URL, BasePath: "/base",
			Secret: func(iss string) ([]byte, bool) { return []byte(f.ten.Secret()), iss == f.ten.ClientKey() },
			Now:    f.clock.Now,
		})
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if v.Canonical != "POST&/hook&a=1" || !v.IssuedAt.Equal(t0) {
			t.Errorf("attempt %d: canonical %q, iat %v", i, v.Canonical, v.IssuedAt)
		}
	}
}

func TestAttemptTimeIsUTC(t *testing.T) {
	// The trigger endpoint's answer (jwh trigger -o json) gives each
	// attempt's time in UTC, as every time jwh prints in JSON, whatever
	// the zone of the sandbox's clock.
	rcv := newReceiver(t)
	tokyo := time.FixedZone("JST", 9*60*60)
	f := start(t, Options{Clock: func() time.Time { return time.Now().In(tokyo) }, RetryScale: fast}, TenantConfig{Name: "acme"})
	f.register(`{"url":"` + rcv.url("/hook") + `","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`)
	res := f.trigger(Event{Name: "jira:issue_created"})
	if len(res.Deliveries) != 1 || len(res.Deliveries[0].Attempts) != 1 {
		t.Fatalf("deliveries %+v", res.Deliveries)
	}
	b, err := json.Marshal(res.Deliveries[0].Attempts[0])
	if err != nil {
		t.Fatal(err)
	}
	var a struct{ Time string }
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(a.Time, "Z") {
		t.Errorf("attempt time %q, want UTC (…Z)", a.Time)
	}
}
