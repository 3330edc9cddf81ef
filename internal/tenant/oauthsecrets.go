package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Lifetimes of Atlassian's rotating refresh tokens: a refresh token dies
// after RefreshInactivity without use, and every refresh token of a login
// dies RefreshAbsolute after the consent, however often it was used.
const (
	RefreshInactivity = 90 * 24 * time.Hour
	RefreshAbsolute   = 365 * 24 * time.Hour
)

// OAuthSecrets are the secrets of one OAuth tenant, kept together: one
// keyring item or one entry of credentials.json, always replaced as a
// whole, so that a rotated refresh token is never stored apart from the
// access token it came with.
//
// Formatting an OAuthSecrets with any verb of package fmt, or as text,
// never shows a value (see String); it is written to storage only by the
// tenant package's own encoding.
type OAuthSecrets struct {
	ClientSecret string    `json:"clientSecret"`
	RefreshToken string    `json:"refreshToken,omitempty"` // empty without offline_access
	AccessToken  string    `json:"accessToken"`
	AccessExpiry time.Time `json:"accessExpiry"`
	// RefreshIssued is when the current refresh token was issued: it
	// dies RefreshInactivity after that unless it is used.
	RefreshIssued time.Time `json:"refreshIssued,omitzero"`
	// LoginAt is when the user consented: every refresh token of the
	// login dies RefreshAbsolute after it.
	LoginAt time.Time `json:"loginAt"`
	Scopes  []string  `json:"scopes,omitempty"` // as granted
}

// String describes the bundle by what it holds, never by a value.
func (s OAuthSecrets) String() string {
	has := func(v string) string {
		if v == "" {
			return "none"
		}
		return "[redacted]"
	}
	return fmt.Sprintf("tenant.OAuthSecrets{ClientSecret:%s, RefreshToken:%s, AccessToken:%s, AccessExpiry:%s, LoginAt:%s}",
		has(s.ClientSecret), has(s.RefreshToken), has(s.AccessToken),
		s.AccessExpiry.UTC().Format(time.RFC3339), s.LoginAt.UTC().Format(time.RFC3339))
}

// GoString is String, for %#v.
func (s OAuthSecrets) GoString() string { return s.String() }

// Format prints String for every verb, so that no verb (%x, %d, ...)
// reaches the fields.
func (s OAuthSecrets) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalText is String, so that encoding a value that holds an
// OAuthSecrets (as JSON, in a log) cannot leak it either.
func (s OAuthSecrets) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Clone returns a copy that shares nothing with s.
func (s *OAuthSecrets) Clone() *OAuthSecrets {
	c := *s
	c.Scopes = slices.Clone(s.Scopes)
	return &c
}

// RefreshExpiry returns when the refresh token dies: RefreshInactivity
// after it was issued, or at the login's absolute expiry if that comes
// first. It is zero without a refresh token.
func (s *OAuthSecrets) RefreshExpiry() time.Time {
	if s.RefreshToken == "" {
		return time.Time{}
	}
	issued := s.RefreshIssued
	if issued.IsZero() {
		issued = s.LoginAt
	}
	exp := issued.Add(RefreshInactivity)
	if abs := s.AbsoluteExpiry(); !abs.IsZero() && abs.Before(exp) {
		return abs
	}
	return exp
}

// AbsoluteExpiry returns when every refresh token of the login dies:
// RefreshAbsolute after the consent. It is zero without a refresh token.
func (s *OAuthSecrets) AbsoluteExpiry() time.Time {
	if s.RefreshToken == "" || s.LoginAt.IsZero() {
		return time.Time{}
	}
	return s.LoginAt.Add(RefreshAbsolute)
}

// storedSecrets is OAuthSecrets without its methods: the encoding of the
// bundle in the keyring and in credentials.json.
type storedSecrets OAuthSecrets

// encodeSecrets returns the stored form of s.
func encodeSecrets(s *OAuthSecrets) ([]byte, error) {
	return json.Marshal((*storedSecrets)(s))
}

// decodeSecrets parses the stored form of a bundle; its error never quotes
// the data.
func decodeSecrets(data []byte) (*OAuthSecrets, error) {
	var s storedSecrets
	if err := json.Unmarshal(data, &s); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("not JSON (at byte %d)", se.Offset)
		case errors.As(err, &te):
			return nil, fmt.Errorf("field %q has the wrong type", te.Field)
		}
		return nil, errors.New("not a JSON object")
	}
	if s.AccessToken == "" && s.RefreshToken == "" {
		return nil, errors.New("it holds no token")
	}
	return (*OAuthSecrets)(&s), nil
}
