package inspect

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// record returns a record line with the given seq, as jwh listen --save
// writes one.
func record(seq int, issue string) []byte {
	return fmt.Appendf(nil, `{"v":1,"seq":%d,"received":"2026-12-02T03:04:05.123456Z","method":"POST","path":"/hook","verdict":"verified","tenant":"acme","status":200,"event":"jira:issue_updated","issue":%q,"body":{"webhookEvent":"jira:issue_updated","issue":{"key":%q}}}`, seq, issue, issue)
}

// running is an inspector serving on 127.0.0.1.
type running struct {
	*Server
	base string // http://127.0.0.1:PORT
	host string // 127.0.0.1:PORT
}

func start(t *testing.T, cfg Config) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ln.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &running{Server: s, base: "http://" + ln.Addr().String(), host: ln.Addr().String()}
}

// do sends a request built by change and returns the status and body.
func (r *running) do(t *testing.T, method, path string, body string, change func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestNewRefusesNonLoopback(t *testing.T) {
	for _, addr := range []net.Addr{
		&net.TCPAddr{IP: net.IPv4zero, Port: 4040},
		&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4040},
		&net.UnixAddr{Name: "/tmp/x", Net: "unix"},
	} {
		if _, err := New(addr, Config{}); err == nil {
			t.Errorf("New(%s) accepted a non-loopback address", addr)
		}
	}
	for _, addr := range []net.Addr{
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4040},
		&net.TCPAddr{IP: net.IPv6loopback, Port: 4040},
	} {
		s, err := New(addr, Config{})
		if err != nil {
			t.Errorf("New(%s): %v", addr, err)
			continue
		}
		if want := "http://" + addr.String() + "/"; s.URL() != want {
			t.Errorf("URL() = %q, want %q", s.URL(), want)
		}
	}
}

// TestHostChecked: a request whose Host is not the inspector's address is
// refused, whatever it asks for: a page of another site whose name was
// made to resolve to 127.0.0.1 (DNS rebinding) sends its own name.
func TestHostChecked(t *testing.T) {
	replayed := 0
	r := start(t, Config{Replay: func(context.Context, []byte, *url.URL) (ReplayResult, error) {
		replayed++
		return ReplayResult{Status: 200}, nil
	}})
	r.Add(record(1, "PRJ-1"))
	_, port, _ := net.SplitHostPort(r.host)
	for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1", "127.0.0.1:1", "localhost", "127.0.0.2:" + port, "[::1]:" + port} {
		for _, target := range []struct{ method, path string }{
			{"GET", "/"}, {"GET", "/app.js"}, {"GET", "/events?token=" + r.token}, {"POST", "/replay"}, {"GET", "/nope"},
		} {
			status, body := r.do(t, target.method, target.path, `{"seq":1,"to":"http://127.0.0.1:9/"}`, func(req *http.Request) {
				req.Host = host
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(TokenHeader, r.token)
			})
			if status != http.StatusForbidden || !strings.Contains(body, "Host header") {
				t.Errorf("Host %q, %s %s: %d %.80q, want 403 about the Host header", host, target.method, target.path, status, body)
			}
		}
	}
	if replayed != 0 {
		t.Errorf("%d replays were made for foreign hosts", replayed)
	}
	for _, host := range []string{r.host, "localhost:" + port, "LOCALHOST:" + port} {
		if status, _ := r.do(t, "GET", "/", "", func(req *http.Request) { req.Host = host }); status != 200 {
			t.Errorf("Host %q: %d, want 200", host, status)
		}
	}
}

func TestPage(t *testing.T) {
	r := start(t, Config{ReplayTarget: `http://localhost:3000/hook?a=1&b="><script>alert(1)</script>`, Keep: 50})
	resp, err := http.Get(r.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy %q allows inline script", csp)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if !strings.Contains(page, `<meta name="jwh-token" content="`+r.token+`">`) {
		t.Errorf("the page does not carry its token")
	}
	if !strings.Contains(page, `<meta name="jwh-keep" content="50">`) {
		t.Errorf("the page does not carry Keep")
	}
	if strings.Contains(page, "<script>alert") {
		t.Errorf("the replay target is not escaped:\n%s", page)
	}
	// Every script is a file of the page's own origin: the CSP forbids
	// inline ones, and there is no other origin.
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(m, `src="/`) {
			t.Errorf("inline or foreign script: %s", m)
		}
	}
	if regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).MatchString(page) {
		t.Errorf("the page loads something from another origin")
	}
	for _, f := range []struct{ path, ct string }{{"/app.js", "text/javascript"}, {"/style.css", "text/css"}} {
		resp, err := http.Get(r.base + f.path)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), f.ct) {
			t.Errorf("%s: %d %s", f.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if strings.Contains(string(js), "innerHTML") || strings.Contains(string(js), "insertAdjacentHTML") || strings.Contains(string(js), "document.write") {
			t.Errorf("%s writes HTML: records are attacker-controlled and must reach the page as text", f.path)
		}
	}
}

// replayCall is one call of the test's ReplayFunc.
type replayCall struct {
	line   string
	target string
}

// replayer is a ReplayFunc that records its calls and answers as told.
type replayer struct {
	mu     sync.Mutex
	calls  []replayCall
	result ReplayResult
	err    error
}

func (rp *replayer) replay(_ context.Context, line []byte, target *url.URL) (ReplayResult, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.calls = append(rp.calls, replayCall{string(line), target.String()})
	return rp.result, rp.err
}

func (rp *replayer) count() int {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return len(rp.calls)
}

// TestReplayRefusesCrossSite: only the page can ask for a replay. Without
// its token, from another origin, or as a form (which a cross-site page can
// post without a preflight), the request is refused and nothing is sent.
func TestReplayRefusesCrossSite(t *testing.T) {
	rp := &replayer{result: ReplayResult{Status: 200}}
	r := start(t, Config{Replay: rp.replay, ReplayTarget: "http://127.0.0.1:3000/hook"})
	r.Add(record(1, "PRJ-1"))
	body := `{"seq":1}`
	for _, tt := range []struct {
		name   string
		body   string
		change func(*http.Request)
		status int
	}{
		{"no token", body, func(req *http.Request) { req.Header.Del(TokenHeader) }, 403},
		{"wrong token", body, func(req *http.Request) { req.Header.Set(TokenHeader, strings.Repeat("0", 64)) }, 403},
		{"token in the query instead", body, func(req *http.Request) {
			req.Header.Del(TokenHeader)
			req.URL.RawQuery = "token=" + r.token
		}, 403},
		{"cross-site Sec-Fetch-Site", body, func(req *http.Request) { req.Header.Set("Sec-Fetch-Site", "cross-site") }, 403},
		{"same-site Sec-Fetch-Site", body, func(req *http.Request) { req.Header.Set("Sec-Fetch-Site", "same-site") }, 403},
		{"foreign Origin", body, func(req *http.Request) { req.Header.Set("Origin", "http://evil.example") }, 403},
		{"foreign Origin on the same port", body, func(req *http.Request) {
			_, port, _ := net.SplitHostPort(r.host)
			req.Header.Set("Origin", "http://evil.example:"+port)
		}, 403},
		{"form", "seq=1", func(req *http.Request) { req.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, 415},
		{"multipart form", body, func(req *http.Request) { req.Header.Set("Content-Type", "multipart/form-data; boundary=x") }, 415},
		{"text/plain", body, func(req *http.Request) { req.Header.Set("Content-Type", "text/plain") }, 415},
		{"no content type", body, func(req *http.Request) { req.Header.Del("Content-Type") }, 415},
	} {
		status, answer := r.do(t, "POST", "/replay", tt.body, func(req *http.Request) {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(TokenHeader, r.token)
			tt.change(req)
		})
		if status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, status, answer, tt.status)
		}
	}
	if n := rp.count(); n != 0 {
		t.Fatalf("%d replays were sent for refused requests", n)
	}
	// The page's own request passes: same origin, token, JSON.
	status, answer := r.do(t, "POST", "/replay", body, func(req *http.Request) {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set(TokenHeader, r.token)
		req.Header.Set("Origin", r.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	})
	if status != 200 || rp.count() != 1 {
		t.Fatalf("the page's replay: %d %s, %d calls", status, answer, rp.count())
	}
}

func TestReplay(t *testing.T) {
	rp := &replayer{result: ReplayResult{Status: 202, Latency: 12345 * time.Microsecond}}
	r := start(t, Config{Replay: rp.replay, ReplayTarget: "http://127.0.0.1:3000/hook"})
	r.Add(record(7, "PRJ-1"))
	post := func(body string) (int, replayAnswer) {
		t.Helper()
		status, b := r.do(t, "POST", "/replay", body, func(req *http.Request) {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(TokenHeader, r.token)
		})
		var a replayAnswer
		if err := json.Unmarshal([]byte(b), &a); err != nil {
			t.Fatalf("%s: answer %q is not JSON: %v", body, b, err)
		}
		return status, a
	}

	status, a := post(`{"seq":7}`)
	if status != 200 || a != (replayAnswer{Status: 202, Latency: "12.3ms", Target: "http://127.0.0.1:3000/hook"}) {
		t.Errorf("default target: %d %+v", status, a)
	}
	status, a = post(`{"seq":7,"to":" http://localhost:8080/other?x=1 "}`)
	if status != 200 || a.Target != "http://localhost:8080/other?x=1" {
		t.Errorf("typed target: %d %+v", status, a)
	}
	if len(rp.calls) != 2 || rp.calls[0].line != string(record(7, "PRJ-1")) || rp.calls[1].target != "http://localhost:8080/other?x=1" {
		t.Errorf("calls: %+v", rp.calls)
	}

	// The func says where it sent the delivery when that is not the
	// target it was given.
	rp.result.Target = "http://localhost:8080/hook?a=1"
	status, a = post(`{"seq":7,"to":"http://localhost:8080"}`)
	if status != 200 || a.Target != "http://localhost:8080/hook?a=1" || rp.calls[2].target != "http://localhost:8080" {
		t.Errorf("target resolved by the func: %d %+v, called with %s", status, a, rp.calls[2].target)
	}

	rp.err, rp.result = errors.New("no answer from http://127.0.0.1:3000/hook: connection refused"), ReplayResult{}
	status, a = post(`{"seq":7}`)
	if status != 200 || a.Status != 0 || a.Error != "no answer from http://127.0.0.1:3000/hook: connection refused" {
		t.Errorf("failed replay: %d %+v", status, a)
	}

	for _, tt := range []struct {
		body   string
		status int
		err    string
	}{
		{`{"seq":8}`, 404, "delivery #8 is no longer held by the inspector; replay it from the --save file with jwh replay"},
		{`{"to":"http://x"}`, 400, `the request must be {"seq": N, "to": "URL"}`},
		{`{"seq":"7"}`, 400, `the request must be {"seq": N, "to": "URL"}`},
		{`not json`, 400, `the request must be {"seq": N, "to": "URL"}`},
		// The rule of urlpolicy for the user's own app, as --forward-to.
		{`{"seq":7,"to":"ftp://x/"}`, 400, `invalid target "ftp://x/": scheme "ftp" is not supported: use http or https`},
		{`{"seq":7,"to":"localhost:3000"}`, 400, `invalid target "localhost:3000": not an absolute URL: give one such as http://localhost:3000/webhook`},
		{`{"seq":7,"to":"http://me:hunter2@localhost:3000/"}`, 400, `invalid target "http://me:xxxxx@localhost:3000/": holds user information (user@ or user:password@): remove it`},
		{`{"seq":7,"to":"http://localhost:3000/#x"}`, 400, `invalid target "http://localhost:3000/#x": has a fragment (#...), which is never sent: remove it`},
	} {
		status, a := post(tt.body)
		if status != tt.status || a.Error != tt.err {
			t.Errorf("%s: %d %q, want %d %q", tt.body, status, a.Error, tt.status, tt.err)
		}
	}

	// Without --forward-to, the page must name the target.
	r2 := start(t, Config{Replay: rp.replay})
	r2.Add(record(1, "PRJ-1"))
	status, b := r2.do(t, "POST", "/replay", `{"seq":1}`, func(req *http.Request) {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(TokenHeader, r2.token)
	})
	if status != 400 || !strings.Contains(b, "no target: type the URL to replay to") {
		t.Errorf("no target: %d %s", status, b)
	}
	// Without a ReplayFunc, replay says it is not available.
	r3 := start(t, Config{ReplayTarget: "http://127.0.0.1:3000/"})
	r3.Add(record(1, "PRJ-1"))
	status, b = r3.do(t, "POST", "/replay", `{"seq":1}`, func(req *http.Request) {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(TokenHeader, r3.token)
	})
	if status != 501 || !strings.Contains(b, "replay is not available") {
		t.Errorf("no ReplayFunc: %d %s", status, b)
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ id, event, data string }

// stream reads server-sent events from GET /events.
type stream struct {
	resp *http.Response
	br   *bufio.Reader
}

func (r *running) stream(t *testing.T, lastEventID string) *stream {
	t.Helper()
	req, err := http.NewRequest("GET", r.base+"/events?token="+r.token, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &stream{resp: resp, br: bufio.NewReader(resp.Body)}
}

// next reads the next event (comments and the retry field are skipped).
func (s *stream) next(t *testing.T) sseEvent {
	t.Helper()
	var e sseEvent
	var data []string
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if data == nil && e.event == "" {
				continue // the end of a comment or of the retry field
			}
			e.data = strings.Join(data, "\n")
			return e
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry: "):
		case strings.HasPrefix(line, "id: "):
			e.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			e.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
}

func TestEvents(t *testing.T) {
	r := start(t, Config{Keep: 3})
	for i := 1; i <= 4; i++ {
		r.Add(record(i, "PRJ-1"))
	}
	s := r.stream(t, "")
	hello := s.next(t)
	if hello.event != "hello" || !strings.Contains(hello.data, `"instance":"`+r.instance+`"`) {
		t.Fatalf("first event %+v, want hello", hello)
	}
	// The ring first: the last 3 records, oldest first, id = seq.
	for i := 2; i <= 4; i++ {
		e := s.next(t)
		if e.event != "record" || e.id != fmt.Sprint(i) || e.data != string(record(i, "PRJ-1")) {
			t.Fatalf("held record %d: %+v", i, e)
		}
	}
	// Then live, as they are added.
	r.Add(record(5, "PRJ-2"))
	if e := s.next(t); e.id != "5" || e.data != string(record(5, "PRJ-2")) {
		t.Fatalf("live record: %+v", e)
	}
	// A record with a line break in it (whitespace between tokens) arrives
	// as the same JSON.
	multi := []byte("{\"seq\":6,\n\"issue\":\"PRJ-3\"}")
	r.Add(multi)
	if e := s.next(t); e.id != "6" || e.data != string(multi) {
		t.Fatalf("record with a line break: %+v", e)
	}

	// A page that reconnects resumes after the last id it saw.
	s2 := r.stream(t, "4")
	s2.next(t) // hello
	for _, want := range []string{"5", "6"} {
		if e := s2.next(t); e.id != want {
			t.Fatalf("resumed stream: id %s, want %s", e.id, want)
		}
	}
	// One whose last id is no longer held gets everything held.
	s3 := r.stream(t, "1")
	s3.next(t)
	if e := s3.next(t); e.id != "4" {
		t.Fatalf("stream resumed after a record no longer held: id %s, want 4 (the oldest held)", e.id)
	}

	// Without the page's token there is no stream.
	if status, _ := r.do(t, "GET", "/events", "", nil); status != 403 {
		t.Errorf("GET /events without the token: %d, want 403", status)
	}
}

// TestAddNeverWaits: a page that stops reading its stream does not hold
// up Add, which the listener calls before it answers each delivery.
func TestAddNeverWaits(t *testing.T) {
	r := start(t, Config{})
	s := r.stream(t, "")
	s.next(t) // connected; from now on, never read
	big := make([]byte, 0, 64<<10)
	for i := 1; i <= 2000; i++ {
		big = append(big[:0], fmt.Sprintf(`{"seq":%d,"bodyText":"`, i)...)
		big = append(big, strings.Repeat("x", 60<<10)...)
		big = append(big, `"}`...)
		if err := r.Add(big); err != nil {
			t.Fatal(err)
		}
	}
	// 2000 × 60 KiB is more than the socket buffers hold: had Add waited
	// for the page, it would not have returned.
	if n, b := r.ring.stats(); b > DefaultMaxBytes || n < 1 {
		t.Errorf("held %d records of %d bytes, want at most %d bytes", n, b, DefaultMaxBytes)
	}
}

// TestAddCopies: the listener reuses the buffer of its record lines.
func TestAddCopies(t *testing.T) {
	s, err := New(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4040}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte(`{"seq":1,"issue":"PRJ-1"}`)
	s.Add(buf)
	copy(buf, `{"seq":2,"issue":"PRJ-2"}`)
	if line, _ := s.ring.line(1); string(line) != `{"seq":1,"issue":"PRJ-1"}` {
		t.Errorf("held %s after the caller reused its buffer", line)
	}
}

func TestAddRefusesWhatIsNoRecord(t *testing.T) {
	s, err := New(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4040}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"", "null", "[1]", `"x"`, "{", "{} x"} {
		if err := s.Add([]byte(line)); err == nil {
			t.Errorf("Add(%q) accepted", line)
		}
	}
	if n, _ := s.ring.stats(); n != 0 {
		t.Errorf("held %d", n)
	}
	// A record without a seq (or with one that is no number) is numbered
	// after the largest seen.
	s.Add([]byte(`{"seq":41}`))
	s.Add([]byte(`{"issue":"PRJ-1"}`))
	s.Add([]byte(`{"seq":"x"}`))
	for seq, want := range map[int64]string{41: `{"seq":41}`, 42: `{"issue":"PRJ-1"}`, 43: `{"seq":"x"}`} {
		if line, ok := s.ring.line(seq); !ok || string(line) != want {
			t.Errorf("seq %d: %q, %v; want %q", seq, line, ok, want)
		}
	}
}

// TestRingBounded: the inspector holds the last Keep records and at most
// MaxBytes of them, however many arrive: 10,000 records of 2 KB leave
// 1000 held, and the heap grows by about what they take.
func TestRingBounded(t *testing.T) {
	s, err := New(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4040}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 2000)
	line := func(i int) []byte {
		return fmt.Appendf(nil, `{"seq":%d,"issue":"PRJ-%d","bodyText":%q}`, i, i%50, pad)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 1; i <= 10_000; i++ {
		s.Add(line(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n, b := s.ring.stats()
	if n != DefaultKeep {
		t.Errorf("held %d records, want %d", n, DefaultKeep)
	}
	var want int64
	for i := 10_000 - DefaultKeep + 1; i <= 10_000; i++ {
		want += int64(len(line(i)))
	}
	if b != want {
		t.Errorf("held %d bytes, want %d", b, want)
	}
	// 1000 lines of about 2 KB: 2 MB, and the entries and index around
	// them. Holding all 10,000 would be 20 MB.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 6<<20 {
		t.Errorf("the heap grew by %d bytes for %d records held", grew, n)
	}
	// The oldest went first.
	if _, ok := s.ring.line(9000); ok {
		t.Errorf("record 9000 still held")
	}
	if _, ok := s.ring.line(9001); !ok {
		t.Errorf("record 9001 not held")
	}
	runtime.KeepAlive(s)

	// MaxBytes bounds the bytes whatever the count; the newest is kept
	// even when it alone is larger.
	s2, _ := New(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4040}, Config{MaxBytes: 10_000})
	for i := 1; i <= 100; i++ {
		s2.Add(line(i))
	}
	if n, b := s2.ring.stats(); b > 10_000 || n != 4 {
		t.Errorf("with MaxBytes 10000: held %d records of %d bytes", n, b)
	}
	s2.Add(fmt.Appendf(nil, `{"seq":101,"bodyText":%q}`, strings.Repeat("y", 20_000)))
	if n, _ := s2.ring.stats(); n != 1 {
		t.Errorf("a record larger than MaxBytes: held %d, want it alone", n)
	}
}

// TestServeStops: Serve returns once its context is done, even with a page
// streaming.
func TestServeStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ln.Addr(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	r := &running{Server: s, base: "http://" + ln.Addr().String(), host: ln.Addr().String()}
	st := r.stream(t, "")
	st.next(t)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	// The stream has ended.
	if _, err := io.ReadAll(st.br); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("stream ended with %v", err)
	}
}

func TestAppendEvent(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{`{"seq":1}`, "id: 1\nevent: record\ndata: {\"seq\":1}\n\n"},
		{"{\"seq\":2,\r\n\"a\":1}", "id: 2\nevent: record\ndata: {\"seq\":2,\ndata: \ndata: \"a\":1}\n\n"},
	} {
		if got := string(appendEvent(nil, &entry{seq: lineSeqOf(tt.line), line: []byte(tt.line)})); got != tt.want {
			t.Errorf("appendEvent(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// TestLineSeq: the seq of a line as the listener writes it is read from
// its start; any other line is decoded.
func TestLineSeq(t *testing.T) {
	for _, tt := range []struct {
		line string
		seq  int64
		ok   bool
	}{
		{`{"v":1,"seq":17,"received":"2026-12-02T03:04:05.123456Z","body":{"seq":99}}`, 17, true},
		{`{"v":12,"seq":9223372036854775807,"x":1}`, 9223372036854775807, true},
		// Not as the listener writes it: decoded whole.
		{`{"seq":5,"v":1}`, 5, true},
		{`{"v":1, "seq":6}`, 6, true},
		{`{"v":1,"seq":7}`, 7, true},
		{`{"v":,"seq":8,"x":1}`, 0, false},
		{`{"v":1,"seq":99999999999999999999,"x":1}`, 0, true},
		{`{"v":1,"seq":3,"x":`, 0, false},
		{`{"v":1,"seq":3,"x":1} `, 3, true},
		{`{"v":1,"seq":-3,"x":1}`, -3, true},
	} {
		seq, ok := lineSeq([]byte(tt.line))
		if seq != tt.seq || ok != tt.ok {
			t.Errorf("lineSeq(%s) = %d, %v; want %d, %v", tt.line, seq, ok, tt.seq, tt.ok)
		}
	}
}

func lineSeqOf(line string) int64 {
	n, _ := lineSeq([]byte(line))
	return n
}

func BenchmarkAdd(b *testing.B) {
	s, err := New(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4040}, Config{})
	if err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat(`{"field":"value","n":12345},`, 100)
	lines := make([][]byte, 1024)
	for i := range lines {
		lines[i] = fmt.Appendf(nil, `{"v":1,"seq":%d,"event":"jira:issue_updated","body":[%s{}]}`, i+1, body)
	}
	b.SetBytes(int64(len(lines[0])))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Add(lines[i%len(lines)])
	}
}
