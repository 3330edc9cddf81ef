package listen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordsOf collects the lines of the records a server passes on.
type recordsOf struct {
	mu    sync.Mutex
	lines [][]byte
}

func (r *recordsOf) add(rec *Record) {
	line := rec.AppendLine(nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
}

func (r *recordsOf) all(t *testing.T) []*Record {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var recs []*Record
	for _, line := range r.lines {
		rec, err := ParseLine(line)
		if err != nil {
			t.Fatalf("ParseLine(%s): %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func (r *recordsOf) last(t *testing.T) *Record {
	t.Helper()
	all := r.all(t)
	if len(all) == 0 {
		t.Fatal("no record")
	}
	return all[len(all)-1]
}

// TestRecordBodyRoundTrip writes odd bodies into record lines and reads
// them back: the bytes must come back exactly, and the line must be one
// line of valid JSON.
func TestRecordBodyRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		body   []byte
		member string // where the body must be: body, bodyText, bodyBase64, or "" for none
	}{
		{"compact", samplePayload("PRJ-1"), "body"},
		{"pretty", []byte("{\n  \"webhookEvent\": \"jira:issue_updated\",\n  \"n\": 1\n}"), "bodyText"},
		{"crlf", []byte("{\r\n\"a\":1}"), "bodyText"},
		{"huge numbers", []byte(`{"id":123456789012345678901234567890,"f":1.0e400,"z":-0.0000}`), "body"},
		{"raw line separators", []byte("{\"s\":\"a\u2028b\u2029c\"}"), "body"},
		{"escaped line separators", []byte(`{"s":"a\u2028b"}`), "body"},
		{"non-UTF-8", []byte("{\"s\":\"\xff\xfe\"}"), "bodyBase64"},
		{"binary", []byte{0, 1, 2, 0xff, '\n', '"'}, "bodyBase64"},
		{"leading space", []byte(` {"a":1}`), "bodyText"},
		{"trailing tab", []byte("{\"a\":1}\t"), "bodyText"},
		{"not JSON", []byte(`hello "world"`), "bodyText"},
		{"null", []byte(`null`), "body"},
		{"escapes and html", []byte(`{"a":"<b>&amp;</b>\"\\\/\u0000","k":"é"}`), "body"},
		{"control characters in text", []byte("{\x01\"a\":\x7f}"), "bodyText"},
		{"empty", []byte{}, "bodyText"},
		{"not read", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &Record{Seq: 3, Received: time.Date(2026, 12, 2, 3, 4, 5, 123456789, time.UTC), Body: tt.body}
			line := rec.AppendLine(nil)
			if bytes.ContainsAny(line, "\n\r") {
				t.Fatalf("the line has a raw new line: %q", line)
			}
			if !json.Valid(line) {
				t.Fatalf("the line is not valid JSON: %q", line)
			}
			var members map[string]json.RawMessage
			if err := json.Unmarshal(line, &members); err != nil {
				t.Fatal(err)
			}
			for _, m := range []string{"body", "bodyText", "bodyBase64"} {
				if _, ok := members[m]; ok != (m == tt.member) {
					t.Errorf("member %s present: %v; want the body in %q; line %s", m, ok, tt.member, line)
				}
			}
			got, err := ParseLine(line)
			if err != nil {
				t.Fatalf("ParseLine: %v\n%s", err, line)
			}
			if !bytes.Equal(got.Body, tt.body) || (got.Body == nil) != (tt.body == nil) {
				t.Errorf("body read back:\n got %q\nwant %q\nline %s", got.Body, tt.body, line)
			}
			if tt.member == "body" && !bytes.Contains(line, tt.body) {
				t.Errorf("the body is not verbatim in the line: %s", line)
			}
			// Through a file line with its new line, as history reads it.
			if again, err := ParseLine(append(line, '\n')); err != nil || !bytes.Equal(again.Body, tt.body) {
				t.Errorf("with its new line: %q, %v", again.Body, err)
			}
		})
	}
}

func TestRecordFields(t *testing.T) {
	received := time.Date(2026, 12, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	rec := &Record{
		Seq: 17, Received: received, Remote: "127.0.0.1:53122", Method: "POST", Path: "/hook?x=1",
		Host: "abcd.ngrok.app", Listener: "http://127.0.0.1:8080",
		Header: http.Header{
			"Content-Type": {"application/json"}, HeaderIdentifier: {"id-1"},
			"Authorization": {"JWT a.b.c"}, "Cookie": {"session=s3cr3t"}, "Proxy-Authorization": {"Basic dXNlcjpwYXNz"},
			"X-Odd": {"tab\there", "bad\xffutf8", "line\u2028sep"},
		},
		Body:   samplePayload("PRJ-1"),
		Tenant: "acme", Kind: KindConnect, Verdict: VerdictVerified, Identifier: "id-1", Retry: 2,
		Status: 200, Event: "jira:issue_updated", Issue: "PRJ-1", ReplayOf: 12, Injected: true,
		ForwardedTo: "http://localhost:3000/hook",
	}
	line := string(rec.AppendLine(nil))
	for _, want := range []string{
		`{"v":1,"seq":17,"received":"2026-12-02T02:04:05.123456Z","remote":"127.0.0.1:53122","method":"POST","path":"/hook?x=1","host":"abcd.ngrok.app","listener":"http://127.0.0.1:8080",`,
		`"headers":{"Content-Type":["application/json"],"X-Atlassian-Webhook-Identifier":["id-1"],"X-Odd":["tab\there","bad�utf8","line\u2028sep"]},`,
		`,"tenant":"acme","kind":"connect","verdict":"verified","check":"","reason":"","identifier":"id-1","retry":2,"duplicate":false,"status":200,"injected":true,"forwardedTo":"http://localhost:3000/hook","event":"jira:issue_updated","issue":"PRJ-1","replayOf":12}`,
	} {
		if !strings.Contains(line, want) {
			t.Errorf("the line lacks %s\nline: %s", want, line)
		}
	}
	for _, secret := range []string{"s3cr3t", "dXNlcjpwYXNz", "a.b.c", "Cookie", "Authorization"} {
		if strings.Contains(line, secret) {
			t.Errorf("the line holds %q: %s", secret, line)
		}
	}
	got, err := ParseLine([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Received.Equal(received.Truncate(time.Microsecond)) || got.Seq != 17 || got.Path != "/hook?x=1" ||
		got.Header.Get("X-Odd") != "tab\there" || got.Header.Get("Authorization") != "" || got.ReplayOf != 12 ||
		!got.Injected || got.ForwardedTo != rec.ForwardedTo || got.Status != 200 || got.Retry != 2 || got.Kind != KindConnect {
		t.Errorf("read back %+v", got)
	}
	// A parsed record writes the same line again.
	if again := string(got.AppendLine(nil)); again != line {
		t.Errorf("written again:\n got %s\nwant %s", again, line)
	}
}

func TestRecordAuthorization(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	jwt := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(`{"iss":"ck","qsh":"abc","iat":1,"exp":2}`)) + ".SIGNATURE"
	pretty := enc([]byte("{\n \"alg\": \"HS256\"\n}")) + "." + enc([]byte(`{"iss":"ck"}`)) + ".SIG"
	tests := []struct {
		name, value string
		want        string // the authorization member
	}{
		{"connect", "JWT " + jwt, `"authorization":{"scheme":"JWT","header":{"alg":"HS256","typ":"JWT"},"claims":{"iss":"ck","qsh":"abc","iat":1,"exp":2}}`},
		{"bearer", "Bearer " + jwt, `"authorization":{"scheme":"Bearer","header":{"alg":"HS256","typ":"JWT"},"claims":{"iss":"ck","qsh":"abc","iat":1,"exp":2}}`},
		{"pretty header", "JWT " + pretty, `"authorization":{"scheme":"JWT","header":{"alg":"HS256"},"claims":{"iss":"ck"}}`},
		{"not a JWT", "Basic dXNlcjpwYXNzd29yZA==", `"authorization":{"scheme":"Basic","error":"not a JWT"}`},
		{"claims not an object", "JWT " + enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(`[1]`)) + ".S", `"authorization":{"scheme":"JWT","error":"not a JWT"}`},
		{"a credential alone", "0123456789abcdef0123456789", `"authorization":{"scheme":"JWT","error":"not a JWT"}`},
		{"a strange scheme", "Sch\x01me tok", `"authorization":{"scheme":"","error":"not a JWT"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &Record{rawAuth: tt.value}
			line := string(rec.AppendLine(nil))
			if !strings.Contains(line, tt.want) {
				t.Errorf("line %s\nwant %s", line, tt.want)
			}
			for _, secret := range []string{"SIGNATURE", "dXNlcjpwYXNzd29yZA", "0123456789abcdef"} {
				if strings.Contains(line, secret) {
					t.Errorf("the line holds %q: %s", secret, line)
				}
			}
			got, err := ParseLine([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			if again := string(got.AppendLine(nil)); again != line {
				t.Errorf("written again:\n got %s\nwant %s", again, line)
			}
		})
	}
}

func TestParseLineRefuses(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{`{"v":1,"seq":1,"received":"2026-12-02T03:04:05.123456Z","method":"PO`, "not a record"},
		{`{"seq":1,"received":"2026-12-02T03:04:05Z"}`, `no "v"`},
		{`{"v":2,"received":"2026-12-02T03:04:05Z"}`, "version 2, newer than this jwh reads (1): upgrade jwh"},
		{`{"v":1,"received":"yesterday"}`, `received "yesterday" is not an RFC 3339 time`},
		{`{"v":1,"received":"2026-12-02T03:04:05Z","bodyBase64":"!!"}`, "bodyBase64"},
		{`[1,2]`, "not a record"},
	} {
		_, err := ParseLine([]byte(tt.line))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseLine(%s) = %v, want an error with %q", tt.line, err, tt.want)
		}
	}
}

// TestAppendLineAllocations pins the promise that writing a record costs
// nothing but the line's own buffer, so that --save keeps the listener's
// hot path free of garbage.
func TestAppendLineAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	enc := base64.RawURLEncoding.EncodeToString
	rec := &Record{
		Seq: 1, Received: time.Now(), Remote: "127.0.0.1:1", Method: "POST", Path: "/hook", Host: "h", Listener: "http://h",
		Header: http.Header{"Content-Type": {"application/json"}, HeaderIdentifier: {"id"}, "Authorization": {"x"}},
		Body:   samplePayload("PRJ-1"), Verdict: VerdictVerified, Status: 200,
		rawAuth: "JWT " + enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(`{"iss":"ck","qsh":"abc","iat":1,"exp":2}`)) + ".sig",
	}
	buf := make([]byte, 0, 8<<10)
	if n := testing.AllocsPerRun(100, func() { buf = rec.AppendLine(buf[:0]) }); n != 0 {
		t.Errorf("AppendLine allocates %v times per record, want 0", n)
	}
}

// TestServerRecords checks the record of each kind of answer, and that
// the record is passed on before the answer is written.
func TestServerRecords(t *testing.T) {
	var recs recordsOf
	var l *listener
	answered := make(chan struct{}, 1)
	l = start(t, Config{Path: "/hook", Leeway: DefaultLeeway, OnRecord: func(r *Record) {
		select {
		case <-answered:
			t.Errorf("record %d passed on after the answer", r.Seq)
		default:
		}
		recs.add(r)
	}})
	send := func(d delivery) int {
		t.Helper()
		resp, _ := l.send(t, d)
		return resp.StatusCode
	}
	body := samplePayload("PRJ-7")

	if s := send(delivery{path: "/hook?a=1", body: body, identifier: "id-7", retry: 1, signer: jiraSigner("/"),
		header: http.Header{"Cookie": {"c=1"}, HeaderReplayOf: {"12"}}}); s != 200 {
		t.Fatalf("status %d", s)
	}
	r := recs.last(t)
	if r.Seq != 1 || r.Method != "POST" || r.Path != "/hook?a=1" || r.Listener != l.base || r.Host != strings.TrimPrefix(l.base, "http://") ||
		r.Remote == "" || r.Verdict != VerdictVerified || r.Tenant != testTenant || r.Kind != KindConnect || r.Status != 200 ||
		r.Identifier != "id-7" || r.Retry != 1 || r.Duplicate || r.Event != "jira:issue_updated" || r.Issue != "PRJ-7" ||
		!bytes.Equal(r.Body, body) || r.ReplayOf != 12 || r.Header.Get("Cookie") != "" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("accepted: %+v", r)
	}
	if a := r.Authorization; a == nil || a.Scheme != "JWT" || !strings.Contains(string(a.Claims), `"iss":"`+testClientKey+`"`) ||
		!strings.Contains(string(a.Header), `"alg":"HS256"`) {
		t.Errorf("authorization %+v", a)
	}

	if s := send(delivery{path: "/hook?a=1", body: body, identifier: "id-7", retry: 2, signer: jiraSigner("/")}); s != 200 {
		t.Fatalf("status %d", s)
	}
	if r := recs.last(t); !r.Duplicate || r.Status != 200 || r.Seq != 2 || r.Verdict != VerdictVerified {
		t.Errorf("duplicate: %+v", r)
	}

	if s := send(delivery{path: "/hook", body: body, identifier: "id-8", signer: jiraSigner("/"), signPath: "/other"}); s != 401 {
		t.Fatalf("status %d", s)
	}
	if r := recs.last(t); r.Verdict != VerdictRefused || r.Check != "qsh" || !strings.Contains(r.Reason, "qsh mismatch") ||
		r.Status != 401 || r.Body != nil || r.Tenant != "" || r.Identifier != "id-8" {
		t.Errorf("refused: %+v", r)
	}

	if s := send(delivery{path: "/hook", body: []byte("{\n oops"), signer: jiraSigner("/")}); s != 400 {
		t.Fatalf("status %d", s)
	}
	if r := recs.last(t); r.Check != CheckBody || string(r.Body) != "{\n oops" || r.Status != 400 {
		t.Errorf("bad body: %+v", r)
	}

	if s := send(delivery{path: "/elsewhere?jwt=a.b.c", body: body}); s != 404 {
		t.Fatalf("status %d", s)
	}
	if r := recs.last(t); r.Check != CheckPath || r.Path != "/elsewhere?jwt=redacted" || r.Status != 404 ||
		r.Authorization == nil || r.Authorization.Error != notAJWT {
		t.Errorf("wrong path: %+v", r)
	}
	for i, r := range recs.all(t) {
		if r.Seq != int64(i+1) {
			t.Errorf("record %d has seq %d", i, r.Seq)
		}
	}
	answered <- struct{}{}
}

func TestRecordQueryToken(t *testing.T) {
	var recs recordsOf
	l := start(t, Config{Leeway: DefaultLeeway, OnRecord: recs.add})
	u, _ := url.Parse("/?x=1")
	tok, err := jiraSigner("/").Sign(http.MethodPost, u)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := l.send(t, delivery{path: "/?x=1&jwt=" + tok, body: samplePayload("PRJ-1")})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := recs.last(t)
	if r.Path != "/?x=1&jwt=redacted" || r.Authorization == nil || r.Authorization.Scheme != "JWT" ||
		!strings.Contains(string(r.Authorization.Claims), testClientKey) {
		t.Errorf("record %+v, authorization %+v", r, r.Authorization)
	}
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	if line := r.AppendLine(nil); bytes.Contains(line, []byte(sig)) {
		t.Errorf("the line holds the token's signature: %s", line)
	}
}

// TestQueryTokenNeverWritten: a token sent as the jwt query parameter
// (whose name may be percent-encoded: it is read decoded) goes with the
// delivery to the app, and into nothing the listener writes or reports:
// records (path, forwardedTo, the reason of a body that could not be
// read) and events (RequestURI, ForwardTo, Forwarded.URL, Error).
func TestQueryTokenNeverWritten(t *testing.T) {
	a := newApp(t, 200)
	target, _ := url.Parse(a.URL)
	var mu sync.Mutex
	var lines []string
	l := start(t, Config{ForwardTo: target, Leeway: DefaultLeeway, OnRecord: func(r *Record) {
		mu.Lock()
		lines = append(lines, string(r.AppendLine(nil)))
		mu.Unlock()
	}})
	u, _ := url.Parse("/?x=1")
	tok, err := jiraSigner("/").Sign(http.MethodPost, u)
	if err != nil {
		t.Fatal(err)
	}
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	for i, name := range []string{"jwt", "%6Awt", "j%77t"} {
		resp, _ := l.send(t, delivery{path: "/?x=1&" + name + "=" + tok, body: samplePayload("PRJ-1"), identifier: fmt.Sprint("q-", i)})
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", name, resp.StatusCode)
		}
	}
	// A 404 and a body cut short, with the token in the query.
	if resp, _ := l.send(t, delivery{path: "/elsewhere?jwt=" + tok, body: samplePayload("PRJ-1")}); resp.StatusCode != 404 {
		t.Fatalf("elsewhere: status %d", resp.StatusCode)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(l.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /?x=1&jwt=%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"cut", tok)
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if status, err := io.ReadAll(io.LimitReader(conn, 12)); err != nil || string(status) != "HTTP/1.1 400" {
		t.Fatalf("a body cut short: %q, %v", status, err)
	}

	a.mu.Lock()
	for _, r := range a.got {
		if r.URL.Query().Get("jwt") != tok {
			t.Errorf("the app got %s without the token", r.URL)
		}
	}
	if len(a.got) != 3 {
		t.Errorf("the app got %d deliveries, want 3", len(a.got))
	}
	a.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 5 {
		t.Fatalf("%d records, want 5", len(lines))
	}
	for _, line := range lines {
		if strings.Contains(line, sig) {
			t.Errorf("a record holds the token: %s", line)
		}
	}
	if !strings.Contains(lines[4], `"check":"read"`) {
		t.Errorf("the last record is not the body cut short: %s", lines[4])
	}
	var seen []string
	for _, e := range l.rec.all() {
		switch e := e.(type) {
		case *Delivery:
			seen = append(seen, e.RequestURI, e.ForwardTo)
		case *Forwarded:
			seen = append(seen, e.URL)
		case *Rejected:
			seen = append(seen, e.RequestURI, e.Reason)
		case *Error:
			seen = append(seen, e.Err.Error())
		}
	}
	if len(seen) != 2*3+3+2+1 {
		t.Errorf("events: %s", describe(l.rec.all()))
	}
	for _, s := range seen {
		if strings.Contains(s, sig) {
			t.Errorf("an event holds the token: %s", s)
		}
	}
}

func TestRespond(t *testing.T) {
	var recs recordsOf
	l := start(t, Config{Leeway: DefaultLeeway, OnRecord: recs.add, Respond: Respond{Status: 503, FailFirst: 2}})
	body := samplePayload("PRJ-2")
	var got []int
	for retry := range 4 {
		resp, _ := l.send(t, delivery{body: body, identifier: "id-r", retry: retry, signer: jiraSigner("/")})
		got = append(got, resp.StatusCode)
	}
	if want := []int{503, 503, 200, 200}; !equalInts(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	all := recs.all(t)
	if len(all) != 4 {
		t.Fatalf("%d records", len(all))
	}
	if r := all[0]; !r.Injected || r.Status != 503 || r.Reason != "answered 503 by --respond (1 of --fail-first 2)" || r.Verdict != VerdictVerified || r.Duplicate {
		t.Errorf("first: %+v", r)
	}
	if r := all[1]; !r.Injected || r.Reason != "answered 503 by --respond (2 of --fail-first 2)" {
		t.Errorf("second: %+v", r)
	}
	if r := all[2]; r.Injected || r.Duplicate || r.Status != 200 {
		t.Errorf("third: %+v", r)
	}
	if r := all[3]; !r.Duplicate {
		t.Errorf("fourth: %+v", r)
	}
	var ds []*Delivery
	for _, e := range l.rec.all() {
		if d, ok := e.(*Delivery); ok {
			ds = append(ds, d)
		}
	}
	if len(ds) != 3 || ds[0].Respond != 503 || ds[0].Attempt != 1 || ds[1].Attempt != 2 || ds[2].Respond != 0 {
		t.Errorf("deliveries %s", describe(l.rec.all()))
	}
	if st := l.Stats(); st.Delivered != 3 || st.Injected != 2 || st.Duplicates != 1 {
		t.Errorf("stats %+v", st)
	}

	// Without an identifier every delivery is a first.
	for range 3 {
		if resp, _ := l.send(t, delivery{body: body, signer: jiraSigner("/")}); resp.StatusCode != 503 {
			t.Errorf("no identifier: status %d, want 503", resp.StatusCode)
		}
	}
}

func TestRespondEvery(t *testing.T) {
	l := start(t, Config{Leeway: DefaultLeeway, Respond: Respond{Status: 500}})
	for retry := range 3 {
		resp, _ := l.send(t, delivery{body: samplePayload("PRJ-3"), identifier: "id-e", retry: retry, signer: jiraSigner("/")})
		if resp.StatusCode != 500 {
			t.Errorf("attempt %d: status %d, want 500", retry, resp.StatusCode)
		}
	}
	// A refusal stays a refusal: Respond answers deliveries only.
	if resp, _ := l.send(t, delivery{body: samplePayload("PRJ-3")}); resp.StatusCode != 401 {
		t.Errorf("without a JWT: status %d, want 401", resp.StatusCode)
	}
}

// TestRespondSuccess: an injected 2xx is a success, so the retry after it
// is a duplicate.
func TestRespondSuccess(t *testing.T) {
	l := start(t, Config{Leeway: DefaultLeeway, Respond: Respond{Status: 202, FailFirst: 1}})
	for i, want := range []int{202, 200} {
		resp, _ := l.send(t, delivery{body: samplePayload("PRJ-4"), identifier: "id-s", retry: i, signer: jiraSigner("/")})
		if resp.StatusCode != want {
			t.Errorf("attempt %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	if n := count[*Duplicate](l.rec); n != 1 {
		t.Errorf("%d duplicates, want 1", n)
	}
}

// TestRespondInformational: a 1xx is not a final answer; 200 follows it,
// and the record says so.
func TestRespondInformational(t *testing.T) {
	var recs recordsOf
	l := start(t, Config{Leeway: DefaultLeeway, OnRecord: recs.add, Respond: Respond{Status: 102}})
	resp, _ := l.send(t, delivery{body: samplePayload("PRJ-5"), identifier: "id-i", signer: jiraSigner("/")})
	if resp.StatusCode != 200 {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
	if r := recs.last(t); r.Status != 200 || !r.Injected || r.Reason != "answered 102 by --respond, then 200: a 1xx is not a final answer" {
		t.Errorf("record %+v", r)
	}
}

func TestRespondRefused(t *testing.T) {
	for _, tt := range []struct {
		r    Respond
		want string
	}{
		{Respond{Status: 99}, "not an HTTP status"},
		{Respond{Status: 600}, "not an HTTP status"},
		{Respond{FailFirst: 2}, "FailFirst without a Status"},
		{Respond{Status: 503, FailFirst: -1}, "negative FailFirst"},
		{Respond{Delay: -time.Second}, "negative delay"},
		{Respond{Delay: DefaultForwardTimeout + DefaultReadTimeout}, "not shorter than the write timeout 50s"},
	} {
		_, err := New(Config{NoVerify: true, OnEvent: func(Event) {}, Respond: tt.r})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New with %+v: %v, want %q", tt.r, err, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// answerWatcher is a ResponseWriter that knows whether an answer has
// been written.
type answerWatcher struct {
	h        http.Header
	answered bool
	status   int
}

func (w *answerWatcher) Header() http.Header { return w.h }
func (w *answerWatcher) Write(p []byte) (int, error) {
	if !w.answered {
		w.WriteHeader(http.StatusOK)
	}
	return len(p), nil
}
func (w *answerWatcher) WriteHeader(status int) {
	if !w.answered {
		w.answered, w.status = true, status
	}
}

// TestRecordBeforeAnswer: the record of every kind of answer is passed on
// before anything of the answer is written, so that a history holds every
// delivery Jira was told had arrived.
func TestRecordBeforeAnswer(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer app.Close()
	to, _ := url.Parse(app.URL)
	var w *answerWatcher
	records := 0
	cfg := Config{
		Secrets: testTenants(t), Leeway: DefaultLeeway, ForwardTo: to, Respond: Respond{Status: 503, FailFirst: 1},
		OnEvent: func(Event) {},
		OnRecord: func(r *Record) {
			records++
			if w.answered {
				t.Errorf("record %d (status %d) passed on after the answer", r.Seq, r.Status)
			}
		},
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("/")
	tok, _ := jiraSigner("/").Sign(http.MethodPost, u)
	for _, c := range []struct {
		name   string
		path   string
		auth   string
		body   string
		status int
	}{
		{"injected", "/", "JWT " + tok, string(samplePayload("PRJ-1")), 503},
		{"forwarded", "/", "JWT " + tok, string(samplePayload("PRJ-1")), 202},
		{"duplicate", "/", "JWT " + tok, string(samplePayload("PRJ-1")), 200},
		{"refused", "/", "", string(samplePayload("PRJ-1")), 401},
		{"bad body", "/", "JWT " + tok, "[", 400},
		{"not found", "/x", "", "", 404},
	} {
		w = &answerWatcher{h: http.Header{}}
		req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
		req.Header.Set(HeaderIdentifier, "id-1")
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		before := records
		s.ServeHTTP(w, req)
		if w.status != c.status || records != before+1 {
			t.Errorf("%s: status %d, %d records; want %d, 1", c.name, w.status, records-before, c.status)
		}
	}
}
