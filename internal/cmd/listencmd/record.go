package listencmd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jwh-cli/jwh/internal/listen"
)

// recordWriter turns the listener's events into records, the JSON objects
// of docs/listen.md (one per answered request: time, remote address,
// request, headers with the Authorization header replaced by the token's
// header and claims, body, verdict, identifier, retry, duplicate, status),
// and hands each, as one line, to add: the inspector's Add. It is the
// command's stand-in for the record that package listen makes itself
// once jwh listen --save exists; the format is the same.
type recordWriter struct {
	add      func(line []byte)
	seq      atomic.Int64
	listener atomic.Pointer[string] // http://HOST:PORT, from *listen.Ready

	mu sync.Mutex
	// forwarded are the records of deliveries being forwarded, by
	// identifier: their status is the app's, known at *listen.Forwarded.
	forwarded map[string]*record
}

func newRecordWriter(add func(line []byte)) *recordWriter {
	return &recordWriter{add: add, forwarded: make(map[string]*record)}
}

// record is one answered request. Body is not marshalled with the rest:
// it is written verbatim (see line).
type record struct {
	V             int            `json:"v"`
	Seq           int64          `json:"seq"`
	Received      string         `json:"received"`
	Remote        string         `json:"remote,omitempty"`
	Method        string         `json:"method,omitempty"`
	Path          string         `json:"path,omitempty"`
	Host          string         `json:"host,omitempty"`
	Listener      string         `json:"listener,omitempty"`
	Headers       http.Header    `json:"headers,omitempty"`
	Authorization *authorization `json:"authorization,omitempty"`
	BodyText      *string        `json:"bodyText,omitempty"`
	BodyBase64    *string        `json:"bodyBase64,omitempty"`
	Tenant        string         `json:"tenant"`
	Kind          string         `json:"kind"`
	Verdict       string         `json:"verdict"`
	Check         string         `json:"check"`
	Reason        string         `json:"reason"`
	Identifier    string         `json:"identifier"`
	Retry         int            `json:"retry"`
	Duplicate     bool           `json:"duplicate"`
	Status        int            `json:"status"`
	Event         string         `json:"event,omitempty"`
	Issue         string         `json:"issue,omitempty"`

	body []byte // valid JSON without a raw line break: written as "body"
}

// authorization stands for the Authorization header in a record: the
// token's header and claims, never its signature.
type authorization struct {
	Scheme string          `json:"scheme"`
	Header json.RawMessage `json:"header,omitempty"`
	Claims json.RawMessage `json:"claims,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// event makes the record of e, if e answers a request, and hands it on.
func (w *recordWriter) event(e listen.Event) {
	switch e := e.(type) {
	case *listen.Ready:
		if u, err := url.Parse(e.URL); err == nil {
			l := u.Scheme + "://" + u.Host
			w.listener.Store(&l)
		}
	case *listen.Delivery:
		r := w.newRecord(e.Request, e.Method, e.RequestURI)
		r.Received = stamp(e.Time)
		r.setBody(e.Body)
		r.verdict(e.Verified, e.Tenant)
		r.Identifier, r.Retry = e.Identifier, e.Retry
		r.Event, r.Issue = e.Meta.Event, e.Meta.IssueKey
		r.Status = http.StatusOK
		if e.ForwardTo != "" && e.Identifier != "" {
			w.mu.Lock()
			w.forwarded[e.Identifier] = r
			w.mu.Unlock()
			return
		}
		w.write(r)
	case *listen.Forwarded:
		w.mu.Lock()
		r := w.forwarded[e.Identifier]
		delete(w.forwarded, e.Identifier)
		w.mu.Unlock()
		if r != nil {
			r.Status = e.Answered
			w.write(r)
		}
	case *listen.Duplicate:
		r := w.newRecord(e.Request, e.Method, e.RequestURI)
		r.Received = stamp(e.Time)
		r.setBody(e.Body)
		r.verdict(e.Verified, e.Tenant)
		r.Identifier, r.Retry, r.Duplicate = e.Identifier, e.Retry, true
		r.Event, r.Issue = e.Meta.Event, e.Meta.IssueKey
		r.Status = http.StatusOK
		w.write(r)
	case *listen.Rejected:
		r := w.newRecord(e.Request, e.Method, e.RequestURI)
		r.Received = stamp(e.Time)
		r.Verdict, r.Check, r.Reason = "refused", e.Check, e.Reason
		r.Identifier, r.Retry = e.Identifier, e.Retry
		r.Status = e.Status
		w.write(r)
	}
}

func (w *recordWriter) newRecord(req listen.Request, method, uri string) *record {
	r := &record{
		V: 1, Seq: w.seq.Add(1),
		Remote: req.RemoteAddr, Method: method, Path: uri, Host: req.Host,
		Headers:       recordHeaders(req.Header),
		Authorization: decodeAuthorization(req.Header.Get("Authorization")),
	}
	if l := w.listener.Load(); l != nil {
		r.Listener = *l
	}
	return r
}

func (r *record) verdict(verified bool, tenant string) {
	if !verified {
		r.Verdict = "unverified"
		return
	}
	r.Verdict, r.Tenant, r.Kind = "verified", tenant, "connect"
}

// setBody keeps body as "body" when it is JSON on one line, else as text,
// else in base64.
func (r *record) setBody(body []byte) {
	switch {
	case len(body) == 0:
	case json.Valid(body) && !bytes.ContainsAny(body, "\r\n"):
		r.body = body
	case utf8.Valid(body):
		s := string(body)
		r.BodyText = &s
	default:
		s := base64.StdEncoding.EncodeToString(body)
		r.BodyBase64 = &s
	}
}

// write hands r on as one line, its body verbatim: re-encoding would
// change the bytes that were signed and that a replay sends again.
func (w *recordWriter) write(r *record) {
	line, err := json.Marshal(r)
	if err != nil {
		return // a record of strings and numbers always marshals
	}
	if r.body != nil {
		line = append(line[:len(line)-1], `,"body":`...)
		line = append(line, r.body...)
		line = append(line, '}')
	}
	w.add(line)
}

// recordHeaders are the request's headers but Authorization (which the
// record shows decoded, without the signature) and Cookie.
func recordHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if k == "Authorization" || k == "Cookie" {
			continue
		}
		out[k] = v
	}
	return out
}

// decodeAuthorization decodes the header and claims of the token in an
// Authorization header, without checking them: nil when there is none.
func decodeAuthorization(value string) *authorization {
	if value == "" {
		return nil
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(value), " ")
	a := &authorization{Scheme: scheme}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		a.Error = "not a JWT"
		return a
	}
	for i, dst := range []*json.RawMessage{&a.Header, &a.Claims} {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[i], "="))
		var compact bytes.Buffer
		if err != nil || json.Compact(&compact, b) != nil || compact.Len() == 0 || compact.Bytes()[0] != '{' {
			return &authorization{Scheme: scheme, Error: "not a JWT"}
		}
		*dst = compact.Bytes() // one line, in the sender's order
	}
	return a
}

// stamp is the record's time: RFC 3339, UTC, microseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }
