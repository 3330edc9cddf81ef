package connectjwt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTTL is how long a token signed by a Signer stays valid.
const DefaultTTL = 3 * time.Minute

// JiraLeeway is the clock skew Jira allows on the iat and exp of the
// tokens an app sends it: a machine whose clock is further off has every
// request refused with 401 (jwh doctor measures it).
const JiraLeeway = 30 * time.Second

// ContextQSH is the qsh value of Connect iframe context tokens. It is never
// valid for a request, and Verify reports it as a qsh mismatch.
const ContextQSH = "context-qsh"

// Claims are the claims of a Connect JWT.
type Claims struct {
	QSH string `json:"qsh"`
	jwt.RegisteredClaims
}

// A Signer signs requests with HS256 for one issuer and shared secret. A
// Signer formats without its secret, so it is safe to print or log.
type Signer struct {
	issuer   string
	secret   []byte
	basePath string
	ttl      time.Duration
	now      func() time.Time
}

// NewSigner returns a Signer for issuer (the app key when the app calls Jira,
// the tenant's client key when Jira calls the app) whose requests are
// canonicalised relative to basePath, the path of the base URL.
func NewSigner(issuer string, secret []byte, basePath string) *Signer {
	return &Signer{issuer: issuer, secret: secret, basePath: basePath, ttl: DefaultTTL, now: time.Now}
}

// WithClock returns a copy of s that reads the time from now.
func (s *Signer) WithClock(now func() time.Time) *Signer {
	c := *s
	c.now = now
	return &c
}

// WithTTL returns a copy of s whose tokens live for ttl.
func (s *Signer) WithTTL(ttl time.Duration) *Signer {
	c := *s
	c.ttl = ttl
	return &c
}

// Issuer returns the iss claim that s signs with.
func (s *Signer) Issuer() string { return s.issuer }

// String describes s without its secret.
func (s *Signer) String() string {
	return fmt.Sprintf("connectjwt.Signer{iss=%q, basePath=%q, secret=[redacted]}", s.issuer, s.basePath)
}

// GoString is String, so that %#v does not print the secret either.
func (s *Signer) GoString() string { return s.String() }

// Sign returns a fresh token for one request.
func (s *Signer) Sign(method string, u *url.URL) (string, error) {
	qsh, err := RequestQSH(method, u, s.basePath)
	if err != nil {
		return "", err
	}
	now := s.now()
	claims := Claims{
		QSH: qsh,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
}

// Authorize sets the Authorization header of r to a fresh token for that
// request: it makes a Signer a transport.Authorizer.
func (s *Signer) Authorize(r *http.Request) error {
	tok, err := s.Sign(r.Method, r.URL)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "JWT "+tok)
	return nil
}

// Check names the check of a token that failed.
type Check string

// The checks that Verify makes, in order.
const (
	CheckMissing   Check = "missing"   // no token
	CheckMalformed Check = "malformed" // not a JWT
	CheckAlg       Check = "alg"       // algorithm other than HS256
	CheckIssuer    Check = "iss"       // unknown or wrong issuer
	CheckSignature Check = "signature" // wrong key or altered token
	CheckExpiry    Check = "exp"       // expired, or no exp claim
	CheckIssuedAt  Check = "iat"       // issued in the future
	CheckQSH       Check = "qsh"       // token for another request
)

// A VerifyError says which check a token failed and why.
type VerifyError struct {
	Check  Check
	Reason string
}

func (e *VerifyError) Error() string { return e.Reason }

func verifyErr(c Check, format string, args ...any) error {
	return &VerifyError{Check: c, Reason: fmt.Sprintf(format, args...)}
}

// VerifyOptions describe the request a token must match and how to find
// the key.
type VerifyOptions struct {
	Method   string
	URL      *url.URL
	BasePath string
	// Secret returns the shared secret for an issuer; ok is false when the
	// issuer is unknown.
	Secret func(iss string) (secret []byte, ok bool)
	// Key, when set, is used instead of Secret: it returns the issuer's
	// secret as a Key, which a caller that verifies many tokens keeps.
	Key func(iss string) (key *Key, ok bool)
	// Leeway is the clock skew allowed on exp and iat.
	Leeway time.Duration
	// MaxLifetime, when positive, holds the token to what Jira requires of
	// the tokens an app sends it: iat and exp both present and JSON
	// numbers, and exp at most MaxLifetime after iat (Jira: an hour). Zero
	// checks iat only when it is present.
	MaxLifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verified is what a valid token says.
type Verified struct {
	Issuer    string
	IssuedAt  time.Time
	ExpiresAt time.Time
	QSH       string
	Canonical string // the canonical request that the token was checked against
}

// Verify checks a Connect JWT as Jira and Atlassian's libraries do: HS256
// only, a known issuer, the signature with that issuer's secret, exp and iat
// within the leeway, and qsh equal to the hash of the request. With
// MaxLifetime, the iat and exp claims as written are checked once the
// signature is: both there, both numbers, not too far apart. A failure is a
// *VerifyError naming the check.
func Verify(token string, opts VerifyOptions) (*Verified, error) {
	if token == "" {
		return nil, verifyErr(CheckMissing, "no JWT: expected an \"Authorization: JWT <token>\" header")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t, err := ParseToken(token)
	if err != nil {
		if opts.MaxLifetime > 0 {
			// An iat or exp that is not a number makes the claims
			// undecodable: say so rather than "malformed".
			if lerr := checkLifetime(token, opts.MaxLifetime); lerr != nil {
				return nil, lerr
			}
		}
		return nil, verifyErr(CheckMalformed, "malformed JWT: %v", err)
	}
	if t.alg != "HS256" {
		return nil, verifyErr(CheckAlg, "algorithm %q refused: only HS256 is accepted", t.alg)
	}
	claims := &t.claims
	iss := claims.iss
	if iss == "" {
		return nil, verifyErr(CheckIssuer, "no iss claim")
	}
	var key *Key
	var ok bool
	if opts.Key != nil {
		key, ok = opts.Key(iss)
	} else {
		var secret []byte
		if secret, ok = opts.Secret(iss); ok {
			key = &Key{secret: secret}
		}
	}
	if !ok {
		return nil, verifyErr(CheckIssuer, "unknown issuer %q: no configured tenant has this client key", iss)
	}
	if !t.SignedWith(key) {
		return nil, verifyErr(CheckSignature, "bad signature: the token was not signed with the shared secret of %q", iss)
	}
	if opts.MaxLifetime > 0 {
		if err := checkLifetime(token, opts.MaxLifetime); err != nil {
			return nil, err
		}
	}
	if claims.exp.IsZero() {
		return nil, verifyErr(CheckExpiry, "no exp claim")
	}
	if err := t.CheckDates(now(), opts.Leeway); err != nil {
		return nil, err
	}
	canonical, err := CanonicalRequest(opts.Method, opts.URL, opts.BasePath)
	if err != nil {
		return nil, verifyErr(CheckQSH, "cannot canonicalise the request: %v", err)
	}
	// QSH(canonical), without allocating it: the qsh is not a secret
	// (anyone can hash a request), so a plain comparison will do.
	sum := sha256.Sum256([]byte(canonical))
	var qsh [2 * sha256.Size]byte
	hex.Encode(qsh[:], sum[:])
	if claims.qsh == string(qsh[:]) {
		return &Verified{Issuer: iss, IssuedAt: claims.iat, ExpiresAt: claims.exp, QSH: claims.qsh, Canonical: canonical}, nil
	}
	want := string(qsh[:])
	switch {
	case claims.qsh == "":
		return nil, verifyErr(CheckQSH, "no qsh claim: expected %s for %s", want, canonical)
	case claims.qsh == ContextQSH:
		return nil, verifyErr(CheckQSH, "qsh mismatch: %q is for iframe context tokens, not requests; expected %s for %s", ContextQSH, want, canonical)
	}
	return nil, verifyErr(CheckQSH, "qsh mismatch: expected %s for %s, got %s", want, canonical, claims.qsh)
}

// checkLifetime checks the iat and exp claims of a token as Jira does
// (see VerifyOptions.MaxLifetime). It looks at the claims as written, since
// the JWT library also takes a number in a string. A payload that is not a
// JSON object is left for the parser to report.
func checkLifetime(token string, maxLifetime time.Duration) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := jwt.NewParser().DecodeSegment(parts[1])
	if err != nil {
		return nil
	}
	var dates struct {
		IAT json.RawMessage `json:"iat"`
		EXP json.RawMessage `json:"exp"`
	}
	if json.Unmarshal(payload, &dates) != nil {
		return nil
	}
	iat, err := numericDate(dates.IAT)
	if err != nil {
		return verifyErr(CheckIssuedAt, "iat %v: Jira requires the time the token was issued, in seconds since 1970", err)
	}
	exp, err := numericDate(dates.EXP)
	if err != nil {
		return verifyErr(CheckExpiry, "exp %v: Jira requires the time the token expires, in seconds since 1970", err)
	}
	if life := exp - iat; life > maxLifetime.Seconds() {
		return verifyErr(CheckExpiry, "exp is %s after iat: Jira accepts tokens that live at most %s",
			time.Duration(life*float64(time.Second)).Round(time.Second), maxLifetime)
	}
	return nil
}

// numericDate returns the seconds of a NumericDate claim, or why it is not
// one: missing, or not a JSON number.
func numericDate(raw json.RawMessage) (float64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, errors.New("is missing")
	}
	var n float64
	if raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return 0, fmt.Errorf("is not a number (%s)", truncateClaim(raw))
	}
	return n, nil
}

// truncateClaim shortens a claim value for a reason.
func truncateClaim(raw json.RawMessage) string {
	const max = 40
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}

// FromRequest returns the token of r: the Authorization header's "JWT"
// credentials, else the jwt query parameter. It returns "" when there is none.
func FromRequest(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "JWT") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.URL.Query().Get("jwt")
}
