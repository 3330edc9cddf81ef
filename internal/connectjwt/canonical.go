// Package connectjwt implements the Atlassian Connect flavour of JWT: the
// canonical request and its query string hash (qsh), HS256 signing of the
// tokens an app sends to Jira, and verification of the tokens Jira sends to
// an app. Its reading of a token (Token) also serves the other HS256 token
// Jira sends, the Bearer JWT of a delivery to an OAuth 2.0 app.
//
// The canonical request follows Atlassian's reference implementation
// (atlassian-jwt) byte for byte; testdata/qsh-vectors.json holds vectors
// produced by it. The package does no I/O.
package connectjwt

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// CanonicalRequest returns the canonical form of a request,
// METHOD&PATH&QUERY, for the request URL u relative to basePath, the path of
// the tenant's (or app's) base URL. Only u's escaped path and raw query are
// used; scheme and host are ignored.
func CanonicalRequest(method string, u *url.URL, basePath string) (string, error) {
	q, err := CanonicalQuery(u.RawQuery)
	if err != nil {
		return "", err
	}
	return strings.ToUpper(method) + "&" + CanonicalPath(u.EscapedPath(), basePath) + "&" + q, nil
}

// QSH returns the query string hash of a canonical request: hex SHA-256.
func QSH(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(sum[:])
}

// RequestQSH is CanonicalRequest followed by QSH.
func RequestQSH(method string, u *url.URL, basePath string) (string, error) {
	c, err := CanonicalRequest(method, u, basePath)
	if err != nil {
		return "", err
	}
	return QSH(c), nil
}

// CanonicalPath returns the canonical path of an escaped request path:
// basePath is removed from its front as whole segments, "&" becomes "%26",
// a leading "/" is ensured and one trailing "/" is dropped.
func CanonicalPath(escapedPath, basePath string) string {
	p := escapedPath
	base := strings.TrimRight(basePath, "/")
	if base != "" && !strings.HasPrefix(base, "/") {
		base = "/" + base
	}
	if base != "" && (p == base || strings.HasPrefix(p, base+"/")) {
		p = p[len(base):]
	}
	p = strings.ReplaceAll(p, "&", "%26")
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1]
	}
	return p
}

// CanonicalQuery returns the canonical form of a raw query string: pairs
// decoded, the "jwt" parameter removed, keys sorted by their encoded form,
// repeated values sorted and joined with ",", everything percent-encoded per
// RFC 3986. A malformed query is an error, never silently shortened.
//
// Only '&' separates pairs, as in atlassian-jwt (which parses the query with
// Node's querystring): a ';' is part of a value, so "a=1;b=2" is the one
// parameter a with the value "1;b=2", canonically "a=1%3Bb%3D2".
func CanonicalQuery(rawQuery string) (string, error) {
	if rawQuery == "" {
		return "", nil
	}
	params, err := parseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("canonical query: %w", err)
	}
	delete(params, "jwt")
	type pair struct{ key, values string }
	pairs := make([]pair, 0, len(params))
	for k, vs := range params {
		vs = append([]string(nil), vs...)
		sort.Strings(vs)
		for i, v := range vs {
			vs[i] = Escape(v)
		}
		pairs = append(pairs, pair{Escape(k), strings.Join(vs, ",")})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].key < pairs[j].key })
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.values)
	}
	return b.String(), nil
}

// parseQuery decodes a raw query as url.ParseQuery does ('+' is a space,
// empty pairs are skipped, a pair without '=' has an empty value), except
// that a ';' is an ordinary character, not an error: url.ParseQuery refuses
// it, and drops the pair.
func parseQuery(rawQuery string) (url.Values, error) {
	m := make(url.Values)
	for rest := rawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		m[key] = append(m[key], value)
	}
	return m, nil
}

// Escape percent-encodes s per RFC 3986: every byte but A-Z a-z 0-9 - . _ ~
// is written as %XX with upper-case hex.
func Escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
