package listen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jwh-cli/jwh/internal/jsonscan"
)

// RecordVersion is the "v" of the records this package writes. A reader
// refuses records of a later version, whose fields it may misread.
const RecordVersion = 1

// The verdicts of a Record.
const (
	VerdictVerified   = "verified"   // the JWT passed every check
	VerdictUnverified = "unverified" // accepted without a check (NoVerify)
	VerdictRefused    = "refused"    // answered with an error status by a check
)

// Tenant kinds of a Record: how the tenant that verified a delivery signs.
const (
	KindConnect = "connect" // a Connect JWT signed with the shared secret
	KindOAuth   = "oauth"   // a Bearer JWT signed with the OAuth app's client secret
)

// CheckRead is the Check of a request whose body could not be read to its
// end (the sender hung up or was too slow): it is answered 400.
const CheckRead = "read"

// HeaderReplayOf is the header by which a replay names the Seq of the
// record it re-sends, when it is sent to the very listener that wrote
// that record (the inspector's Replay button); the listener copies it to
// the new record's ReplayOf.
const HeaderReplayOf = "X-Jwh-Replay-Of"

// A Record is what the listener keeps of one request it answered: the
// request as received (the Authorization header replaced by the token's
// header and claims, never its signature), what the listener decided and
// what it answered. jwh listen --save writes one per line (AppendLine);
// the inspector shows the same lines; jwh history and jwh replay read
// them back (ParseLine). docs/scripting.md describes the format as a
// stable contract.
//
// A Record that the listener passes to Config.OnRecord refers to the
// request's own header map and body and is reused once OnRecord returns:
// keep its line (AppendLine), not the Record.
type Record struct {
	Seq      int64     // per listener run, 1-based
	Received time.Time // when the request arrived
	Remote   string    // the sender's address (a tunnel's, usually)
	Method   string
	// Path is the request URI as received, path and query, with the
	// value of a jwt query parameter (a token) redacted.
	Path string
	Host string // the Host header
	// Listener is the base URL the listener received the request on,
	// "http://127.0.0.1:8080": with Path, where a replay goes by default.
	Listener string
	// Header holds the request's headers. AppendLine leaves out
	// Authorization, Proxy-Authorization and Cookie: a parsed Record
	// never has them.
	Header http.Header
	// Authorization is what the Authorization header (or a jwt query
	// parameter) held: the token's decoded header and claims. Nil when
	// the request had none.
	Authorization *Authorization
	// Body is the body as received, nil when it was not read (a request
	// refused on its headers).
	Body []byte

	Tenant     string // the tenant whose secret verified the request, or ""
	Kind       string // KindConnect, KindOAuth, or "" without a tenant
	Verdict    string // VerdictVerified, VerdictUnverified or VerdictRefused
	Check      string // for a refusal: the check that failed (see Rejected.Check)
	Reason     string // for a refusal: why, in full; for an injected answer, what injected it
	Identifier string // X-Atlassian-Webhook-Identifier
	Retry      int    // X-Atlassian-Webhook-Retry
	Duplicate  bool   // a retry of a delivery already accepted
	Status     int    // what the listener answered
	// Injected reports that Status was chosen by Config.Respond (jwh
	// listen --respond), not by the delivery's handling.
	Injected bool
	// ForwardedTo is where the delivery was forwarded (--forward-to),
	// with a jwt query parameter redacted as in Path, or "".
	ForwardedTo string
	Event       string // the body's webhookEvent
	Issue       string // the body's issue.key
	// ReplayOf is the Seq of the record this request replays, when the
	// replay said so (HeaderReplayOf); 0 otherwise.
	ReplayOf int64

	// rawAuth is the Authorization header or jwt query parameter of a
	// Record built by the listener, decoded only by AppendLine.
	rawAuth string
	// bodyJSON reports that Body is known to be valid JSON (the listener
	// checked it), so that AppendLine need not check it again.
	bodyJSON bool
}

// Authorization is what a Record keeps of a request's token.
type Authorization struct {
	// Scheme is the Authorization header's scheme ("JWT", "Bearer"), or
	// "JWT" for a jwt query parameter.
	Scheme string `json:"scheme"`
	// Header and Claims are the JWT's header and claims, as JSON objects.
	Header json.RawMessage `json:"header,omitempty"`
	Claims json.RawMessage `json:"claims,omitempty"`
	// Error says why the token could not be decoded ("not a JWT"); then
	// Header and Claims are empty.
	Error string `json:"error,omitempty"`
}

// notAJWT is the Authorization.Error of a token that does not decode.
const notAJWT = "not a JWT"

// hiddenHeaders are the headers a record never holds: credentials.
var hiddenHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

func hiddenHeader(name string) bool {
	for _, h := range hiddenHeaders {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// recordTimeLayout is how Received is written: RFC 3339 in UTC with
// microseconds.
const recordTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// AppendLine appends the record to dst as one line of JSON, without a new
// line, and returns the extended buffer. Nothing in the line is a raw new
// line, so a file of records is one record per line.
//
// The body is written verbatim as "body" when it is valid JSON in UTF-8
// without a raw new line or surrounding white space, so that reading the
// line back gives its exact bytes; otherwise it is "bodyText", a JSON
// string, when it is valid UTF-8, or else "bodyBase64". AppendLine
// allocates nothing beyond dst's growth.
func (r *Record) AppendLine(dst []byte) []byte {
	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, RecordVersion, 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, r.Seq, 10)
	dst = append(dst, `,"received":"`...)
	dst = r.Received.UTC().AppendFormat(dst, recordTimeLayout)
	dst = append(dst, '"')
	dst = appendField(dst, "remote", r.Remote)
	dst = appendField(dst, "method", r.Method)
	dst = appendField(dst, "path", r.Path)
	dst = appendField(dst, "host", r.Host)
	dst = appendField(dst, "listener", r.Listener)
	dst = append(dst, `,"headers":`...)
	dst = appendHeader(dst, r.Header)
	switch {
	case r.Authorization != nil:
		dst = append(dst, `,"authorization":`...)
		dst = r.Authorization.appendJSON(dst)
	case r.rawAuth != "":
		dst = append(dst, `,"authorization":`...)
		dst = appendRawAuth(dst, r.rawAuth)
	}
	dst = appendBody(dst, r.Body, r.bodyJSON)
	dst = appendField(dst, "tenant", r.Tenant)
	dst = appendField(dst, "kind", r.Kind)
	dst = appendField(dst, "verdict", r.Verdict)
	dst = appendField(dst, "check", r.Check)
	dst = appendField(dst, "reason", r.Reason)
	dst = appendField(dst, "identifier", r.Identifier)
	dst = append(dst, `,"retry":`...)
	dst = strconv.AppendInt(dst, int64(r.Retry), 10)
	dst = append(dst, `,"duplicate":`...)
	dst = strconv.AppendBool(dst, r.Duplicate)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	if r.Injected {
		dst = append(dst, `,"injected":true`...)
	}
	if r.ForwardedTo != "" {
		dst = appendField(dst, "forwardedTo", r.ForwardedTo)
	}
	dst = appendField(dst, "event", r.Event)
	dst = appendField(dst, "issue", r.Issue)
	if r.ReplayOf > 0 {
		dst = append(dst, `,"replayOf":`...)
		dst = strconv.AppendInt(dst, r.ReplayOf, 10)
	}
	return append(dst, '}')
}

// MarshalJSON returns the record's line. encoding/json re-encodes what it
// is given (escaping <, > and & in strings, indenting), so a body inside
// it is equivalent but not always byte for byte the same: write
// AppendLine's bytes where the exact body matters.
func (r *Record) MarshalJSON() ([]byte, error) { return r.AppendLine(nil), nil }

// UnmarshalJSON reads a record as ParseLine does.
func (r *Record) UnmarshalJSON(data []byte) error {
	rec, err := ParseLine(data)
	if err != nil {
		return err
	}
	*r = *rec
	return nil
}

// recordJSON is a record line as decoded by ParseLine.
type recordJSON struct {
	V             *int            `json:"v"`
	Seq           int64           `json:"seq"`
	Received      string          `json:"received"`
	Remote        string          `json:"remote"`
	Method        string          `json:"method"`
	Path          string          `json:"path"`
	Host          string          `json:"host"`
	Listener      string          `json:"listener"`
	Headers       http.Header     `json:"headers"`
	Authorization *Authorization  `json:"authorization"`
	Body          json.RawMessage `json:"body"`
	BodyText      *string         `json:"bodyText"`
	BodyBase64    *string         `json:"bodyBase64"`
	Tenant        string          `json:"tenant"`
	Kind          string          `json:"kind"`
	Verdict       string          `json:"verdict"`
	Check         string          `json:"check"`
	Reason        string          `json:"reason"`
	Identifier    string          `json:"identifier"`
	Retry         int             `json:"retry"`
	Duplicate     bool            `json:"duplicate"`
	Status        int             `json:"status"`
	Injected      bool            `json:"injected"`
	ForwardedTo   string          `json:"forwardedTo"`
	Event         string          `json:"event"`
	Issue         string          `json:"issue"`
	ReplayOf      int64           `json:"replayOf"`
}

// ParseLine reads one record line (with or without its new line), as
// AppendLine writes it. The body comes back byte for byte. A line that is
// not a record of a version this package knows is an error.
func ParseLine(line []byte) (*Record, error) {
	var j recordJSON
	if err := json.Unmarshal(line, &j); err != nil {
		return nil, fmt.Errorf("not a record: %w", err)
	}
	switch {
	case j.V == nil:
		return nil, errors.New("not a record: no \"v\"")
	case *j.V > RecordVersion:
		return nil, fmt.Errorf("a record of version %d, newer than this jwh reads (%d): upgrade jwh", *j.V, RecordVersion)
	case *j.V < 1:
		return nil, fmt.Errorf("not a record: version %d", *j.V)
	}
	received, err := time.Parse(time.RFC3339Nano, j.Received)
	if err != nil {
		return nil, fmt.Errorf("not a record: received %q is not an RFC 3339 time", j.Received)
	}
	r := &Record{
		Seq: j.Seq, Received: received, Remote: j.Remote, Method: j.Method, Path: j.Path,
		Host: j.Host, Listener: j.Listener, Header: j.Headers, Authorization: j.Authorization,
		Tenant: j.Tenant, Kind: j.Kind, Verdict: j.Verdict, Check: j.Check, Reason: j.Reason,
		Identifier: j.Identifier, Retry: j.Retry, Duplicate: j.Duplicate, Status: j.Status,
		Injected: j.Injected, ForwardedTo: j.ForwardedTo, Event: j.Event, Issue: j.Issue, ReplayOf: j.ReplayOf,
	}
	switch {
	case j.Body != nil:
		r.Body = []byte(j.Body)
	case j.BodyText != nil:
		r.Body = []byte(*j.BodyText)
	case j.BodyBase64 != nil:
		if r.Body, err = base64.StdEncoding.DecodeString(*j.BodyBase64); err != nil {
			return nil, fmt.Errorf("not a record: bodyBase64: %w", err)
		}
	}
	for _, h := range hiddenHeaders {
		delete(r.Header, h)
	}
	return r, nil
}

// appendField appends ,"name":"value".
func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendString(dst, value)
}

// appendHeader appends h as a JSON object, names sorted, without the
// hidden headers.
func appendHeader(dst []byte, h http.Header) []byte {
	var buf [32]string // on the stack for the usual number of headers
	names := buf[:0]
	for name := range h {
		if !hiddenHeader(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	dst = append(dst, '{')
	for i, name := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, name)
		dst = append(dst, ':', '[')
		for j, v := range h[name] {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, v)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendBody appends the body's member, if any (see AppendLine); isJSON
// reports that body is known to be valid JSON.
func appendBody(dst, body []byte, isJSON bool) []byte {
	switch {
	case body == nil:
		return dst
	case isJSON && verbatim(body), verbatimJSON(body):
		dst = append(dst, `,"body":`...)
		return append(dst, body...)
	case utf8.Valid(body):
		dst = append(dst, `,"bodyText":`...)
		// A copy, for a body that is rare: pretty-printed JSON.
		return appendString(dst, string(body))
	}
	dst = append(dst, `,"bodyBase64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, body)
	return append(dst, '"')
}

// verbatimJSON reports whether body can be written into a line as it is
// and read back unchanged: valid JSON, valid UTF-8, no raw new line (it
// would split the line), no white space around it (a decoder drops it).
func verbatimJSON(body []byte) bool {
	return verbatim(body) && jsonscan.Valid(body)
}

// verbatim is verbatimJSON for a body known to be valid JSON.
func verbatim(body []byte) bool {
	if len(body) == 0 || isSpace(body[0]) || isSpace(body[len(body)-1]) {
		return false
	}
	return bytes.IndexByte(body, '\n') < 0 && bytes.IndexByte(body, '\r') < 0 && utf8.Valid(body)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// appendJSON appends a as the record's "authorization" object.
func (a *Authorization) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"scheme":`...)
	dst = appendString(dst, a.Scheme)
	if len(a.Header) > 0 && len(a.Claims) > 0 {
		start := len(dst)
		dst = append(dst, `,"header":`...)
		var ok bool
		if dst, ok = appendObject(dst, a.Header); ok {
			dst = append(dst, `,"claims":`...)
			dst, ok = appendObject(dst, a.Claims)
		}
		if !ok {
			dst = dst[:start]
		}
	}
	if a.Error != "" {
		dst = appendField(dst, "error", a.Error)
	}
	return append(dst, '}')
}

// appendRawAuth appends the "authorization" object of an Authorization
// header's value (or a jwt query parameter's, which has no scheme): its
// scheme and the token's decoded header and claims, never the signature.
// Decoding goes straight into dst.
func appendRawAuth(dst []byte, value string) []byte {
	scheme, token, ok := strings.Cut(strings.TrimSpace(value), " ")
	if !ok {
		scheme, token = "JWT", scheme // a jwt query parameter
	}
	token = strings.TrimSpace(token)
	dst = append(dst, `{"scheme":`...)
	if !plausibleScheme(scheme) {
		// Not a scheme but perhaps a credential: keep nothing of it.
		scheme = ""
	}
	dst = appendString(dst, scheme)
	start := len(dst)
	head, rest, ok1 := strings.Cut(token, ".")
	claims, _, ok2 := strings.Cut(rest, ".")
	if ok1 && ok2 {
		dst = append(dst, `,"header":`...)
		var ok bool
		if dst, ok = appendSegment(dst, head); ok {
			dst = append(dst, `,"claims":`...)
			if dst, ok = appendSegment(dst, claims); ok {
				return append(dst, '}')
			}
		}
	}
	dst = append(dst[:start], `,"error":"`+notAJWT+`"}`...)
	return dst
}

// authorizationOf returns what a Record keeps of r's token (its
// Authorization header, or a jwt query parameter): the scheme and the
// token's decoded header and claims; nil when r has none.
func authorizationOf(r *http.Request) *Authorization {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		raw = queryToken(r)
	}
	if raw == "" {
		return nil
	}
	var a Authorization
	if err := json.Unmarshal(appendRawAuth(nil, raw), &a); err != nil {
		return &Authorization{Error: notAJWT}
	}
	return &a
}

// plausibleScheme reports whether s looks like an authentication scheme
// (a short token of letters, digits and dashes) rather than a credential.
func plausibleScheme(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// appendSegment appends a JWT segment, base64url-decoded, when it is a
// JSON object; ok is false (and dst unchanged) otherwise.
func appendSegment(dst []byte, seg string) ([]byte, bool) {
	start := len(dst)
	dst, err := base64.RawURLEncoding.AppendDecode(dst, []byte(seg))
	if err != nil {
		return dst[:start], false
	}
	obj := dst[start:]
	if verbatimJSON(obj) && obj[0] == '{' {
		return dst, true
	}
	// An object with new lines or invalid UTF-8 in it: compact it
	// through a copy, rare enough not to matter.
	cp := bytes.Clone(obj)
	dst, ok := appendObject(dst[:start], cp)
	return dst, ok
}

// appendObject appends obj, a JSON object, made one line (json.Compact),
// with invalid UTF-8 replaced; ok is false (and dst unchanged) when obj
// is not a JSON object.
func appendObject(dst, obj []byte) ([]byte, bool) {
	obj = bytes.TrimSpace(obj)
	if len(obj) == 0 || obj[0] != '{' {
		return dst, false
	}
	if verbatimJSON(obj) {
		return append(dst, obj...), true
	}
	if !utf8.Valid(obj) {
		obj = bytes.ToValidUTF8(obj, []byte("\uFFFD"))
	}
	b := bytes.NewBuffer(dst)
	if err := json.Compact(b, obj); err != nil {
		return dst, false
	}
	return b.Bytes(), true
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD
// (as encoding/json does); control characters and U+2028, U+2029 (line
// breaks to JavaScript) are escaped; nothing else is, so a valid UTF-8
// string reads back unchanged.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// recordPool holds the Records of requests being handled: building one
// allocates nothing but the first time.
var recordPool = sync.Pool{New: func() any { return new(Record) }}

// newRecord starts the record of request r, received at now, with what
// its request line and headers say; uri is its request URI, redacted.
func (s *Server) newRecord(r *http.Request, uri string, now time.Time, id string, retry int) *Record {
	rec := recordPool.Get().(*Record)
	*rec = Record{
		Seq: s.seq.Add(1), Received: now, Remote: r.RemoteAddr, Method: r.Method,
		Path: uri, Host: r.Host, Listener: s.base, Header: r.Header,
		Identifier: id, Retry: retry,
	}
	if rec.Listener == "" {
		// ServeHTTP called without Serve, by a test or another server.
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			rec.Listener = "http://" + a.String()
		}
	}
	rec.rawAuth = r.Header.Get("Authorization")
	if rec.rawAuth == "" {
		rec.rawAuth = queryToken(r)
	}
	if v := r.Header.Get(HeaderReplayOf); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			rec.ReplayOf = n
		}
	}
	return rec
}

// putRecord returns rec to the pool, holding on to nothing of its request.
func putRecord(rec *Record) {
	*rec = Record{}
	recordPool.Put(rec)
}

// redactedJWT replaces the value of a jwt query parameter in what the
// listener records and reports: it is a token, which neither ever holds.
const redactedJWT = "redacted"

// queryToken returns the jwt query parameter of r (a token, as
// connectjwt.FromRequest reads it), or "" when it has none.
func queryToken(r *http.Request) string {
	if !mayHoldJWT(r.URL.RawQuery) {
		return ""
	}
	return r.URL.Query().Get("jwt")
}

// mayHoldJWT reports whether a raw query may have a jwt parameter: named
// plainly, or with percent-escapes, which url.Values decodes.
func mayHoldJWT(rawQuery string) bool {
	return strings.Contains(rawQuery, "jwt") || strings.Contains(rawQuery, "%")
}

// redactJWT returns uri, a request URI or a URL, with each jwt query
// parameter written "jwt=redacted". A name is compared decoded, as
// url.Values (and so connectjwt.FromRequest) reads it: "%6Awt" is jwt too.
func redactJWT(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok || !mayHoldJWT(query) {
		return uri
	}
	params := strings.Split(query, "&")
	changed := false
	for i, p := range params {
		name, _, _ := strings.Cut(p, "=")
		if name != "jwt" {
			if n, err := url.QueryUnescape(name); err != nil || n != "jwt" {
				continue
			}
		}
		params[i] = "jwt=" + redactedJWT
		changed = true
	}
	if !changed {
		return uri
	}
	return path + "?" + strings.Join(params, "&")
}
