// Package jira is a client for the Jira Cloud REST API as an app sees it,
// an Atlassian Connect app on its site or an OAuth 2.0 app through
// Atlassian's API gateway: a generic Do for any endpoint (jwh api) and
// typed calls for the dynamic-webhook endpoints under /rest/api/2/webhook.
// It takes an *http.Client that already authenticates requests (see
// package transport) and a tenant's base URL, parsed once by the command
// (see package urlpolicy), which may carry a context path
// (https://example.com/jira, or the gateway's /ex/jira/CLOUDID).
package jira

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/transport"
)

// MaxResponseSize is the largest response body the client reads.
const MaxResponseSize = 64 << 20

// A Client calls one tenant's REST API.
type Client struct {
	hc       *http.Client
	base     *url.URL
	authHint string
}

// NewClient returns a Client that sends requests with hc to paths under
// base, a tenant's base URL as urlpolicy.ParseBaseURL returns it: its path
// (if any) is the context path every request path is appended to. The
// client keeps a copy of base.
func NewClient(hc *http.Client, base *url.URL) *Client {
	u := *base
	return &Client{hc: hc, base: &u}
}

// WithAuthHint returns a copy of c whose errors for 401 and 403 answers
// advise hint (what to check) instead of the advice for a Connect app's
// JWT: an OAuth tenant's token is refused for other reasons.
func (c *Client) WithAuthHint(hint string) *Client {
	d := *c
	d.authHint = hint
	return &d
}

// BaseURL returns a copy of the tenant's base URL.
func (c *Client) BaseURL() *url.URL {
	u := *c.base
	return &u
}

// URL resolves ref against the base URL; see ResolveURL.
func (c *Client) URL(ref string) (*url.URL, error) { return ResolveURL(c.base, ref) }

// ResolveURL returns the URL of ref for the tenant at base.
//
// A relative ref ("/rest/api/2/webhook?startAt=0", the leading slash
// optional) is appended to base's path, so a context path is kept. An
// absolute ref must be under base: same scheme and host, and a path inside
// base's path (whole segments). Either way the query is kept exactly as
// given: parameters are neither reordered nor re-encoded; only bytes that
// cannot appear in a URL (spaces, quotes, non-ASCII, a stray '%') are
// percent-encoded.
//
// A '#' starts a fragment, in a relative ref as in an absolute one, and the
// fragment is dropped: it is never sent to a server (curl, browsers and gh
// api drop it too), so a token signed for the ref matches the request that
// curl sends for the same string. A literal '#' in a path or a query value
// must be written %23. SplitFragment tells callers whether one was dropped.
func ResolveURL(base *url.URL, ref string) (*url.URL, error) {
	if strings.ContainsFunc(ref, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, fmt.Errorf("path %q contains control characters", ref)
	}
	ref, _, _ = SplitFragment(ref)
	if strings.TrimSpace(ref) == "" {
		return nil, errors.New("empty path: give a path such as /rest/api/2/myself")
	}
	basePath := strings.TrimRight(base.EscapedPath(), "/")
	var escPath, query string
	if i := strings.Index(ref, "://"); i > 0 && !strings.ContainsAny(ref[:i], "/?") {
		abs, err := url.Parse(ref)
		if err != nil {
			return nil, fmt.Errorf("invalid URL %q: %w", ref, err)
		}
		if !strings.EqualFold(abs.Scheme, base.Scheme) || !strings.EqualFold(abs.Host, base.Host) {
			return nil, fmt.Errorf("URL %s is not under the tenant's base URL %s", transport.RedactURL(abs), base)
		}
		p, q, _ := strings.Cut(afterAuthority(ref), "?")
		escPath = escapeInvalid(p, false)
		if escPath != basePath && !strings.HasPrefix(escPath, basePath+"/") {
			return nil, fmt.Errorf("URL %s is not under the tenant's base URL %s", transport.RedactURL(abs), base)
		}
		query = q
	} else {
		p, q, _ := strings.Cut(ref, "?")
		escPath = basePath + "/" + strings.TrimLeft(escapeInvalid(p, false), "/")
		query = q
	}
	path, err := url.PathUnescape(escPath)
	if err != nil {
		return nil, fmt.Errorf("invalid path %q: %w", ref, err)
	}
	u := *base
	u.Path, u.RawPath = path, escPath
	u.RawQuery = escapeInvalid(query, true)
	u.ForceQuery, u.Fragment, u.RawFragment = false, "", ""
	return &u, nil
}

// SplitFragment splits ref at its first '#' into what is sent and the
// fragment, without the '#'; found reports whether ref had a '#'.
func SplitFragment(ref string) (sent, fragment string, found bool) {
	return strings.Cut(ref, "#")
}

// afterAuthority returns what follows scheme://host[:port] in an absolute
// URL without fragment: the path and query exactly as written.
func afterAuthority(s string) string {
	_, rest, _ := strings.Cut(s, "://")
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		return rest[i:]
	}
	return ""
}

// escapeInvalid percent-encodes the bytes that may not appear in a URL path
// (or, with query set, a query) and leaves everything else, valid escapes
// included, as it is.
func escapeInvalid(s string, query bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		case c != '%' && (isPChar(c) || c == '/' || query && c == '?'):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// isPChar reports whether c may appear unescaped in a path segment (RFC
// 3986 pchar, except pct-encoded).
func isPChar(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Response is an answer from Jira, its body read in full.
type Response struct {
	Status int
	Proto  string // e.g. "HTTP/1.1"
	Header http.Header
	Body   []byte
}

// Date returns the time on the server's clock when it answered, from the
// Date header (HTTP dates have whole seconds), and whether the answer had
// a usable one.
func (r *Response) Date() (time.Time, bool) {
	t, err := http.ParseTime(r.Header.Get("Date"))
	return t, err == nil
}

// Do sends one request to pathWithQuery (resolved with ResolveURL) with
// body, when not nil, as JSON. It returns the response whenever Jira
// answered; for a status of 400 or more the error is an *APIError
// describing it. A request that got no answer returns a nil Response and
// an error holding a *transport.Error, which says what happened and has
// the method and URL as fields.
func (c *Client) Do(ctx context.Context, method, pathWithQuery string, body []byte) (*Response, error) {
	u, err := c.URL(pathWithQuery)
	if err != nil {
		return nil, err
	}
	method = strings.ToUpper(method)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, transport.RedactURL(u), err)
	}
	// NewRequest parses the string again; keep the exact escaping.
	req.URL = u
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, requestError(method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, requestError(method, u, err)
	}
	if len(data) > MaxResponseSize {
		return nil, fmt.Errorf("%s %s: the answer is larger than %d MiB", method, transport.RedactURL(u), MaxResponseSize>>20)
	}
	r := &Response{Status: resp.StatusCode, Proto: resp.Proto, Header: resp.Header, Body: data}
	if resp.StatusCode >= 400 {
		e := newAPIError(method, transport.RedactURL(u), r)
		e.AuthHint = c.authHint
		return r, e
	}
	return r, nil
}

// requestError removes net/http's *url.Error wrapping, whose text repeats
// the URL, and makes sure the error is a *transport.Error that knows the
// request, unless the credentials could not be set
// (*transport.AuthorizeError, which says what to do in words of its own).
func requestError(method string, u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var te *transport.Error
	var ae *transport.AuthorizeError
	if errors.As(err, &te) || errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return &transport.Error{Method: method, URL: transport.RedactURL(u), Err: err}
}

// methods are the HTTP methods that Jira's REST API answers.
var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// ParseMethod returns the upper-case form of an HTTP method given in any
// case, or an error listing the methods Jira's REST API answers.
func ParseMethod(s string) (string, error) {
	m := strings.ToUpper(strings.TrimSpace(s))
	for _, want := range methods {
		if m == want {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown HTTP method %q: use one of %s", s, strings.Join(methods, ", "))
}
