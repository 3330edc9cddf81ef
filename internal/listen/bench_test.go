package listen

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// BenchmarkServeHTTP measures the handler alone on a valid delivery:
// limits, JWT verification, the body read and checked as a JSON object,
// de-duplication and the event, without a socket.
//
//	go test -run '^$' -bench ServeHTTP -benchmem ./internal/listen
func BenchmarkServeHTTP(b *testing.B) {
	benchServeHTTP(b, nil)
}

// BenchmarkServeHTTPRecord is BenchmarkServeHTTP with a record of each
// request written into a reused buffer (the work --save adds to a
// handler, but the write to the file): what records cost in time and
// allocations.
//
//	go test -run '^$' -bench 'ServeHTTP' -benchmem ./internal/listen
func BenchmarkServeHTTPRecord(b *testing.B) {
	buf := make([]byte, 0, 8<<10)
	benchServeHTTP(b, func(r *Record) { buf = r.AppendLine(buf[:0]) })
}

// benchServeHTTPOnce has the handler answer one delivery, with onRecord.
func benchServeHTTPOnce(b *testing.B, onRecord func(*Record)) {
	s, req, _ := benchServer(b, onRecord)
	req.Header[HeaderIdentifier] = []string{"bench-once"}
	w := &discardWriter{h: http.Header{}}
	s.ServeHTTP(w, req)
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
}

// benchServer is a Server with onRecord, and a delivery for it whose body
// reader is rd.
func benchServer(b *testing.B, onRecord func(*Record)) (*Server, *http.Request, *bytes.Reader) {
	s, err := New(Config{Path: "/hook", Secrets: testTenants(b), Leeway: DefaultLeeway, OnEvent: func(Event) {}, OnRecord: onRecord})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse("/hook")
	tok, err := jiraSigner("/").WithTTL(time.Hour).Sign(http.MethodPost, u)
	if err != nil {
		b.Fatal(err)
	}
	body := samplePayload("PRJ-1")
	rd := bytes.NewReader(body)
	req := &http.Request{
		Method: http.MethodPost, URL: u, RequestURI: "/hook", Host: "127.0.0.1",
		ContentLength: int64(len(body)), Body: io.NopCloser(rd),
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"JWT " + tok}},
	}
	return s, req, rd
}

func benchServeHTTP(b *testing.B, onRecord func(*Record)) {
	s, req, rd := benchServer(b, onRecord)
	body := samplePayload("PRJ-1")
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "bench-" + strconv.Itoa(i)
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rd.Reset(body)
		req.Header[HeaderIdentifier] = []string{ids[i]}
		s.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkAppendLine measures writing the record of a delivery as the
// listener passes it to OnRecord: what --save and --inspect add to each
// delivery, but the write.
//
//	go test -run '^$' -bench AppendLine -benchmem ./internal/listen
func BenchmarkAppendLine(b *testing.B) {
	var rec Record
	benchServeHTTPOnce(b, func(r *Record) { rec = *r; rec.Header = r.Header.Clone(); rec.Body = bytes.Clone(r.Body) })
	buf := make([]byte, 0, 8<<10)
	b.ReportAllocs()
	for b.Loop() {
		buf = rec.AppendLine(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkServeHTTPBearer is BenchmarkServeHTTP for the delivery of an
// OAuth 2.0 app: a Bearer JWT, verified with the client secret of the
// tenant its aud names (the second of two OAuth tenants by name).
//
//	go test -run '^$' -bench ServeHTTPBearer -benchmem ./internal/listen
func BenchmarkServeHTTPBearer(b *testing.B) {
	s, req, rd := benchServer(b, nil)
	s.cfg.OAuth = oauthTenants(b)
	tok := bearerJWT(b, jwt.SigningMethodHS256, workSecret, bearerClaimsAt(workClientID, time.Now()))
	req.Header["Authorization"] = []string{"Bearer " + tok}
	body := samplePayload("PRJ-1")
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "bench-" + strconv.Itoa(i)
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rd.Reset(body)
		req.Header[HeaderIdentifier] = []string{ids[i]}
		s.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}
