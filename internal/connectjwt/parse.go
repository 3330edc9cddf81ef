package connectjwt

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/jsonscan"
)

// This file reads a token once, without a JWT library: Verify is on the
// listener's hot path, and a general decoder (reflection, a map for the
// header, a decode per date claim) cost most of its time. The result is
// what golang-jwt's parser makes of a token (TestParseTokenAgreesWithJWT,
// FuzzParseToken), but for three things: claim names match exactly (RFC
// 7519 says they are case-sensitive; encoding/json also matched "ISS" to
// iss), an alg other than HS256 is an alg failure even when the library
// knows no such algorithm (it said malformed), and a header or claims
// segment that is not a JSON object (null included) is malformed.

// A Token is a JWT split and decoded, not yet verified. Verify reads a
// Connect JWT with it. A caller that verifies another kind of HS256 token
// (the Bearer JWT of a delivery to an OAuth 2.0 app, which has no qsh and
// whose key is not found by its iss) checks it with Token's methods, so
// that both kinds are read, signed and dated by the same rules.
type Token struct {
	signingInput []byte // header.claims, what the signature covers
	signature    []byte
	alg          string
	claims       parsedClaims
}

// parsedClaims are the claims that Verify and Token's methods check. A
// date claim that is absent or null is the zero time.
type parsedClaims struct {
	iss, qsh      string
	aud           []string
	exp, iat, nbf time.Time
}

// hs256Headers are the headers of HS256 tokens as JWT libraries write
// them ({"alg":"HS256","typ":"JWT"} and {"typ":"JWT","alg":"HS256"}),
// base64url-encoded: a token with one of them needs its header decoded no
// further.
var hs256Headers = [...]string{"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"}

// ParseToken splits token into its three segments and decodes them. Its
// errors say what is wrong, for a "malformed JWT" reason.
func ParseToken(token string) (Token, error) {
	var t Token
	head, rest, ok1 := strings.Cut(token, ".")
	claims, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return t, errors.New("token contains an invalid number of segments")
	}
	enc := base64.RawURLEncoding
	// One buffer for the token and its decoded segments.
	n := len(token)
	buf := make([]byte, n, n+enc.DecodedLen(len(head))+enc.DecodedLen(len(claims))+enc.DecodedLen(len(sig)))
	copy(buf, token)
	t.signingInput = buf[:len(head)+1+len(claims)]
	var header []byte
	if head == hs256Headers[0] || head == hs256Headers[1] {
		t.alg = "HS256"
	} else {
		var err error
		if buf, err = enc.AppendDecode(buf, buf[:len(head)]); err != nil {
			return t, fmt.Errorf("could not base64 decode header: %w", err)
		}
		header = buf[n:]
	}
	at := len(buf)
	buf, err := enc.AppendDecode(buf, buf[len(head)+1:len(head)+1+len(claims)])
	if err != nil {
		return t, fmt.Errorf("could not base64 decode claims: %w", err)
	}
	claimsJSON := buf[at:]
	at = len(buf)
	buf, err = enc.AppendDecode(buf, buf[len(head)+1+len(claims)+1:n])
	if err != nil {
		return t, fmt.Errorf("could not base64 decode signature: %w", err)
	}
	t.signature = buf[at:]
	if t.alg == "" {
		if t.alg, err = headerAlg(header); err != nil {
			return t, err
		}
	}
	if t.claims, err = readClaims(claimsJSON); err != nil {
		return t, err
	}
	return t, nil
}

// headerAlg returns the alg of a JWT header.
func headerAlg(header []byte) (string, error) {
	var alg string
	found := false
	err := jsonscan.Members(header, func(key, value []byte) error {
		if string(key) != "alg" {
			return nil
		}
		found = true
		if string(value) == `"HS256"` {
			alg = "HS256" // the usual case, without a copy
			return nil
		}
		s, ok := jsonscan.String(value)
		if !ok {
			return errors.New("signing method (alg) is not a string")
		}
		alg = s
		return nil
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("could not JSON decode header: %w", err)
	case !found:
		return "", errors.New("signing method (alg) is unspecified")
	}
	return alg, nil
}

// readClaims reads the claims that Verify and Token's methods check (iss,
// qsh, aud and the dates), and checks that sub and jti are strings (RFC
// 7519).
func readClaims(b []byte) (parsedClaims, error) {
	var c parsedClaims
	var ignored string
	err := jsonscan.Members(b, func(key, value []byte) (err error) {
		switch string(key) {
		case "iss":
			err = stringClaim("iss", value, &c.iss)
		case "qsh":
			err = stringClaim("qsh", value, &c.qsh)
		case "sub", "jti":
			err = stringClaim(string(key), value, &ignored)
		case "aud":
			err = audienceClaim(value, &c.aud)
		case "exp":
			c.exp, err = dateClaim("exp", value)
		case "iat":
			c.iat, err = dateClaim("iat", value)
		case "nbf":
			c.nbf, err = dateClaim("nbf", value)
		}
		return err
	})
	if err != nil {
		return parsedClaims{}, fmt.Errorf("could not JSON decode claims: %w", err)
	}
	return c, nil
}

// stringClaim reads a claim that is a string into dst. A null leaves dst
// as it is, as encoding/json leaves a string (a name that appears twice,
// the second time null, keeps its first value).
func stringClaim(name string, value []byte, dst *string) error {
	if jsonscan.IsNull(value) {
		return nil
	}
	s, ok := jsonscan.String(value)
	if !ok {
		return fmt.Errorf("claim %s is not a string", name)
	}
	*dst = s
	return nil
}

// dateClaim reads a NumericDate claim, seconds since 1970, to the second
// (as golang-jwt reads it): a number, or a string that holds one; null is
// the zero time.
func dateClaim(name string, value []byte) (time.Time, error) {
	if jsonscan.IsNull(value) {
		return time.Time{}, nil
	}
	num := value
	if s, ok := jsonscan.String(value); ok {
		num = []byte(s) // a number in a string, which golang-jwt took too
	}
	if len(num) == 0 || (num[0] != '-' && (num[0] < '0' || num[0] > '9')) || !jsonscan.Valid(num) {
		return time.Time{}, fmt.Errorf("claim %s is not a number", name)
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("claim %s: %w", name, err)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).Truncate(time.Second), nil
}

var errAud = errors.New("claim aud is not a string or an array of strings")

// audienceClaim reads the aud claim into dst: a string (one audience) or
// an array of strings. A null leaves dst as it is, as golang-jwt's
// ClaimStrings does.
func audienceClaim(value []byte, dst *[]string) error {
	if jsonscan.IsNull(value) {
		return nil
	}
	if s, ok := jsonscan.String(value); ok {
		*dst = []string{s}
		return nil
	}
	if value[0] != '[' {
		return errAud
	}
	var aud []string
	err := jsonscan.Elements(value, func(v []byte) error {
		s, ok := jsonscan.String(v)
		if !ok {
			return errAud
		}
		aud = append(aud, s)
		return nil
	})
	if err != nil {
		return err
	}
	*dst = aud
	return nil
}

// Alg returns the token's algorithm, its header's alg.
func (t *Token) Alg() string { return t.alg }

// Audience returns the token's aud claim, nil when it has none.
func (t *Token) Audience() []string { return t.claims.aud }

// SignedWith reports, in constant time, whether the token's signature is
// its HS256 signature with k. It says nothing of its alg: check that
// first.
func (t *Token) SignedWith(k *Key) bool { return k.validHS256(t.signingInput, t.signature) }

// CheckDates checks the token's date claims at now, as golang-jwt's
// validator does, allowing leeway of clock skew: exp (when present) not
// passed, iat and nbf (when present) not in the future. A failure is a
// *VerifyError for CheckExpiry or CheckIssuedAt. Verify also requires an
// exp; CheckDates does not.
func (t *Token) CheckDates(now time.Time, leeway time.Duration) error {
	c := &t.claims
	switch {
	case !c.exp.IsZero() && !now.Before(c.exp.Add(leeway)):
		return verifyErr(CheckExpiry, "expired at %s (now %s, leeway %s)",
			c.exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway)
	case !c.iat.IsZero() && now.Before(c.iat.Add(-leeway)):
		return verifyErr(CheckIssuedAt, "issued in the future at %s (now %s, leeway %s): check the clocks",
			c.iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway)
	case !c.nbf.IsZero() && now.Before(c.nbf.Add(-leeway)):
		return verifyErr(CheckIssuedAt, "not valid before %s (now %s, leeway %s): check the clocks",
			c.nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), leeway)
	}
	return nil
}
