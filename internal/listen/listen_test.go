package listen

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
)

func TestValidDelivery(t *testing.T) {
	l := start(t, Config{Path: "/hook", Leeway: DefaultLeeway})
	body := samplePayload("PRJ-123")
	resp, _ := l.send(t, delivery{path: "/hook", body: body, identifier: "id-1", retry: 2, signer: jiraSigner("/")})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; events:%s", resp.StatusCode, describe(l.rec.all()))
	}
	d := only[*Delivery](t, l.rec)
	if !bytes.Equal(d.Body, body) {
		t.Errorf("body changed:\n got %s\nwant %s", d.Body, body)
	}
	want := Meta{
		Event: "jira:issue_updated", EventType: "issue_generic", IssueKey: "PRJ-123", User: "Alice Smith",
		Timestamp: time.UnixMilli(1714000000123), MatchedWebhookIDs: []string{"1000", "1001"},
	}
	if !d.Meta.Timestamp.Equal(want.Timestamp) || d.Meta.Event != want.Event || d.Meta.EventType != want.EventType ||
		d.Meta.IssueKey != want.IssueKey || d.Meta.User != want.User || !slices.Equal(d.Meta.MatchedWebhookIDs, want.MatchedWebhookIDs) {
		t.Errorf("meta %+v, want %+v", d.Meta, want)
	}
	if !d.Verified || d.Tenant != testTenant || d.Issuer != testClientKey {
		t.Errorf("verified=%v tenant=%q issuer=%q, want true %q %q", d.Verified, d.Tenant, d.Issuer, testTenant, testClientKey)
	}
	if d.Identifier != "id-1" || d.Retry != 2 || d.Method != "POST" || d.RequestURI != "/hook" || d.ForwardTo != "" {
		t.Errorf("delivery %+v", d)
	}
	if r := l.ready; r.URL != l.base+"/hook" || !r.Verify || r.Path != "/hook" || r.BasePath != "/" {
		t.Errorf("ready %+v", r)
	}
	if st := l.Stats(); st != (Stats{Requests: 1, Delivered: 1}) {
		t.Errorf("stats %+v", st)
	}
}

// alg none: a token whose header says it is unsigned.
func unsignedToken(t *testing.T) string {
	t.Helper()
	u, _ := url.Parse("/")
	qsh, err := connectjwt.RequestQSH("POST", u, "/")
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	now := time.Now().Unix()
	claims := fmt.Sprintf(`{"iss":%q,"iat":%d,"exp":%d,"qsh":%q}`, testClientKey, now, now+180, qsh)
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "."
}

func TestVerificationFailures(t *testing.T) {
	l := start(t, Config{Leeway: DefaultLeeway})
	body := samplePayload("PRJ-9")
	now := time.Now()
	tests := []struct {
		name   string
		d      delivery
		check  connectjwt.Check
		reason string // a part of the reason
		answer string // the answer's body, without its new line
	}{
		{"bad signature", delivery{signer: connectjwt.NewSigner(testClientKey, []byte("not-the-secret"), "/")},
			connectjwt.CheckSignature, `bad signature: the token was not signed with the shared secret of "` + testClientKey + `" (tenant "acme"): if the app was reinstalled`,
			"invalid JWT: signature"},
		{"expired", delivery{signer: jiraSigner("/").WithClock(func() time.Time { return now.Add(-10 * time.Minute) })},
			connectjwt.CheckExpiry, "expired at ", "invalid JWT: exp"},
		{"future iat", delivery{signer: jiraSigner("/").WithClock(func() time.Time { return now.Add(5 * time.Minute) })},
			connectjwt.CheckIssuedAt, "issued in the future", "invalid JWT: iat"},
		{"alg none", delivery{token: unsignedToken(t)},
			connectjwt.CheckAlg, `algorithm "none" refused`, "invalid JWT: alg"},
		{"wrong qsh", delivery{signer: jiraSigner("/"), signPath: "/other"},
			connectjwt.CheckQSH, "qsh mismatch: expected " + connectjwt.QSH("POST&/&") + " for POST&/&, got " + connectjwt.QSH("POST&/other&"),
			"invalid JWT: qsh"},
		{"unknown iss", delivery{signer: connectjwt.NewSigner("someone-else", testSecret, "/")},
			connectjwt.CheckIssuer, `unknown issuer "someone-else"`, "invalid JWT: iss"},
		{"no authorization", delivery{},
			connectjwt.CheckMissing, "no JWT", "no JWT"},
		{"not a JWT", delivery{token: "garbage"},
			connectjwt.CheckMalformed, "malformed JWT", "invalid JWT: malformed"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.d.body = body
			tt.d.identifier = fmt.Sprintf("verify-%d", i)
			resp, respBody := l.send(t, tt.d)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			// The answer says which check failed and nothing more:
			// the sender may be anyone.
			if respBody != tt.answer+"\n" {
				t.Errorf("response body %q, want %q", respBody, tt.answer+"\n")
			}
			// Refused before its body was read: the connection is not
			// kept for another request.
			if !resp.Close {
				t.Error("the connection is kept open after a refusal")
			}
			var rej *Rejected
			for _, e := range l.rec.all() {
				if r, ok := e.(*Rejected); ok && r.Identifier == tt.d.identifier {
					rej = r
				}
			}
			if rej == nil {
				t.Fatalf("no Rejected event for %s", tt.d.identifier)
			}
			if rej.Status != 401 || rej.Check != string(tt.check) || !strings.Contains(rej.Reason, tt.reason) {
				t.Errorf("rejected %+v, want check %s and a reason with %q", rej, tt.check, tt.reason)
			}
			if rej.Meta.Event != "" || rej.Meta.IssueKey != "" {
				t.Errorf("the refused body was read: %+v", rej.Meta)
			}
		})
	}
	if n := count[*Delivery](l.rec); n != 0 {
		t.Errorf("%d deliveries accepted", n)
	}
	if st := l.Stats(); st.Rejected != int64(len(tests)) || st.Delivered != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestBasePath(t *testing.T) {
	// The app's base URL is https://tunnel.example/app and the webhook
	// https://tunnel.example/app/hook?x=1: Jira signs POST&/hook&x=1.
	signer := jiraSigner("/app")
	body := samplePayload("PRJ-1")

	l := start(t, Config{Path: "/app/hook", BasePath: "/app"})
	resp, _ := l.send(t, delivery{path: "/app/hook?x=1", body: body, signer: signer})
	if resp.StatusCode != 200 {
		t.Fatalf("with --base-path /app: status %d; %s", resp.StatusCode, describe(l.rec.all()))
	}

	l2 := start(t, Config{Path: "/app/hook"})
	resp, _ = l2.send(t, delivery{path: "/app/hook?x=1", body: body, signer: signer})
	if resp.StatusCode != 401 {
		t.Fatalf("without --base-path: status %d, want 401", resp.StatusCode)
	}
	rej := only[*Rejected](t, l2.rec)
	if want := "for POST&/app/hook&x=1, got"; !strings.Contains(rej.Reason, want) {
		t.Errorf("reason %q does not show the canonical request (%q)", rej.Reason, want)
	}
}

func TestQueryTokenAccepted(t *testing.T) {
	l := start(t, Config{})
	u, _ := url.Parse("/")
	tok, err := jiraSigner("/").Sign("POST", u)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := l.send(t, delivery{path: "/?jwt=" + tok, body: samplePayload("PRJ-1")})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d; %s", resp.StatusCode, describe(l.rec.all()))
	}
}

func TestBadRequests(t *testing.T) {
	l := start(t, Config{Path: "/hook", MaxBody: 1 << 20})
	signer := jiraSigner("/")

	t.Run("garbage body", func(t *testing.T) {
		resp, _ := l.send(t, delivery{path: "/hook", body: []byte("{garbage"), identifier: "g", signer: signer})
		if resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("not an object", func(t *testing.T) {
		resp, body := l.send(t, delivery{path: "/hook", body: []byte(`[1,2]`), identifier: "arr", signer: signer})
		if resp.StatusCode != 400 || !strings.Contains(body, "not a JSON object") {
			t.Fatalf("status %d %q, want 400 not a JSON object", resp.StatusCode, body)
		}
	})
	t.Run("empty body", func(t *testing.T) {
		resp, body := l.send(t, delivery{path: "/hook", identifier: "empty", signer: signer})
		if resp.StatusCode != 400 || !strings.Contains(body, "empty body") {
			t.Fatalf("status %d %q, want 400 empty body", resp.StatusCode, body)
		}
	})
	t.Run("other path", func(t *testing.T) {
		resp, body := l.send(t, delivery{path: "/elsewhere", body: samplePayload("X-1"), identifier: "p", signer: signer})
		if resp.StatusCode != 404 || body != "not found\n" {
			t.Fatalf("status %d %q, want 404", resp.StatusCode, body)
		}
	})
	t.Run("trailing slash", func(t *testing.T) {
		resp, _ := l.send(t, delivery{path: "/hook/", body: samplePayload("X-1"), identifier: "slash", signer: signer})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
	})
	t.Run("GET", func(t *testing.T) {
		resp, err := l.client.Get(l.base + "/hook")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
			t.Fatalf("status %d Allow %q, want 405 POST", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	byID := map[string]*Rejected{}
	var checks []string
	for _, e := range l.rec.all() {
		if r, ok := e.(*Rejected); ok {
			byID[r.Identifier] = r
			checks = append(checks, r.Check)
		}
	}
	if want := []string{CheckBody, CheckBody, CheckBody, CheckPath, CheckMethod}; !slices.Equal(checks, want) {
		t.Errorf("checks %v, want %v", checks, want)
	}
	if r := byID["g"]; r == nil || !strings.HasPrefix(r.Reason, "invalid JSON at byte 2: ") {
		t.Errorf("garbage: %+v", r)
	}
	if st := l.Stats(); st.Invalid != 5 || st.Delivered != 1 || st.Rejected != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestBodyTooLarge(t *testing.T) {
	l := start(t, Config{}) // the default limit, 10 MiB
	big := bytes.Repeat([]byte("x"), 20<<20)
	signer := jiraSigner("/")

	// Declared length: refused before reading.
	resp, _ := l.send(t, delivery{body: big, identifier: "big", signer: signer})
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	rej := only[*Rejected](t, l.rec)
	if rej.Check != CheckSize || rej.Reason != "body larger than the limit of 10485760 bytes (--max-body)" {
		t.Errorf("rejected %+v", rej)
	}

	// Chunked, no declared length: refused at the limit. The server may
	// close the connection while the client still writes, so the client
	// can see either the 413 or a broken connection; the listener must
	// have refused it either way, and keep serving.
	req, _ := http.NewRequest("POST", l.base+"/", io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	if err := signer.Authorize(req); err != nil {
		t.Fatal(err)
	}
	if resp, err := l.client.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked: status %d, want 413", resp.StatusCode)
		}
	}
	if n := count[*Rejected](l.rec); n != 2 {
		t.Errorf("%d rejections, want 2:%s", n, describe(l.rec.all()))
	}
	resp, _ = l.send(t, delivery{body: samplePayload("PRJ-2"), identifier: "after", signer: signer})
	if resp.StatusCode != 200 {
		t.Errorf("after the big bodies: status %d", resp.StatusCode)
	}
}

func TestDuplicate(t *testing.T) {
	l := start(t, Config{})
	signer := jiraSigner("/")
	body := samplePayload("PRJ-5")
	for retry := range 3 {
		resp, _ := l.send(t, delivery{body: body, identifier: "dup-1", retry: retry, signer: signer})
		if resp.StatusCode != 200 {
			t.Fatalf("attempt %d: status %d", retry, resp.StatusCode)
		}
	}
	// The same identifier from another tenant is another delivery.
	other := connectjwt.NewSigner("another-client-key", []byte("globex-secret"), "/")
	if resp, _ := l.send(t, delivery{body: body, identifier: "dup-1", signer: other}); resp.StatusCode != 200 {
		t.Fatalf("other tenant: status %d", resp.StatusCode)
	}
	if n := count[*Delivery](l.rec); n != 2 {
		t.Fatalf("%d deliveries, want 2 (acme and globex)", n)
	}
	var dups []*Duplicate
	for _, e := range l.rec.all() {
		if d, ok := e.(*Duplicate); ok {
			dups = append(dups, d)
		}
	}
	if len(dups) != 2 {
		t.Fatalf("%d duplicates, want 2", len(dups))
	}
	first := only[*Delivery](t, &recorder{events: l.rec.all()[1:2]})
	for i, d := range dups {
		if d.Identifier != "dup-1" || d.Retry != i+1 || d.Meta.IssueKey != "PRJ-5" || d.Tenant != testTenant ||
			!d.FirstSeen.Equal(first.Time) {
			t.Errorf("duplicate %d: %+v (first delivery at %s)", i, d, first.Time)
		}
	}
	// A retry whose token fails is refused, not excused as a duplicate.
	bad := connectjwt.NewSigner(testClientKey, []byte("wrong"), "/")
	if resp, _ := l.send(t, delivery{body: body, identifier: "dup-1", retry: 3, signer: bad}); resp.StatusCode != 401 {
		t.Errorf("bad retry: status %d, want 401", resp.StatusCode)
	}
	if st := l.Stats(); st.Delivered != 2 || st.Duplicates != 2 || st.Rejected != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestNoVerify(t *testing.T) {
	l := start(t, Config{NoVerify: true})
	resp, _ := l.send(t, delivery{body: samplePayload("PRJ-7"), identifier: "nv"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	d := only[*Delivery](t, l.rec)
	if d.Verified || d.Tenant != "" || d.Meta.IssueKey != "PRJ-7" {
		t.Errorf("delivery %+v", d)
	}
	if l.ready.Verify {
		t.Error("Ready says it verifies")
	}
	resp, _ = l.send(t, delivery{body: []byte("nope"), identifier: "nv2"})
	if resp.StatusCode != 400 {
		t.Errorf("garbage with --no-verify: status %d, want 400", resp.StatusCode)
	}
}

// app is a local app that records what it receives and answers status.
type app struct {
	*httptest.Server
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
	status int
}

func newApp(t *testing.T, status int) *app {
	a := &app{status: status}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.got = append(a.got, r)
		a.bodies = append(a.bodies, b)
		st := a.status
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(st)
		fmt.Fprintf(w, "app says %d", st)
	}))
	t.Cleanup(a.Close)
	return a
}

func TestForward(t *testing.T) {
	a := newApp(t, 500)
	target, _ := url.Parse(a.URL)
	l := start(t, Config{Path: "/hook", ForwardTo: target})
	body := samplePayload("PRJ-8")
	d := delivery{path: "/hook?user_id=7", body: body, identifier: "fw-1", signer: jiraSigner("/"),
		header: http.Header{"Connection": {"X-Hop"}, "X-Hop": {"dropped"}, "X-Custom": {"kept"}}}

	resp, respBody := l.send(t, d)
	if resp.StatusCode != 500 || respBody != "app says 500" {
		t.Fatalf("Jira got %d %q, want the app's 500", resp.StatusCode, respBody)
	}
	// Jira retries; the app recovers. The retry is forwarded, not a
	// duplicate, because the first attempt failed.
	a.mu.Lock()
	a.status = 200
	a.mu.Unlock()
	d.retry = 1
	if resp, _ := l.send(t, d); resp.StatusCode != 200 {
		t.Fatalf("retry: Jira got %d, want 200", resp.StatusCode)
	}
	// A third attempt is now a duplicate, answered here.
	d.retry = 2
	if resp, _ := l.send(t, d); resp.StatusCode != 200 {
		t.Fatalf("duplicate: Jira got %d, want 200", resp.StatusCode)
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.got) != 2 {
		t.Fatalf("the app got %d requests, want 2", len(a.got))
	}
	r := a.got[0]
	if r.URL.RequestURI() != "/hook?user_id=7" || r.Method != "POST" {
		t.Errorf("forwarded to %s %s, want POST /hook?user_id=7", r.Method, r.URL.RequestURI())
	}
	if !bytes.Equal(a.bodies[0], body) {
		t.Errorf("body changed:\n got %s\nwant %s", a.bodies[0], body)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "JWT ") || r.Header.Get(HeaderIdentifier) != "fw-1" ||
		r.Header.Get("X-Custom") != "kept" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers not forwarded: %v", r.Header)
	}
	if r.Header.Get("X-Hop") != "" {
		t.Errorf("hop-by-hop header forwarded: %v", r.Header)
	}
	// The app can verify the forwarded token as Jira signed it.
	if _, err := connectjwt.Verify(connectjwt.FromRequest(r), connectjwt.VerifyOptions{
		Method: r.Method, URL: r.URL, BasePath: "/", Leeway: time.Minute,
		Secret: func(string) ([]byte, bool) { return testSecret, true },
	}); err != nil {
		t.Errorf("the app cannot verify the forwarded delivery: %v", err)
	}

	var fws []*Forwarded
	for _, e := range l.rec.all() {
		if f, ok := e.(*Forwarded); ok {
			fws = append(fws, f)
		}
	}
	if len(fws) != 2 {
		t.Fatalf("%d Forwarded events, want 2", len(fws))
	}
	want := a.URL + "/hook?user_id=7"
	if f := fws[0]; f.Status != 500 || f.Answered != 500 || f.OK() || string(f.Body) != "app says 500" || f.URL != want || f.Err != nil {
		t.Errorf("first forward %+v", f)
	}
	if f := fws[1]; f.Status != 200 || !f.OK() || f.Latency <= 0 {
		t.Errorf("second forward %+v", f)
	}
	if n := count[*Delivery](l.rec); n != 2 {
		t.Errorf("%d deliveries, want 2", n)
	}
	if dl := only[*Duplicate](t, l.rec); dl.Retry != 2 {
		t.Errorf("duplicate %+v", dl)
	}
	if st := l.Stats(); st.Forwarded != 2 || st.ForwardFailed != 1 || st.Delivered != 2 || st.Duplicates != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestForwardURL(t *testing.T) {
	tests := []struct{ forward, request, want string }{
		{"http://127.0.0.1:3000", "/hook?a=1", "http://127.0.0.1:3000/hook?a=1"},
		{"http://127.0.0.1:3000/", "/hook?a=1", "http://127.0.0.1:3000/?a=1"},
		{"http://127.0.0.1:3000/app/webhook", "/hook", "http://127.0.0.1:3000/app/webhook"},
		{"http://127.0.0.1:3000/app/webhook?t=x", "/hook?a=1", "http://127.0.0.1:3000/app/webhook?t=x"},
		{"http://127.0.0.1:3000", "/a%2Fb", "http://127.0.0.1:3000/a%2Fb"},
	}
	for _, tt := range tests {
		f, _ := url.Parse(tt.forward)
		s, err := New(Config{NoVerify: true, ForwardTo: f, OnEvent: func(Event) {}})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := url.ParseRequestURI(tt.request)
		if got := s.forwardURL(r); got != tt.want {
			t.Errorf("forward %s, request %s: got %s, want %s", tt.forward, tt.request, got, tt.want)
		}
	}
}

func TestForwardToDeadApp(t *testing.T) {
	// A port that nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	target, _ := url.Parse(dead)
	l := start(t, Config{ForwardTo: target})
	resp, _ := l.send(t, delivery{body: samplePayload("PRJ-1"), identifier: "dead", signer: jiraSigner("/")})
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	f := only[*Forwarded](t, l.rec)
	if f.Err == nil || f.Answered != 502 || f.Status != 0 || !strings.Contains(f.Err.Error(), "connection refused") {
		t.Errorf("forwarded %+v", f)
	}
	// Not remembered: Jira's retry is tried again.
	resp, _ = l.send(t, delivery{body: samplePayload("PRJ-1"), identifier: "dead", retry: 1, signer: jiraSigner("/")})
	if resp.StatusCode != http.StatusBadGateway || count[*Duplicate](l.rec) != 0 {
		t.Errorf("retry: status %d, duplicates %d", resp.StatusCode, count[*Duplicate](l.rec))
	}
}

func TestSlowClientTimesOut(t *testing.T) {
	l := start(t, Config{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(l.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Half a request, then nothing: the server must hang up.
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Le"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a stalled connection open")
	}

	// The same for a body that never finishes.
	conn2, err := net.Dial("tcp", strings.TrimPrefix(l.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	u, _ := url.Parse("/")
	tok, err := jiraSigner("/").Sign("POST", u)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn2, "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: JWT "+tok+"\r\nContent-Length: 100\r\n\r\n{\"a\":")
	conn2.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn2)
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a stalled body open")
	}
	if e := only[*Error](t, l.rec); !strings.Contains(e.Err.Error(), "reading the body") {
		t.Errorf("error %v", e.Err)
	}
}

func TestServeShutsDown(t *testing.T) {
	// A local app that never answers holds a forwarded delivery open. It
	// reads the body first, as apps do: only then does net/http notice
	// that the listener hung up and cancel the request's context.
	hold := make(chan struct{})
	appDone := make(chan struct{})
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(appDone)
		io.Copy(io.Discard, r.Body)
		select {
		case <-hold:
			t.Error("the app was released before the listener gave up on it")
		case <-r.Context().Done():
		}
	}))
	// Cleanups run last in, first out: release the handler before Close
	// waits for it.
	t.Cleanup(a.Close)
	t.Cleanup(func() { close(hold) })
	target, _ := url.Parse(a.URL)
	var readies int
	var mu sync.Mutex
	s, err := New(Config{NoVerify: true, ForwardTo: target, ShutdownTimeout: 300 * time.Millisecond,
		OnEvent: func(e Event) {
			if _, ok := e.(*Ready); ok {
				mu.Lock()
				readies++
				mu.Unlock()
			}
		}})
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
	sent := make(chan error, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/", "application/json", strings.NewReader(`{"webhookEvent":"x"}`))
		if err == nil {
			resp.Body.Close()
		}
		sent <- err
	}()
	// A client that stalls in the middle of its body is in flight too.
	stalled, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	io.WriteString(stalled, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
	for deadline := time.Now().Add(30 * time.Second); s.Stats().Forwarded == 0 || s.Stats().Requests < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 30s the listener has not seen both requests: %+v", s.Stats())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
	// The forward in flight was cut short, not left running.
	select {
	case <-appDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the forwarded request is still open after Serve returned")
	}
	if err := <-sent; err == nil {
		t.Error("the delivery in flight was answered although the listener stopped before the app answered")
	}
	if st := s.Stats(); st.Forwarded != 1 || st.ForwardFailed != 1 || st.Delivered != 1 {
		t.Errorf("stats %+v", st)
	}
	mu.Lock()
	if readies != 1 {
		t.Errorf("%d Ready events, want 1", readies)
	}
	mu.Unlock()
	if err := s.Serve(context.Background(), ln); err == nil {
		t.Error("a second Serve did not fail")
	}
}

func TestNewRefuses(t *testing.T) {
	on := func(Event) {}
	ftp, _ := url.Parse("ftp://x/")
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{NoVerify: true}, "listen: no OnEvent"},
		{Config{OnEvent: on}, "listen: no Secrets to verify deliveries with (or set NoVerify)"},
		{Config{OnEvent: on, NoVerify: true, Path: "hook"}, `listen: path "hook" does not start with /`},
		{Config{OnEvent: on, NoVerify: true, ForwardTo: ftp}, `listen: forward URL: target URL "ftp://x/": scheme "ftp" is not supported: use http or https`},
		{Config{OnEvent: on, NoVerify: true, Leeway: -time.Second}, "listen: negative leeway -1s"},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v): %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestTenants(t *testing.T) {
	var ts Tenants
	if err := ts.Add("acme", "ck", []byte("s3cr3t-value")); err != nil {
		t.Fatal(err)
	}
	if err := ts.Add("other", "ck", []byte("x")); err == nil || err.Error() != `tenants "acme" and "other" have the same client key "ck"` {
		t.Errorf("duplicate client key: %v", err)
	}
	if err := ts.Add("nokey", "", []byte("x")); err == nil {
		t.Error("a tenant without a client key was added")
	}
	name, secret, err := ts.Lookup("ck")
	if err != nil || name != "acme" || string(secret) != "s3cr3t-value" {
		t.Errorf("Lookup: %q %q %v", name, secret, err)
	}
	if _, _, err := ts.Lookup("nope"); !errors.Is(err, ErrUnknownIssuer) {
		t.Errorf("unknown client key: %v", err)
	}
	for _, s := range []string{fmt.Sprint(ts), fmt.Sprintf("%v %+v %#v %s", &ts, ts, ts, &ts)} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("the secret is printed: %s", s)
		}
	}
}

// secretsFunc adapts a function to Secrets.
type secretsFunc func(iss string) (string, []byte, error)

func (f secretsFunc) Lookup(iss string) (string, []byte, error) { return f(iss) }

// TestSecretLookupFailures checks what a delivery whose secret cannot be
// used is answered: 503 with Retry-After when the secret cannot be read now
// (Jira retries it), 401 when the issuer is unknown or has no secret (Jira
// gives up: a configuration problem, said in the local reason).
func TestSecretLookupFailures(t *testing.T) {
	keyringDown := fmt.Errorf("%w: %s", ErrSecretUnavailable, `keyring unavailable: cannot read the secret of tenant "acme": dbus: no session bus`)
	noSecret := errors.New(`no shared secret for tenant "nosecret": store one with 'jwh tenant add nosecret' or set JWH_SHARED_SECRET`)
	l := start(t, Config{Secrets: secretsFunc(func(iss string) (string, []byte, error) {
		switch iss {
		case testClientKey:
			return "acme", nil, keyringDown
		case "globex-key":
			return "", nil, fmt.Errorf("%w %q: it is tenant \"globex\", but only tenant \"acme\" is listened for (--tenant)", ErrUnknownIssuer, iss)
		case "nosecret-key":
			return "nosecret", nil, noSecret
		case "empty-key":
			return "empty", nil, nil
		}
		return "", nil, ErrUnknownIssuer
	})})
	tests := []struct {
		iss, check, reason string
		status             int
		answer             string
	}{
		{testClientKey, CheckSecret, keyringDown.Error(), 503, "cannot verify the JWT now: try again later"},
		{"globex-key", string(connectjwt.CheckIssuer), `unknown issuer "globex-key": it is tenant "globex", but only tenant "acme" is listened for (--tenant)`,
			401, "invalid JWT: iss"},
		{"nosecret-key", CheckSecret, noSecret.Error(), 401, "cannot verify the JWT"},
		{"empty-key", CheckSecret, `the shared secret of tenant "empty" is empty`, 401, "cannot verify the JWT"},
	}
	for _, tt := range tests {
		resp, body := l.send(t, delivery{body: samplePayload("PRJ-1"), identifier: tt.iss,
			signer: connectjwt.NewSigner(tt.iss, testSecret, "/")})
		if resp.StatusCode != tt.status || body != tt.answer+"\n" {
			t.Errorf("%s: %d %q, want %d %q", tt.iss, resp.StatusCode, body, tt.status, tt.answer)
		}
		if ra := resp.Header.Get("Retry-After"); (ra == "10") != (tt.status == 503) {
			t.Errorf("%s: status %d with Retry-After %q", tt.iss, resp.StatusCode, ra)
		}
	}
	found := 0
	for _, e := range l.rec.all() {
		if r, ok := e.(*Rejected); ok {
			for _, tt := range tests {
				if r.Identifier == tt.iss {
					found++
					if r.Status != tt.status || r.Check != tt.check || r.Reason != tt.reason {
						t.Errorf("%s: rejected %+v, want status %d, check %s, reason %q", tt.iss, r, tt.status, tt.check, tt.reason)
					}
				}
			}
		}
	}
	if found != len(tests) {
		t.Errorf("%d Rejected events, want %d", found, len(tests))
	}
	if st := l.Stats(); st.Rejected != 3 || st.Unavailable != 1 || st.Delivered != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		addr     net.Addr
		local    string
		loopback bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "127.0.0.1:8080", true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "[::1]:8080", true},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "127.0.0.1:8080", false},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "127.0.0.1:8080", false},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 80}, "192.0.2.7:80", false},
		{&net.UnixAddr{Name: "/tmp/jwh.sock", Net: "unix"}, "/tmp/jwh.sock", true},
	}
	for _, tt := range tests {
		if got := localAddr(tt.addr); got != tt.local {
			t.Errorf("localAddr(%s) = %s, want %s", tt.addr, got, tt.local)
		}
		if got := isLoopback(tt.addr); got != tt.loopback {
			t.Errorf("isLoopback(%s) = %v", tt.addr, got)
		}
	}
}
