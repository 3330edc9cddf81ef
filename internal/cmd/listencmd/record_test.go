package listencmd

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/listen"
)

// TestRecordLine: the line of a record keeps the body's bytes as received
// when they are JSON on one line, and otherwise as text or base64, so the
// line stays one line and the body can be read back exactly.
func TestRecordLine(t *testing.T) {
	var lines []string
	w := newRecordWriter(func(line []byte) { lines = append(lines, string(line)) })
	w.event(&listen.Ready{URL: "http://127.0.0.1:8080/hook"})
	at := time.Date(2026, 12, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	for _, body := range [][]byte{
		[]byte(`{"a":"<&>\u00e9","n":1.50}`),
		[]byte("{\n  \"pretty\": true\n}"),
		{0xff, 0xfe, '{'},
	} {
		w.event(&listen.Delivery{Time: at, Method: "POST", RequestURI: "/hook", Body: body, Verified: true, Tenant: "acme",
			Request: listen.Request{RemoteAddr: "127.0.0.1:5000", Host: "x.example", Header: http.Header{
				"Authorization": {"JWT not.a.jwt"}, "Cookie": {"c=1"}, "Content-Type": {"application/json"}}}})
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, line := range lines {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d spans lines: %q", i, line)
		}
		var rec map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if string(rec["received"]) != `"2026-12-02T02:04:05.123456Z"` || string(rec["listener"]) != `"http://127.0.0.1:8080"` ||
			string(rec["seq"]) != string(rune('1'+i)) || string(rec["verdict"]) != `"verified"` {
			t.Errorf("line %d: %s", i, line)
		}
		if strings.Contains(line, "Cookie") || strings.Contains(line, "not.a.jwt") || !strings.Contains(line, `"authorization":{"scheme":"JWT","error":"not a JWT"}`) {
			t.Errorf("line %d: headers and authorization: %s", i, line)
		}
	}
	if !strings.HasSuffix(lines[0], `,"body":{"a":"<&>\u00e9","n":1.50}}`) {
		t.Errorf("a one-line JSON body is not kept verbatim: %s", lines[0])
	}
	var rec struct {
		BodyText   *string
		BodyBase64 *string
	}
	json.Unmarshal([]byte(lines[1]), &rec)
	if rec.BodyText == nil || *rec.BodyText != "{\n  \"pretty\": true\n}" {
		t.Errorf("a pretty JSON body: %s", lines[1])
	}
	rec.BodyText = nil
	json.Unmarshal([]byte(lines[2]), &rec)
	if rec.BodyBase64 == nil || *rec.BodyBase64 != base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, '{'}) || rec.BodyText != nil {
		t.Errorf("a binary body: %s", lines[2])
	}
}

func TestDecodeAuthorization(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct{ in, want string }{
		{"", "null"},
		{"JWT " + enc(`{"alg":"HS256","typ":"JWT"}`) + "." + enc("{\n \"iss\": \"k\", \"exp\": 2}") + ".c2lnbmF0dXJl",
			`{"scheme":"JWT","header":{"alg":"HS256","typ":"JWT"},"claims":{"iss":"k","exp":2}}`},
		{"Bearer " + enc(`{"alg":"HS256"}`) + "." + enc(`{"sub":"u"}`) + ".", `{"scheme":"Bearer","header":{"alg":"HS256"},"claims":{"sub":"u"}}`},
		{"JWT abc", `{"scheme":"JWT","error":"not a JWT"}`},
		{"JWT " + enc(`[1]`) + "." + enc(`{}`) + ".x", `{"scheme":"JWT","error":"not a JWT"}`},
		{"JWT " + enc(`{"alg":`) + "." + enc(`{}`) + ".x", `{"scheme":"JWT","error":"not a JWT"}`},
		{"Basic dXNlcjpwYXNz", `{"scheme":"Basic","error":"not a JWT"}`},
	} {
		b, _ := json.Marshal(decodeAuthorization(tt.in))
		if string(b) != tt.want {
			t.Errorf("decodeAuthorization(%.40q) = %s, want %s", tt.in, b, tt.want)
		}
	}
}
