// Package replay re-sends recorded deliveries (listen.Record) to an app,
// as Jira would send them to that URL now: the body byte for byte, the
// headers Jira sent, and a token signed afresh for the target, so that an
// app that checks tokens accepts the replay where it would refuse the
// original (its exp has passed, its qsh was computed for another URL).
//
//   - A delivery of a Connect tenant gets a new Connect JWT: iss is the
//     tenant's client key, HS256 with its shared secret, and the qsh is
//     computed over the target request relative to the app's base path.
//   - A delivery of an OAuth tenant gets a new Bearer JWT: the claims of
//     the original token with a fresh iat and exp, HS256 with the OAuth
//     app's client secret.
//
// Each replay gets a new X-Atlassian-Webhook-Identifier, unless it is to
// keep the original one (to test the app's de-duplication). Redirects are
// not followed, as Jira does not follow them.
package replay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/listen"
)

// DefaultTimeout bounds one replay, the reply included.
const DefaultTimeout = 30 * time.Second

// MaxReplyShown is how much of the app's reply a Result keeps.
const MaxReplyShown = 4 << 10

// Credentials are what a replay is signed with.
type Credentials struct {
	// Kind is listen.KindConnect (also for "") or listen.KindOAuth.
	Kind string
	// Issuer is the iss of a Connect JWT: the tenant's client key.
	Issuer string
	// Secret signs the token: a Connect tenant's shared secret, an OAuth
	// app's client secret.
	Secret []byte
}

// String describes c without its secret.
func (c Credentials) String() string {
	return fmt.Sprintf("replay.Credentials{kind=%q, iss=%q, secret=[redacted]}", c.Kind, c.Issuer)
}

// GoString is String, so that %#v does not print the secret either.
func (c Credentials) GoString() string { return c.String() }

// A Replayer re-sends records. Its zero value is not usable: Credentials
// is required.
type Replayer struct {
	// Credentials returns the credentials of the tenant a record names
	// (Record.Tenant), which may be "" for a delivery received without
	// verification. Its error is returned as it is.
	Credentials func(tenant string) (Credentials, error)
	// BasePath is the path of the app's base URL, which the qsh of a
	// Connect JWT is computed relative to; "" means "/".
	BasePath string
	// SameIdentifier keeps the record's X-Atlassian-Webhook-Identifier
	// (and its X-Atlassian-Webhook-Retry); otherwise each replay gets a
	// new identifier and is a first attempt.
	SameIdentifier bool
	// MarkReplayOf sends listen.HeaderReplayOf with the record's Seq: for
	// a replay to the listener that wrote the record, which then links
	// the two.
	MarkReplayOf bool
	// Client sends the replays; nil means a client that does not follow
	// redirects, bounded by DefaultTimeout.
	Client *http.Client
	// Now is the clock of the tokens; nil means time.Now.
	Now func() time.Time
}

// A Result is what became of one replay.
type Result struct {
	Seq        int64  // the record's
	Event      string // the record's
	Issue      string // the record's
	Target     string // where it was sent
	Identifier string // the X-Atlassian-Webhook-Identifier sent
	// Status is the app's answer; 0 when it did not answer (see the
	// error of Send).
	Status  int
	Latency time.Duration // from sending the request to reading the reply
	// Reply is the start of the app's reply, at most MaxReplyShown bytes.
	Reply []byte
}

// OK reports whether the app answered 2xx.
func (r *Result) OK() bool { return r.Status >= 200 && r.Status <= 299 }

// ErrNoBody is wrapped by the error of Send for a record without a body:
// a request refused on its headers, whose body was never read.
var ErrNoBody = errors.New("the record has no body to replay")

// Target returns where a record is replayed: to, with Retarget's rule (a
// URL without a path gets the record's path and query), or, when to is
// nil, where the record was received (its Listener and Path). A jwt query
// parameter is left out: the new token goes in the Authorization header.
func Target(rec *listen.Record, to *url.URL) (*url.URL, error) {
	received, err := url.ParseRequestURI(rec.Path)
	if err != nil || rec.Path == "" {
		return nil, fmt.Errorf("record %d: path %q is not a request URI", rec.Seq, rec.Path)
	}
	if to == nil {
		if rec.Listener == "" {
			return nil, fmt.Errorf("record %d: no listener address to replay to: give a target URL", rec.Seq)
		}
		if to, err = url.Parse(rec.Listener); err != nil {
			return nil, fmt.Errorf("record %d: listener %q is not a URL: give a target URL", rec.Seq, rec.Listener)
		}
		to.Path, to.RawPath, to.RawQuery = "", "", ""
	}
	t := listen.Retarget(to, received)
	if strings.Contains(t.RawQuery, "jwt=") {
		q := strings.Split(t.RawQuery, "&")
		kept := q[:0]
		for _, p := range q {
			if name, _, _ := strings.Cut(p, "="); name != "jwt" {
				kept = append(kept, p)
			}
		}
		t.RawQuery = strings.Join(kept, "&")
	}
	return t, nil
}

// Send replays rec to target (see Target) and returns what the app
// answered. The error is for a replay that could not be made or was not
// answered: bad credentials, a network failure; an answer of any status is
// a Result without an error.
func (p *Replayer) Send(ctx context.Context, rec *listen.Record, target *url.URL) (Result, error) {
	res := Result{Seq: rec.Seq, Event: rec.Event, Issue: rec.Issue, Target: target.String()}
	if rec.Body == nil {
		return res, fmt.Errorf("record %d: %w: it was refused before its body was read", rec.Seq, ErrNoBody)
	}
	method := rec.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, res.Target, bytes.NewReader(rec.Body))
	if err != nil {
		return res, err
	}
	req.ContentLength = int64(len(rec.Body))
	req.Header = header(rec.Header)
	res.Identifier = rec.Identifier
	switch {
	case !p.SameIdentifier:
		res.Identifier = newIdentifier()
		req.Header.Del(listen.HeaderRetry)
	case rec.Retry > 0:
		req.Header.Set(listen.HeaderRetry, strconv.Itoa(rec.Retry))
	}
	if res.Identifier != "" {
		req.Header.Set(listen.HeaderIdentifier, res.Identifier)
	}
	if p.MarkReplayOf && rec.Seq > 0 {
		req.Header.Set(listen.HeaderReplayOf, fmt.Sprint(rec.Seq))
	}
	if err := p.sign(req, rec); err != nil {
		return res, err
	}

	client := p.Client
	if client == nil {
		client = defaultClient
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		res.Latency = time.Since(start)
		return res, err
	}
	reply, err := io.ReadAll(io.LimitReader(resp.Body, MaxReplyShown))
	if err == nil {
		// The rest of the reply, unread, lets the connection be reused.
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	}
	resp.Body.Close()
	res.Latency = time.Since(start)
	res.Status, res.Reply = resp.StatusCode, reply
	if err != nil {
		return res, fmt.Errorf("reading the reply: %w", err)
	}
	return res, nil
}

// defaultClient does not follow redirects: Jira does not.
var defaultClient = &http.Client{
	Timeout: DefaultTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// sign sets the Authorization header of req, the replay of rec.
func (p *Replayer) sign(req *http.Request, rec *listen.Record) error {
	cred, err := p.Credentials(rec.Tenant)
	if err != nil {
		return err
	}
	if len(cred.Secret) == 0 {
		return fmt.Errorf("record %d: no secret to sign the replay with", rec.Seq)
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	switch cred.Kind {
	case "", listen.KindConnect:
		if cred.Issuer == "" {
			return fmt.Errorf("record %d: the tenant has no client key to sign the replay with", rec.Seq)
		}
		base := p.BasePath
		if base == "" {
			base = "/"
		}
		return connectjwt.NewSigner(cred.Issuer, cred.Secret, base).WithClock(now).Authorize(req)
	case listen.KindOAuth:
		tok, err := bearer(rec, cred.Secret, now())
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
	return fmt.Errorf("record %d: unknown tenant kind %q", rec.Seq, cred.Kind)
}

// bearer returns the token of an OAuth delivery's replay: the claims of
// the original token, with iat now and exp as far after it as in the
// original (connectjwt.DefaultTTL when that is unknown).
func bearer(rec *listen.Record, secret []byte, now time.Time) (string, error) {
	claims := jwt.MapClaims{}
	if a := rec.Authorization; a != nil && len(a.Claims) > 0 {
		d := json.NewDecoder(bytes.NewReader(a.Claims))
		d.UseNumber()
		if err := d.Decode(&claims); err != nil {
			return "", fmt.Errorf("record %d: the token's claims: %w", rec.Seq, err)
		}
	}
	ttl := connectjwt.DefaultTTL
	iat, err1 := number(claims["iat"])
	exp, err2 := number(claims["exp"])
	if err1 == nil && err2 == nil && exp > iat {
		ttl = time.Duration(exp-iat) * time.Second
	}
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(ttl).Unix()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

func number(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, errors.New("not a number")
	}
	return n.Int64()
}

// notSent are the headers of a record that a replay does not send as they
// were, besides those of one connection (listen.ForwardHeader): those the
// client computes, the credentials of the original request, and those the
// replay sets anew.
var notSent = []string{
	"Content-Length", "Host", "Accept-Encoding",
	"Authorization", "Cookie", listen.HeaderReplayOf,
}

// header returns the headers a replay of a record with header h sends.
func header(h http.Header) http.Header {
	out := listen.ForwardHeader(h)
	for _, name := range notSent {
		out.Del(name)
	}
	return out
}

// newIdentifier returns a fresh identifier, a random UUID as Jira's are.
func newIdentifier() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
