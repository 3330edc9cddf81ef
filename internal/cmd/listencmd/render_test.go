package listencmd

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
)

var at = time.Date(2026, 4, 25, 9, 30, 15, 0, time.Local)

func newTestRenderer(opts RenderOptions) (*Renderer, *syncBuffer, *syncBuffer) {
	ios, _, _, _ := iostreams.Test()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ios.Out, ios.ErrOut = out, errOut
	return NewRenderer(ios, opts), out, errOut
}

func TestRenderReady(t *testing.T) {
	r, out, errOut := newTestRenderer(RenderOptions{})
	r.Event(&listen.Ready{
		Addr: &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, URL: "http://0.0.0.0:8080/hook", Path: "/hook", BasePath: "/",
		Verify: true, Loopback: false, ForwardTo: "http://localhost:3000",
	})
	want := "Ready! Listening for Jira's deliveries on http://0.0.0.0:8080/hook (Ctrl-C to stop)\n" +
		"  verifying the JWT of each delivery: HS256, signed by configured tenants; qsh relative to base path /\n" +
		"  forwarding each delivery to http://localhost:3000\n" +
		"! listening on 0.0.0.0:8080, which is not a loopback address: anyone who can reach this machine can send deliveries; listen on 127.0.0.1 and expose it with a tunnel\n"
	if errOut.String() != want || out.String() != "" {
		t.Errorf("stderr:\n%s\nwant:\n%s\nstdout: %q", errOut, want, out)
	}
}

func TestRenderForwardedAndErrors(t *testing.T) {
	r, out, errOut := newTestRenderer(RenderOptions{})
	r.Event(&listen.Forwarded{Time: at, Identifier: "f1", URL: "http://localhost:3000/", Status: 204, Answered: 204, Latency: 1234 * time.Microsecond})
	r.Event(&listen.Forwarded{Time: at, Identifier: "f2", URL: "http://localhost:3000/", Answered: 502, Latency: 2 * time.Second,
		Err: errors.New(`Post "http://localhost:3000/": dial tcp 127.0.0.1:3000: connect: connection refused`)})
	r.Event(&listen.Forwarded{Time: at, Identifier: "f3", Status: 302, Answered: 302, Latency: 500 * time.Microsecond})
	r.Event(&listen.Error{Time: at, Err: errors.New("http: panic serving 127.0.0.1:5555: boom\ngoroutine 7 [running]:\n\tmain.go:12 \x1b[31m")})
	wantOut := "09:30:15  <-- 204 No Content  1.2ms  id f1\n" +
		`09:30:15  <-- ✗ no answer in 2s: Post "http://localhost:3000/": dial tcp 127.0.0.1:3000: connect: connection refused; Jira was answered 502  id f2` + "\n" +
		"09:30:15  <-- 302 Found  0.5ms  id f3\n"
	if out.String() != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, wantOut)
	}
	wantErr := "09:30:15  ✗ http: panic serving 127.0.0.1:5555: boom\ngoroutine 7 [running]:\n\tmain.go:12 \uFFFD[31m\n"
	if errOut.String() != wantErr {
		t.Errorf("stderr:\n%q\nwant:\n%q", errOut, wantErr)
	}
}

// TestRenderSanitises checks that what a sender controls cannot move the
// cursor, recolour the terminal or break a line.
func TestRenderSanitises(t *testing.T) {
	r, out, _ := newTestRenderer(RenderOptions{Quiet: true})
	r.Event(&listen.Delivery{
		Time: at, Method: "POST", RequestURI: "/", Body: []byte(`{}`), Verified: true, Tenant: "acme",
		Identifier: "id\x1b[2J\nnext", Retry: 1,
		Meta: listen.Meta{Event: "jira:issue_updated\u202e", IssueKey: "PRJ-1\r", User: "Mallory\x1b]0;owned\x07",
			MatchedWebhookIDs: []string{"1", "2\x00"}},
	})
	r.Event(&listen.Rejected{Time: at, Method: "POST", RequestURI: "/", Identifier: strings.Repeat("x", 500), Status: 401,
		Check: "qsh", Reason: "qsh mismatch: expected a for POST&/&, got \x1b[1mbold"})
	want := "09:30:15  jira:issue_updated\uFFFD  PRJ-1\uFFFD  Mallory\uFFFD]0;owned\uFFFD  webhooks 1,2\uFFFD  id id\uFFFD[2J\uFFFDnext  retry 1  ✓ verified (acme)\n" +
		"09:30:15  POST /  id " + strings.Repeat("x", maxField) + "…  ✗ 401 qsh mismatch: expected a for POST&/&, got \uFFFD[1mbold\n"
	if out.String() != want {
		t.Errorf("stdout:\n%q\nwant:\n%q", out, want)
	}
}

func TestRenderStopsAfterSummary(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ios.Out, ios.ErrOut = out, errOut
	ios.SetStderrTTY(true)
	r := NewRenderer(ios, RenderOptions{JSON: true})
	r.Event(&listen.Delivery{Time: at, Method: "POST", RequestURI: "/hook?x=1", Body: []byte(`{"a":1}`), Verified: true})
	r.Summary(listen.Stats{Requests: 9, Delivered: 1, Duplicates: 2, Rejected: 1, Invalid: 3, Forwarded: 1, ForwardFailed: 0, Errors: 1}, 90*time.Second+400*time.Millisecond)
	r.Event(&listen.Delivery{Time: at, Body: []byte(`{"a":2}`), Verified: true})
	r.Event(&listen.Error{Time: at, Err: errors.New("late")})
	if out.String() != "{\"a\":1}\n" {
		t.Errorf("stdout %q", out)
	}
	want := "\nStopped after 1m30s: 1 delivery, 2 duplicates, 1 rejected, 3 invalid requests, 1 forwarded (0 failed), 1 error\n"
	if errOut.String() != want {
		t.Errorf("stderr %q\nwant   %q", errOut, want)
	}
}

func TestPayloadLine(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:            "{\"a\":1}\n",
		` { "a" : [1, 2] } `: " { \"a\" : [1, 2] } \n",
		"{\n\t\"a\": \"x\\ny\",\r\n\"b\": 2\n}\n": "{\"a\":\"x\\ny\",\"b\":2}\n",
		"not\njson": "not json\n",
	} {
		if got := string(payloadLine([]byte(in))); got != want {
			t.Errorf("payloadLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got := string(appendPretty([]byte("head\n"), []byte(`{"a":[1,{"b":"\u00e9"}]}`))); got != "head\n  {\n    \"a\": [\n      1,\n      {\n        \"b\": \"\\u00e9\"\n      }\n    ]\n  }\n" {
		t.Errorf("appendPretty: %q", got)
	}
	if got := string(appendPretty([]byte("head\n"), []byte("not {json"))); got != "head\n  not {json\n" {
		t.Errorf("appendPretty of invalid JSON: %q", got)
	}
}

// BenchmarkRender measures printing one delivery, as a person sees it and
// with --json.
func BenchmarkRender(b *testing.B) {
	d := &listen.Delivery{Time: at, Method: http.MethodPost, RequestURI: "/", Body: payload("PRJ-1"), Identifier: "c2b8e7d0-6b1a-4f7e-9d55-0f1f2c3d4e5f",
		Verified: true, Tenant: "acme", Meta: listen.Meta{Event: "jira:issue_updated", IssueKey: "PRJ-1", User: "Alice Smith", MatchedWebhookIDs: []string{"1000", "1001"}}}
	for _, opts := range []struct {
		name string
		RenderOptions
	}{{"pretty", RenderOptions{}}, {"json", RenderOptions{JSON: true}}} {
		b.Run(opts.name, func(b *testing.B) {
			ios, _, _, _ := iostreams.Test()
			ios.Out, ios.ErrOut = discard{}, discard{}
			r := NewRenderer(ios, opts.RenderOptions)
			b.ReportAllocs()
			for b.Loop() {
				r.Event(d)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestRenderJSONForwarded(t *testing.T) {
	r, out, errOut := newTestRenderer(RenderOptions{JSON: true})
	r.Event(&listen.Delivery{Time: at, Method: "POST", RequestURI: "/", Body: []byte(`{"webhookEvent":"x"}`), Identifier: "j1",
		Verified: true, Tenant: "acme", ForwardTo: "http://localhost:3000/", Meta: listen.Meta{Event: "x"}})
	r.Event(&listen.Forwarded{Time: at, Identifier: "j1", URL: "http://localhost:3000/", Status: 200, Answered: 200, Latency: time.Millisecond})
	if out.String() != "{\"webhookEvent\":\"x\"}\n" {
		t.Errorf("stdout %q", out)
	}
	want := "09:30:15  --> POST http://localhost:3000/  id j1\n09:30:15  <-- 200 OK  1.0ms  id j1\n"
	if errOut.String() != want {
		t.Errorf("stderr %q\nwant   %q", errOut, want)
	}
}
