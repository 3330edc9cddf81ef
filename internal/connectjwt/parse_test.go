package connectjwt

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenOf encodes a header and claims as written, with a signature that
// is not checked here.
func tokenOf(header, claims string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return b64([]byte(header)) + "." + b64([]byte(claims)) + "." + b64([]byte("not-a-signature-0123456789abcdef"))
}

// The claims as golang-jwt's parser reads them, which ParseToken replaced:
// the same values, and an error for the same tokens, but where the
// comment on parse.go says they differ.
var claimsCases = []string{
	`{"iss":"client-1","qsh":"abc","iat":1714000000,"exp":1714000180}`,
	`{"iss":"client-1","qsh":"abc","iat":1714000000.75,"exp":1.7e9}`,
	`{"iss":"client-1","exp":"1714000180","iat":"1714000000"}`,
	`{"iss":"client-1","exp":"1714000\u0031\u0038\u0030"}`,
	`{"iss":"client-1","exp":-5,"nbf":1714000000}`,
	`{"iss":"cl\u0069ent-\"1\"","qsh":"a\/b","exp":1714000180}`,
	`{"iss":null,"qsh":null,"exp":null,"iat":null,"nbf":null,"aud":null,"sub":null,"jti":null}`,
	`{"iss":"a","iss":"b","exp":1,"exp":2}`,
	`{"iss":"client-1","aud":"x","sub":"y","jti":"z","exp":1714000180}`,
	`{"iss":"client-1","aud":["x","y"],"exp":1714000180}`,
	`{"iss":"client-1","aud":[],"exp":1714000180}`,
	`{"iss":"client-1","aud":"","exp":1714000180}`,
	`{"aud":"x","aud":["y","z"]}`,
	`{"aud":["a\u0062",""],"aud":null}`,
	`{"iss":"a","qsh":"b","iss":null,"qsh":null}`,
	`{"iss":"client-1","context":{"user":{"userKey":"k","exp":"not a date"}},"list":[1,{"a":[]},"]"],"exp":1714000180}`,
	` { "iss" : "client-1" , "exp" : 1714000180 } `,
	`{"\u0069ss":"escaped name","exp":1714000180}`,
	`{}`,
	// Errors.
	`{"iss":1}`,
	`{"qsh":true}`,
	`{"sub":{}}`,
	`{"jti":[]}`,
	`{"exp":"soon"}`,
	`{"exp":""}`,
	`{"exp":" 12"}`,
	`{"iat":true}`,
	`{"nbf":{}}`,
	`{"aud":1}`,
	`{"aud":[1]}`,
	`{"aud":[null]}`,
	`{"iss":"client-1"`,
	`{"iss":"client-1"} x`,
	`[]`,
	`"claims"`,
	``,
}

// dateOf is the time of a date claim as golang-jwt reads it, the zero
// time for none.
func dateOf(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time
}

func TestParseTokenAgreesWithJWT(t *testing.T) {
	for _, c := range claimsCases {
		tok := tokenOf(`{"alg":"HS256","typ":"JWT"}`, c)
		var want Claims
		_, _, wantErr := jwt.NewParser().ParseUnverified(tok, &want)
		got, err := ParseToken(tok)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: ParseToken error %v, golang-jwt's %v", c, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if got.claims.iss != want.Issuer || got.claims.qsh != want.QSH || !slices.Equal(got.Audience(), want.Audience) ||
			!got.claims.exp.Equal(dateOf(want.ExpiresAt)) || !got.claims.iat.Equal(dateOf(want.IssuedAt)) || !got.claims.nbf.Equal(dateOf(want.NotBefore)) {
			t.Errorf("%s:\n got iss %q qsh %q aud %q exp %v iat %v nbf %v\nwant iss %q qsh %q aud %q exp %v iat %v nbf %v", c,
				got.claims.iss, got.claims.qsh, got.Audience(), got.claims.exp, got.claims.iat, got.claims.nbf,
				want.Issuer, want.QSH, want.Audience, dateOf(want.ExpiresAt), dateOf(want.IssuedAt), dateOf(want.NotBefore))
		}
		if got.alg != "HS256" {
			t.Errorf("%s: alg %q", c, got.alg)
		}
	}
}

func TestParseTokenMalformed(t *testing.T) {
	good := tokenOf(`{"alg":"HS256"}`, `{"iss":"a"}`)
	for _, tc := range []struct{ name, token, reason string }{
		{"two segments", "a.b", "invalid number of segments"},
		{"four segments", good + ".x", "invalid number of segments"},
		{"header not base64", "!!." + strings.SplitN(good, ".", 2)[1], "could not base64 decode header"},
		{"claims not base64", strings.Split(good, ".")[0] + ".!!.x", "could not base64 decode claims"},
		{"signature not base64", strings.Join(strings.Split(good, ".")[:2], ".") + ".!!", "could not base64 decode signature"},
		{"header not JSON", tokenOf(`{"alg":`, `{}`), "could not JSON decode header"},
		{"header not an object", tokenOf(`["HS256"]`, `{}`), "could not JSON decode header"},
		{"no alg", tokenOf(`{"typ":"JWT"}`, `{}`), "alg) is unspecified"},
		{"alg not a string", tokenOf(`{"alg":256}`, `{}`), "alg) is not a string"},
		{"claims not an object", tokenOf(`{"alg":"HS256"}`, `[]`), "could not JSON decode claims: not a JSON object"},
		// golang-jwt took null for no claims.
		{"claims null", tokenOf(`{"alg":"HS256"}`, `null`), "could not JSON decode claims: not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseToken(tc.token)
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("got %v, want an error containing %q", err, tc.reason)
			}
		})
	}
	// Where golang-jwt said malformed, an algorithm it does not know is
	// refused as an algorithm.
	tok, err := ParseToken(tokenOf(`{"alg":"XY512"}`, `{}`))
	if err != nil || tok.alg != "XY512" {
		t.Errorf("alg XY512: %+v, %v", tok, err)
	}
}

// FuzzParseToken checks ParseToken against golang-jwt's parser on any
// claims: both refuse the same ones and read the same values (iss, qsh,
// aud and the dates), but where
// names differ from the registered claims only by case (encoding/json
// matched them; claim names are case-sensitive).
func FuzzParseToken(f *testing.F) {
	for _, c := range claimsCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, claims string) {
		lower := strings.ToLower(claims)
		for _, name := range []string{"iss", "qsh", "exp", "iat", "nbf", "aud", "sub", "jti"} {
			if strings.Count(lower, name) != strings.Count(claims, name) || strings.Contains(lower, `\u`) {
				return // a name in another case, or perhaps escaped in another case
			}
		}
		if strings.TrimSpace(claims) == "null" {
			return // no claims: golang-jwt took it, ParseToken does not
		}
		tok := tokenOf(`{"alg":"HS256"}`, claims)
		var want Claims
		_, _, wantErr := jwt.NewParser().ParseUnverified(tok, &want)
		got, err := ParseToken(tok)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: ParseToken error %v, golang-jwt's %v", claims, err, wantErr)
		}
		if err != nil {
			return
		}
		if got.claims.iss != want.Issuer || got.claims.qsh != want.QSH || !slices.Equal(got.Audience(), want.Audience) {
			t.Fatalf("%q: iss %q qsh %q aud %q, golang-jwt read %q %q %q", claims, got.claims.iss, got.claims.qsh, got.Audience(),
				want.Issuer, want.QSH, want.Audience)
		}
		if !got.claims.exp.Equal(dateOf(want.ExpiresAt)) || !got.claims.iat.Equal(dateOf(want.IssuedAt)) || !got.claims.nbf.Equal(dateOf(want.NotBefore)) {
			t.Fatalf("%q: exp %v iat %v nbf %v, golang-jwt read %v %v %v", claims, got.claims.exp, got.claims.iat, got.claims.nbf,
				dateOf(want.ExpiresAt), dateOf(want.IssuedAt), dateOf(want.NotBefore))
		}
	})
}

// A token whose nbf is in the future is refused as one issued in the
// future, also when it has no iat (Verify used to format the iat then,
// and panicked on a nil one).
func TestVerifyNotBefore(t *testing.T) {
	const hookURL = "https://app.example.com/hook"
	opts := verifyOpts("POST", hookURL, "/", t0)
	qsh, _ := RequestQSH("POST", opts.URL, "/")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "client-1", "qsh": qsh, "exp": t0.Add(time.Hour).Unix(), "nbf": t0.Add(time.Minute).Unix(),
	}).SignedString([]byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(tok, opts)
	ve, ok := err.(*VerifyError)
	if !ok || ve.Check != CheckIssuedAt || !strings.Contains(ve.Reason, "not valid before") {
		t.Fatalf("got %v, want an iat failure: not valid before", err)
	}
}

// The headers ParseToken takes without decoding them are HS256 headers.
func TestHS256Headers(t *testing.T) {
	for _, h := range hs256Headers {
		b, err := base64.RawURLEncoding.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		alg, err := headerAlg(b)
		if err != nil || alg != "HS256" {
			t.Errorf("%s is %s: alg %q, %v", h, b, alg, err)
		}
	}
	// And a token with such a header is read as one whose header was
	// decoded.
	tok := tokenOf(`{"typ":"JWT","alg":"HS256"}`, `{"iss":"client-1","exp":1714000180}`)
	if !strings.HasPrefix(tok, hs256Headers[1]+".") {
		t.Fatalf("%s does not start with %s", tok, hs256Headers[1])
	}
	got, err := ParseToken(tok)
	if err != nil || got.alg != "HS256" || got.claims.iss != "client-1" {
		t.Errorf("%+v, %v", got, err)
	}
}
