package transport

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DebugBodyLimit is how much of a body the debug dump shows.
const DebugBodyLimit = 16 << 10

// debugWriter serialises writes so that the blocks of concurrent exchanges
// do not interleave. A nil *debugWriter discards everything.
type debugWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (d *debugWriter) write(s string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_, _ = io.WriteString(d.w, s)
}

func (d *debugWriter) printf(format string, args ...any) {
	if d == nil {
		return
	}
	d.write(fmt.Sprintf(format, args...))
}

// debugTransport dumps every attempt: the request when it is sent, the
// response (or the error) when it is complete.
type debugTransport struct {
	w    *debugWriter
	now  func() time.Time
	next http.RoundTripper
}

func (t *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", req.Method, RedactURL(req.URL))
	writeHeaders(&b, "> ", req.Header)
	if req.Body != nil && req.Body != http.NoBody {
		data, err := peekRequestBody(req)
		if err != nil {
			closeRequestBody(req)
			return nil, fmt.Errorf("read the request body: %w", err)
		}
		if req.GetBody == nil {
			r := req.Clone(req.Context())
			r.Body = io.NopCloser(bytes.NewReader(data))
			req = r
		}
		b.WriteString(">\n")
		writeBody(&b, redactBody(req.Header.Get("Content-Type"), data))
	}
	b.WriteString("\n")
	t.w.write(b.String())

	start := t.now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.w.printf("< error after %s: %v\n\n", t.since(start), err)
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	b.Reset()
	fmt.Fprintf(&b, "< %s %s (%s)\n", resp.Proto, resp.Status, t.since(start))
	writeHeaders(&b, "< ", resp.Header)
	if len(data) > 0 {
		b.WriteString("<\n")
		writeBody(&b, redactBody(resp.Header.Get("Content-Type"), data))
	}
	if err != nil {
		fmt.Fprintf(&b, "< error reading the body: %v\n\n", err)
		t.w.write(b.String())
		return nil, err
	}
	b.WriteString("\n")
	t.w.write(b.String())
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

func (t *debugTransport) since(start time.Time) time.Duration {
	return t.now().Sub(start).Round(time.Millisecond)
}

// peekRequestBody returns the request body without consuming req.Body when
// the request can produce a copy (GetBody); otherwise it reads req.Body.
func peekRequestBody(req *http.Request) ([]byte, error) {
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

// writeHeaders writes headers sorted by name, credentials redacted.
func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, RedactHeader(k, v))
		}
	}
}

// RedactHeader returns the value of header name as the debug dump shows
// it: the credentials of Authorization and Proxy-Authorization replaced by
// "[redacted]" after their scheme ("JWT [redacted]"), and cookies replaced
// entirely.
func RedactHeader(name, value string) string {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Proxy-Authorization":
		if scheme, _, ok := strings.Cut(strings.TrimSpace(value), " "); ok {
			return scheme + " [redacted]"
		}
		return "[redacted]"
	case "Cookie", "Set-Cookie":
		return "[redacted]"
	}
	return value
}

// writeBody writes a body, truncated to DebugBodyLimit; binary bodies are
// only counted.
func writeBody(b *strings.Builder, data []byte) {
	shown := data
	if len(shown) > DebugBodyLimit {
		n := DebugBodyLimit
		for n > 0 && !utf8.RuneStart(data[n]) {
			n--
		}
		shown = data[:n]
	}
	if !utf8.Valid(shown) {
		fmt.Fprintf(b, "[%d bytes of binary data]\n", len(data))
		return
	}
	b.Write(shown)
	if !bytes.HasSuffix(shown, []byte("\n")) {
		b.WriteByte('\n')
	}
	if len(shown) < len(data) {
		fmt.Fprintf(b, "[... %d more bytes not shown]\n", len(data)-len(shown))
	}
}

// secretFields are the fields of OAuth 2.0 exchanges that carry
// credentials: the debug dump shows "[redacted]" for their values in form
// and JSON bodies, both ways, and in query strings.
var secretFields = []string{"client_secret", "code", "refresh_token", "access_token", "id_token"}

func isSecretField(name string) bool { return slices.Contains(secretFields, name) }

// secretJSON matches a member of a JSON object named like one of
// secretFields whose value is a string, up to that value. It is compiled
// on first use, not when jwh starts: only a --debug dump of a JSON body
// needs it.
var secretJSON = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`("(?:` + strings.Join(secretFields, "|") + `)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
})

// redactBody returns a body as the debug dump shows it: in a form
// (application/x-www-form-urlencoded) or a JSON body (by its content type,
// or because it starts with '{' or '['), the values of secretFields are
// replaced by "[redacted]". Everything else is left exactly as it is.
func redactBody(contentType string, data []byte) []byte {
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(data)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return redactForm(data)
	case mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['):
		return secretJSON().ReplaceAll(data, []byte(`$1"[redacted]"`))
	}
	return data
}

// redactForm replaces the values of secretFields in a form body, keeping
// everything else byte for byte.
func redactForm(data []byte) []byte {
	parts := bytes.Split(data, []byte("&"))
	for i, p := range parts {
		k, _, _ := bytes.Cut(p, []byte("="))
		name, err := url.QueryUnescape(string(k))
		if err == nil && isSecretField(strings.TrimSpace(name)) {
			parts[i] = append(append([]byte(nil), k...), "=[redacted]"...)
		}
	}
	return bytes.Join(parts, []byte("&"))
}
