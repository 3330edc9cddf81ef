package connectjwt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type vector struct {
	Method    string `json:"method"`
	BaseURL   string `json:"baseUrl"`
	URL       string `json:"url"`
	Canonical string `json:"canonical"`
	QSH       string `json:"qsh"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	data, err := os.ReadFile("testdata/qsh-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	if len(vs) != 31 {
		t.Fatalf("want 31 vectors, have %d", len(vs))
	}
	for _, v := range vs {
		t.Run(v.Method+" "+v.URL, func(t *testing.T) {
			u, err := url.Parse(v.URL)
			if err != nil {
				t.Fatal(err)
			}
			base, err := url.Parse(v.BaseURL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := CanonicalRequest(v.Method, u, base.Path)
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Canonical {
				t.Errorf("canonical:\n got %s\nwant %s", got, v.Canonical)
			}
			if h := QSH(got); h != v.QSH {
				t.Errorf("qsh: got %s, want %s", h, v.QSH)
			}
		})
	}
}

func TestCanonicalPathSegments(t *testing.T) {
	tests := []struct{ path, base, want string }{
		{"/jira/rest/x", "/jira", "/rest/x"},
		{"/jirafoo/rest/x", "/jira", "/jirafoo/rest/x"},
		{"/jira", "/jira/", "/"},
		{"/rest/x/", "", "/rest/x"},
		{"", "", "/"},
		{"/a&b", "", "/a%26b"},
		{"/jira/a", "jira", "/a"},
	}
	for _, tt := range tests {
		if got := CanonicalPath(tt.path, tt.base); got != tt.want {
			t.Errorf("CanonicalPath(%q, %q) = %q, want %q", tt.path, tt.base, got, tt.want)
		}
	}
}

// Vectors for ';' in a query. They are derived, not part of the reference
// set in testdata/qsh-vectors.json: written from how atlassian-jwt
// canonicalises (Node's querystring splits pairs on '&' only, so a ';' stays
// in its key or value and is percent-encoded there; Go's url.ParseQuery
// refuses it), then checked against atlassian-jwt 2.0.3's
// createCanonicalRequest and createQueryStringHash.
func TestSemicolonInQuery(t *testing.T) {
	for _, tc := range []struct{ url, canonical, qsh string }{
		{"/rest/api/2/myself?a=1;b=2", "GET&/rest/api/2/myself&a=1%3Bb%3D2", "00f5e2c79709bf8621df31f377d0c448d8d3842354eac24ff6cb886e155d377d"},
		{"/rest/api/2/myself?c=3&a=1;b=2", "GET&/rest/api/2/myself&a=1%3Bb%3D2&c=3", "1fa088cc42845e785e00238e109f9faa36198e21df6cc34a94621d78952cad30"},
		{"/rest/api/2/myself?a;b", "GET&/rest/api/2/myself&a%3Bb=", "60629716ddfc5d631c854255f2275f9b99cfd72c9ca65a58a82cef7db6bf4657"},
		{"/rest/api/2/myself?;=x&a=%3B", "GET&/rest/api/2/myself&%3B=x&a=%3B", "386b69c431d514d5d25bd12a67608d7fc19e519a66dfac2211127b63233f5ac8"},
		{"/rest/api/2/myself?a=2;&a=1", "GET&/rest/api/2/myself&a=1,2%3B", "ff1686cb8df2e4f22bc21fdc15f946a6181a97959f96d364a11fa14b2a781eb5"},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := CanonicalRequest("GET", u, "")
		if err != nil || got != tc.canonical {
			t.Errorf("%s: canonical %q, %v; want %q", tc.url, got, err, tc.canonical)
		}
		if h := QSH(got); h != tc.qsh {
			t.Errorf("%s: qsh %s, want %s", tc.url, h, tc.qsh)
		}
	}
}

func TestCanonicalQueryMalformed(t *testing.T) {
	if _, err := CanonicalQuery("a=%zz&b=1"); err == nil {
		t.Fatal("malformed query accepted: the pair would be dropped silently")
	}
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func verifyOpts(method, rawURL, basePath string, now time.Time) VerifyOptions {
	u, _ := url.Parse(rawURL)
	return VerifyOptions{
		Method: method, URL: u, BasePath: basePath, Leeway: 30 * time.Second, Now: fixed(now),
		Secret: func(iss string) ([]byte, bool) {
			if iss == "client-1" {
				return []byte("s3cret"), true
			}
			return nil, false
		},
	}
}

func TestSignVerify(t *testing.T) {
	s := NewSigner("client-1", []byte("s3cret"), "/jira").WithClock(fixed(t0))
	u, _ := url.Parse("http://127.0.0.1:8080/jira/rest/api/2/search?jql=project+%3D+%22A+B%22&fields=summary,key")
	tok, err := s.Sign("get", u)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(tok, verifyOpts("GET", u.String(), "/jira", t0.Add(time.Minute)))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.Issuer != "client-1" || v.Canonical != "GET&/rest/api/2/search&fields=summary%2Ckey&jql=project%20%3D%20%22A%20B%22" {
		t.Errorf("verified = %+v", v)
	}
	if !v.ExpiresAt.Equal(t0.Add(DefaultTTL)) {
		t.Errorf("exp = %v, want %v", v.ExpiresAt, t0.Add(DefaultTTL))
	}
}

func TestVerifyFailures(t *testing.T) {
	const hookURL = "https://app.example.com/hook"
	u, _ := url.Parse(hookURL)
	good := NewSigner("client-1", []byte("s3cret"), "/").WithClock(fixed(t0))
	sign := func(s *Signer, method string) string {
		tok, err := s.Sign(method, u)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	rawClaims := func(c jwt.MapClaims, m jwt.SigningMethod, key any) string {
		tok, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	qsh, _ := RequestQSH("POST", u, "/")
	tests := []struct {
		name   string
		token  string
		now    time.Time
		check  Check
		reason string
	}{
		{"missing", "", t0, CheckMissing, "no JWT"},
		{"garbage", "not-a-jwt", t0, CheckMalformed, "malformed JWT"},
		{"alg none", rawClaims(jwt.MapClaims{"iss": "client-1", "qsh": qsh, "iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix()}, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType), t0, CheckAlg, `algorithm "none" refused`},
		{"alg HS512", rawClaims(jwt.MapClaims{"iss": "client-1", "qsh": qsh, "iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix()}, jwt.SigningMethodHS512, []byte("s3cret")), t0, CheckAlg, `algorithm "HS512" refused`},
		{"unknown iss", sign(NewSigner("client-2", []byte("s3cret"), "/").WithClock(fixed(t0)), "POST"), t0, CheckIssuer, `unknown issuer "client-2"`},
		{"no iss", rawClaims(jwt.MapClaims{"qsh": qsh, "iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix()}, jwt.SigningMethodHS256, []byte("s3cret")), t0, CheckIssuer, "no iss"},
		{"bad signature", sign(NewSigner("client-1", []byte("other"), "/").WithClock(fixed(t0)), "POST"), t0, CheckSignature, "bad signature"},
		{"expired", sign(good, "POST"), t0.Add(DefaultTTL + time.Minute), CheckExpiry, "expired at"},
		{"expired within leeway", sign(good, "POST"), t0.Add(DefaultTTL + 20*time.Second), "", ""},
		{"no exp", rawClaims(jwt.MapClaims{"iss": "client-1", "qsh": qsh, "iat": t0.Unix()}, jwt.SigningMethodHS256, []byte("s3cret")), t0, CheckExpiry, "no exp"},
		{"future iat", sign(good, "POST"), t0.Add(-time.Minute), CheckIssuedAt, "issued in the future"},
		{"future iat within leeway", sign(good, "POST"), t0.Add(-10 * time.Second), "", ""},
		{"wrong qsh", sign(good, "GET"), t0, CheckQSH, "qsh mismatch: expected " + qsh + " for POST&/hook&"},
		{"context qsh", rawClaims(jwt.MapClaims{"iss": "client-1", "qsh": "context-qsh", "iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix()}, jwt.SigningMethodHS256, []byte("s3cret")), t0, CheckQSH, "iframe context tokens"},
		{"no qsh", rawClaims(jwt.MapClaims{"iss": "client-1", "iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix()}, jwt.SigningMethodHS256, []byte("s3cret")), t0, CheckQSH, "no qsh claim"},
	}
	// The same checks with the secret given as a Key, as the listener
	// gives it.
	key := NewKey([]byte("s3cret"))
	withKey := func(opts VerifyOptions) VerifyOptions {
		opts.Secret = nil
		opts.Key = func(iss string) (*Key, bool) { return key, iss == "client-1" }
		return opts
	}
	for _, tt := range tests {
		for _, opts := range []VerifyOptions{verifyOpts("POST", hookURL, "/", tt.now), withKey(verifyOpts("POST", hookURL, "/", tt.now))} {
			name := tt.name
			if opts.Key != nil {
				name += " with a Key"
			}
			t.Run(name, func(t *testing.T) {
				_, err := Verify(tt.token, opts)
				if tt.check == "" {
					if err != nil {
						t.Fatalf("want success, got %v", err)
					}
					return
				}
				var ve *VerifyError
				if !errors.As(err, &ve) {
					t.Fatalf("want *VerifyError, got %v", err)
				}
				if ve.Check != tt.check || !strings.Contains(ve.Reason, tt.reason) {
					t.Errorf("got check %q reason %q; want %q containing %q", ve.Check, ve.Reason, tt.check, tt.reason)
				}
			})
		}
	}
}

// A Key verifies tokens from many goroutines at once, and never prints
// its secret.
func TestKey(t *testing.T) {
	secret := []byte("hunter2-secret")
	key := NewKey(secret)
	secret[0] = 'X' // NewKey keeps a copy
	u, _ := url.Parse("/hook")
	opts := verifyOpts("POST", "/hook", "/", t0)
	opts.Secret, opts.Key = nil, func(string) (*Key, bool) { return key, true }
	good, _ := NewSigner("client-1", []byte("hunter2-secret"), "/").WithClock(fixed(t0)).Sign("POST", u)
	bad, _ := NewSigner("client-1", []byte("another"), "/").WithClock(fixed(t0)).Sign("POST", u)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if _, err := Verify(good, opts); err != nil {
					t.Errorf("good token: %v", err)
					return
				}
				if _, err := Verify(bad, opts); err == nil {
					t.Error("a token signed with another secret passed")
					return
				}
			}
		})
	}
	wg.Wait()
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmtSprintf(f, key); strings.Contains(out, "hunter2") {
			t.Errorf("%s prints the secret: %s", f, out)
		}
	}
}

// With MaxLifetime, Verify checks iat and exp as Jira checks the tokens of
// an app: both present, both numbers, and at most MaxLifetime apart.
func TestVerifyLifetime(t *testing.T) {
	const hookURL = "https://app.example.com/hook"
	u, _ := url.Parse(hookURL)
	qsh, _ := RequestQSH("POST", u, "/")
	// signed encodes claims as written, strings included, and signs them.
	signed := func(claims string) string {
		b64 := base64.RawURLEncoding.EncodeToString
		head := b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64([]byte(claims))
		sig, err := jwt.SigningMethodHS256.Sign(head, []byte("s3cret"))
		if err != nil {
			t.Fatal(err)
		}
		return head + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	claims := func(iat, exp string) string {
		c := `{"iss":"client-1","qsh":"` + qsh + `"`
		if iat != "" {
			c += `,"iat":` + iat
		}
		if exp != "" {
			c += `,"exp":` + exp
		}
		return c + "}"
	}
	now := t0.Unix()
	num := func(d time.Duration) string { return fmt.Sprint(now + int64(d/time.Second)) }
	for _, tc := range []struct {
		name     string
		iat, exp string
		check    Check
		reason   string
	}{
		{"3 minutes", num(0), num(3 * time.Minute), "", ""},
		{"an hour", num(-30 * time.Minute), num(30 * time.Minute), "", ""},
		{"as floats", num(0) + ".5", num(time.Minute) + ".25", "", ""},
		{"an hour and a second", num(-30 * time.Minute), num(30*time.Minute + time.Second), CheckExpiry, "exp is 1h0m1s after iat: Jira accepts tokens that live at most 1h0m0s"},
		{"a day", num(-time.Minute), num(24 * time.Hour), CheckExpiry, "exp is 24h1m0s after iat"},
		{"no iat", "", num(time.Minute), CheckIssuedAt, "iat is missing: Jira requires"},
		{"null iat", "null", num(time.Minute), CheckIssuedAt, "iat is missing"},
		{"no exp", num(0), "", CheckExpiry, "exp is missing: Jira requires"},
		{"iat as a string", `"` + num(0) + `"`, num(time.Minute), CheckIssuedAt, `iat is not a number ("` + num(0) + `")`},
		{"exp as a string", num(0), `"` + num(time.Minute) + `"`, CheckExpiry, `exp is not a number ("`},
		{"exp as a date", num(0), `"2026-11-23T12:01:00Z"`, CheckExpiry, "exp is not a number"},
		{"iat as an object", `{"s":1}`, num(time.Minute), CheckIssuedAt, `iat is not a number ({"s":1})`},
		{"iat as a bool", `true`, num(time.Minute), CheckIssuedAt, "iat is not a number (true)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := verifyOpts("POST", hookURL, "/", t0)
			opts.MaxLifetime = time.Hour
			_, err := Verify(signed(claims(tc.iat, tc.exp)), opts)
			if tc.check == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Check != tc.check || !strings.Contains(ve.Reason, tc.reason) {
				t.Fatalf("got %v; want check %q with a reason containing %q", err, tc.check, tc.reason)
			}
		})
	}
	// Without MaxLifetime, a day-long token and one without iat pass, as
	// Jira's own tokens are checked by listen.
	for _, c := range []string{claims(num(-time.Minute), num(24*time.Hour)), claims("", num(time.Minute))} {
		if _, err := Verify(signed(c), verifyOpts("POST", hookURL, "/", t0)); err != nil {
			t.Errorf("%s without MaxLifetime: %v", c, err)
		}
	}
}

func TestSignerHidesSecret(t *testing.T) {
	s := NewSigner("app", []byte("hunter2-secret"), "/")
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmtSprintf(f, s); strings.Contains(out, "hunter2") {
			t.Errorf("%s prints the secret: %s", f, out)
		}
	}
}

func FuzzCanonicalRequest(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Method, v.URL, v.BaseURL)
	}
	f.Add("GET", "/a/%2F/b?x=%41&x=&&=&y", "/a")
	f.Add("post", "http://h/jira/?jwt=x&jwt=y", "http://h/jira")
	f.Add("GET", "/rest/api/2/myself?a=1;b=2&c=%3B", "")
	f.Fuzz(func(t *testing.T, method, rawURL, base string) {
		if strings.Contains(method, "&") {
			return // the separator cannot be part of a method
		}
		u, err := url.Parse(rawURL)
		if err != nil {
			return
		}
		bu, err := url.Parse(base)
		if err != nil {
			return
		}
		c, err := CanonicalRequest(method, u, bu.Path)
		if err != nil {
			return
		}
		// Canonicalisation is stable: the path is a fixed point, and the
		// same parameters encoded another way (Go's own encoding, in another
		// order, with + for space) give the same canonical query.
		m, rest, _ := strings.Cut(c, "&")
		p, q, _ := strings.Cut(rest, "&")
		if m != strings.ToUpper(method) {
			t.Fatalf("method %q became %q", method, m)
		}
		if !strings.HasPrefix(p, "/") {
			t.Fatalf("path %q does not start with /", p)
		}
		// Only one trailing slash is dropped, so "/a//" keeps one.
		if p2 := CanonicalPath(p, ""); p2 != p && !strings.HasSuffix(p, "/") {
			t.Fatalf("path not stable: %q -> %q", p, p2)
		}
		params, err := parseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("the query %q canonicalised but does not parse: %v", u.RawQuery, err)
		}
		q2, err := CanonicalQuery(params.Encode())
		if err != nil {
			t.Fatalf("re-encoded query %q does not parse: %v", params.Encode(), err)
		}
		if q2 != q {
			t.Fatalf("query not stable: %q -> %q", q, q2)
		}
		if !strings.Contains(q, ",") {
			if q3, err := CanonicalQuery(q); err != nil || q3 != q {
				t.Fatalf("canonical query %q is not a fixed point: %q, %v", q, q3, err)
			}
		}
	})
}
