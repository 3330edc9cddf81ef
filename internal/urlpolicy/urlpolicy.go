// Package urlpolicy owns jwh's rules on URLs: what a Jira base URL may be
// and its normal form, which callback URLs jwh register may send, which
// URLs a signed request may go to, what jwh listen may forward to, and
// which hosts are loopback, the only hosts that plain http may reach. Every
// package that takes or judges a URL asks this one, so that the rules
// cannot drift apart (four copies once disagreed about "localhost.").
//
// Two decisions hold for every kind of URL:
//
//   - Loopback hosts are localhost and localhost. in any case, 127.0.0.0/8,
//     ::1 and the IPv4-mapped ::ffff:127.0.0.0/104, with or without
//     brackets. Names under .localhost are not: RFC 6761 asks resolvers to
//     keep them on loopback, but Go's resolver (the one jwh dials with)
//     hands them to /etc/hosts and DNS, which may answer with any address,
//     and a signed request over plain http would then leave the machine.
//     Nor are 0.0.0.0 and ::, which name no host to connect to.
//   - International domain names (https://bücher.example) are refused with
//     the advice to write the ASCII form (xn--...). Converting them takes
//     the IDNA tables, which jwh does not carry, and two spellings of one
//     host would make a callback URL differ from the one Jira lists.
//
// A refusal is an *Error, which cmdutil.ExitCode maps to exit status 2:
// a URL is input, and nothing is sent to a URL refused.
package urlpolicy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Roles of a URL: what it is for. They name the URL in an Error.
const (
	RoleBase     = "base URL"     // a Jira site's (or an app's) base URL
	RoleCallback = "callback URL" // where Jira delivers a webhook
	RoleRequest  = "request URL"  // a signed request about to be sent
	RoleTarget   = "target URL"   // the user's own app, which jwh forwards to
)

// Error is a URL that a rule refuses.
type Error struct {
	Role string // what the URL is for: RoleBase, RoleCallback, ...
	// URL is the URL as given, with the password of any user information
	// redacted; for RoleRequest, only its scheme, host and path (a query
	// may hold a token).
	URL string
	// Reason says what is wrong and what to do, without the URL, for
	// callers that name the URL themselves (as "invalid --url ...: ").
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Role, e.URL, e.Reason)
}

// Reason returns what err says is wrong with a URL, without the URL, for a
// caller that names the URL itself ("invalid --url ...: "): the Reason of
// an *Error, else err's text.
func Reason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return err.Error()
}

// Redacted returns s, a URL, with the password in its user information
// replaced by "xxxxx" (as url.URL.Redacted does), for a caller that shows a
// refused URL; s as it is when it has none or does not parse.
func Redacted(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return s
	}
	return u.Redacted()
}

// insecureReason is the one wording of the plain-http rule.
const insecureReason = "plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https"

// rule is what one role of URL may be.
type rule struct {
	role    string
	example string // a valid URL of this role, for messages
	// anyHost lets plain http reach any host; otherwise only loopback.
	anyHost bool
	// query allows a query; a base URL is a prefix, where none fits.
	query bool
}

var (
	baseRule     = rule{role: RoleBase, example: "https://your-site.atlassian.net"}
	callbackRule = rule{role: RoleCallback, example: "https://app.example.com/hook", query: true}
	requestRule  = rule{role: RoleRequest, example: "https://your-site.atlassian.net/rest/api/2/myself", query: true}
	targetRule   = rule{role: RoleTarget, example: "http://localhost:3000/webhook", anyHost: true, query: true}
)

// ParseBaseURL parses the base URL of a Jira site (or of a Connect app,
// whose deliveries are signed relative to it): an absolute https URL, or
// plain http to a loopback host (a local sandbox), with a host and without
// user information, query or fragment, since every request path is
// appended to it. White space around it is ignored. The URL returned is in
// normal form: scheme and host name in lower case, without a trailing dot
// on the host or a trailing slash on the path (the context path, as in
// https://example.com/jira, is kept). Every command parses a tenant's base
// URL once, with this, and passes the result down.
func ParseBaseURL(s string) (*url.URL, error) {
	u, err := baseRule.parse(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		host = u.Hostname() // an IPv6 zone keeps its case
	}
	if port := u.Port(); port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	} else {
		u.Host = host
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// CheckCallbackURL judges the URL that a webhook registration asks Jira to
// deliver to: absolute https, or plain http to a loopback host (for local
// testing), with a host, and without user information or a fragment; a
// query is allowed. Jira gets the URL exactly as written, so it is judged
// as written: white space around it is refused, not trimmed.
func CheckCallbackURL(s string) error {
	_, err := callbackRule.parse(s)
	return err
}

// CheckRequestURL judges a URL just before a request to it is signed and
// sent: https, or plain http to a loopback host, with a host and without
// user information (which would travel as a second credential). The
// transport checks every request, redirects included, with it.
func CheckRequestURL(u *url.URL) error {
	shown := &url.URL{Scheme: u.Scheme, Opaque: u.Opaque, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	if e := requestRule.check(u, shown.String()); e != nil {
		return e
	}
	return nil
}

// ParseTargetURL parses a URL of the user's own app, such as jwh listen's
// --forward-to: absolute http or https to any host, without user
// information or a fragment; a query is allowed. White space around it is
// ignored.
func ParseTargetURL(s string) (*url.URL, error) {
	return targetRule.parse(strings.TrimSpace(s))
}

// IsLoopbackHost reports whether host, as url.URL.Hostname returns it
// (brackets allowed), is a loopback host: localhost or localhost. in any
// case, an address in 127.0.0.0/8, ::1, or an IPv4-mapped IPv6 address in
// 127.0.0.0/8. The package comment says why no other name is.
func IsLoopbackHost(host string) bool {
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// parse parses s and applies r.
func (r rule) parse(s string) (*url.URL, error) {
	shown := s
	fail := func(format string, args ...any) error {
		return &Error{Role: r.role, URL: shown, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case strings.TrimSpace(s) == "":
		return nil, fail("empty: give one such as %s", r.example)
	case strings.TrimSpace(s) != s:
		return nil, fail("white space around it: remove it")
	case strings.ContainsFunc(s, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }):
		return nil, fail("contains white space or a control character: write a space as %%20")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if strings.Contains(err.Error(), "first path segment in URL cannot contain colon") {
			return nil, fail("not an absolute URL: give one such as %s", r.example)
		}
		return nil, fail("not a URL: %v", err)
	}
	shown = Redacted(s)
	if u.Scheme != "http" && u.Scheme != "https" && startsWithDigit(u.Opaque) {
		// "host:8080/hook", which url.Parse reads as the scheme "host".
		return nil, fail("not an absolute URL: give one such as %s", r.example)
	}
	if e := r.check(u, shown); e != nil {
		return nil, e
	}
	if strings.Contains(s, "#") {
		return nil, fail("has a fragment (#...), which is never sent: remove it")
	}
	return u, nil
}

// check applies r to u, which is shown as shown in an error.
func (r rule) check(u *url.URL, shown string) *Error {
	fail := func(format string, args ...any) *Error {
		return &Error{Role: r.role, URL: shown, Reason: fmt.Sprintf(format, args...)}
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "":
		return fail("not an absolute URL: give one such as %s", r.example)
	case scheme != "http" && scheme != "https" && r.anyHost:
		return fail("scheme %q is not supported: use http or https", u.Scheme)
	case scheme != "http" && scheme != "https":
		return fail("scheme %q is not supported: use https", u.Scheme)
	case u.Opaque != "" || u.Host == "":
		return fail("not an absolute URL: give one such as %s", r.example)
	case u.User != nil:
		return fail("holds user information (user@ or user:password@): remove it")
	case strings.Trim(u.Hostname(), ".") == "":
		return fail("has no host name")
	case !isASCII(u.Hostname()):
		return fail("the host name %q is not ASCII: write it in its ASCII form (xn--...), as jwh does not convert international domain names", u.Hostname())
	case strings.HasSuffix(u.Host, ":"):
		return fail("the port after %q is empty: remove the colon or give a port", u.Hostname())
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fail("port %s is out of range: use 1 to 65535", p)
		}
	}
	if !r.query && (u.RawQuery != "" || u.ForceQuery) {
		return fail("has a query (?...): remove it")
	}
	if scheme == "http" && !r.anyHost && !IsLoopbackHost(u.Hostname()) {
		return fail(insecureReason)
	}
	return nil
}

func startsWithDigit(s string) bool { return s != "" && '0' <= s[0] && s[0] <= '9' }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
