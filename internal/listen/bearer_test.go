package listen

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The OAuth tenants of the tests: work's app signs the deliveries.
const (
	workClientID  = "work-client-id"
	otherClientID = "other-client-id"
)

var (
	workSecret  = []byte("the-client-secret-of-the-work-app")
	otherSecret = []byte("the-client-secret-of-the-other-app")
)

// oauthTenants returns the Connect tenants of testTenants and the OAuth
// tenants work and other.
func oauthTenants(t testing.TB) *Tenants {
	t.Helper()
	ts := testTenants(t)
	if err := ts.AddOAuth("work", workClientID, workSecret); err != nil {
		t.Fatal(err)
	}
	if err := ts.AddOAuth("other", otherClientID, otherSecret); err != nil {
		t.Fatal(err)
	}
	return ts
}

// bearerJWT signs claims as the sandbox signs an OAuth app's deliveries,
// with method and secret.
func bearerJWT(t testing.TB, method jwt.SigningMethod, secret any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// bearerClaimsAt are the sandbox's claims of a token issued at iat.
func bearerClaimsAt(aud string, iat time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": "jira:5f0d1b2c-cloud", "aud": aud, "sub": "5b10a2844c20165700ede21g",
		"iat": iat.Unix(), "exp": iat.Add(3 * time.Minute).Unix(), "context": map[string]string{"cloudId": "5f0d1b2c-cloud"},
	}
}

// sendBearer sends a delivery with "Authorization: Bearer tok".
func (l *listener) sendBearer(t testing.TB, id, tok string) (*http.Response, string) {
	t.Helper()
	return l.send(t, delivery{body: samplePayload("PRJ-1"), identifier: id, header: http.Header{"Authorization": {"Bearer " + tok}}})
}

// TestBearerDeliveries: a delivery to an OAuth 2.0 app is verified with
// the client secret of an OAuth tenant (HS256 only, the signature, exp and
// iat when present with the leeway); each failure is a 401 with its
// reason, in generic words in the answer.
func TestBearerDeliveries(t *testing.T) {
	now := time.Now()
	l := start(t, Config{Secrets: oauthTenants(t), OAuth: oauthTenants(t), Leeway: DefaultLeeway})
	valid := bearerJWT(t, jwt.SigningMethodHS256, workSecret, bearerClaimsAt(workClientID, now))
	parts := strings.Split(valid, ".")
	head, sig := parts[0], parts[2]
	otherPayload := bearerJWT(t, jwt.SigningMethodHS256, workSecret, bearerClaimsAt("someone-else", now))
	tampered := head + "." + strings.Split(otherPayload, ".")[1] + "." + sig
	none := bearerJWT(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, bearerClaimsAt(workClientID, now))
	// An algorithm no JWT library knows is refused as an algorithm, as
	// for a Connect JWT (golang-jwt's parser called it malformed).
	unknownAlg := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"XY512","typ":"JWT"}`)) + "." + parts[1] + "." + sig
	notYet := bearerClaimsAt(workClientID, now)
	notYet["nbf"] = now.Add(5 * time.Minute).Unix()

	tests := []struct {
		name, token string
		status      int
		check       string
		reason      string // a prefix of it
		answer      string
	}{
		{"valid", valid, 200, "", "", ""},
		{"another tenant's app, aud first", bearerJWT(t, jwt.SigningMethodHS256, otherSecret, bearerClaimsAt(otherClientID, now)), 200, "", "", ""},
		{"no aud, no exp, no iat", bearerJWT(t, jwt.SigningMethodHS256, otherSecret, jwt.MapClaims{"sub": "x"}), 200, "", "", ""},
		{"bad signature", tampered, 401, "signature",
			`bad signature: the Bearer JWT was not signed with the client secret of any of the tenants "other", "work": if the app's client secret changed, log in again with the new one`,
			"invalid JWT: signature\n"},
		{"wrong secret", bearerJWT(t, jwt.SigningMethodHS256, []byte("not-the-client-secret"), bearerClaimsAt(workClientID, now)), 401, "signature",
			`bad signature: the Bearer JWT was not signed with the client secret of any of the tenants "work", "other": `, "invalid JWT: signature\n"},
		{"alg none", none, 401, "alg", `algorithm "none" refused: only HS256 is accepted`, "invalid JWT: alg\n"},
		{"alg HS512", bearerJWT(t, jwt.SigningMethodHS512, workSecret, bearerClaimsAt(workClientID, now)), 401, "alg",
			`algorithm "HS512" refused: only HS256 is accepted`, "invalid JWT: alg\n"},
		{"alg unknown", unknownAlg, 401, "alg", `algorithm "XY512" refused: only HS256 is accepted`, "invalid JWT: alg\n"},
		{"not valid before", bearerJWT(t, jwt.SigningMethodHS256, workSecret, notYet), 401, "iat", "not valid before ", "invalid JWT: iat\n"},
		{"expired", bearerJWT(t, jwt.SigningMethodHS256, workSecret, bearerClaimsAt(workClientID, now.Add(-10*time.Minute))), 401, "exp",
			"expired at ", "invalid JWT: exp\n"},
		{"issued in the future", bearerJWT(t, jwt.SigningMethodHS256, workSecret, bearerClaimsAt(workClientID, now.Add(5*time.Minute))), 401, "iat",
			"issued in the future at ", "invalid JWT: iat\n"},
		{"within the leeway", bearerJWT(t, jwt.SigningMethodHS256, workSecret, bearerClaimsAt(workClientID, now.Add(-3*time.Minute-10*time.Second))), 200, "", "", ""},
		{"not a JWT", "c2VjcmV0LWFjY2Vzcy10b2tlbg", 401, "malformed", "malformed Bearer JWT: ", "invalid JWT: malformed\n"},
		{"empty", "", 401, "missing", `no JWT: expected an "Authorization: Bearer <token>" header with a JWT`, "no JWT\n"},
	}
	for i, tt := range tests {
		resp, body := l.sendBearer(t, fmt.Sprint("bearer-", i), tt.token)
		if resp.StatusCode != tt.status || tt.answer != "" && body != tt.answer {
			t.Errorf("%s: %d %q, want %d %q", tt.name, resp.StatusCode, body, tt.status, tt.answer)
		}
	}
	events := map[string]Event{}
	for _, e := range l.rec.all() {
		switch e := e.(type) {
		case *Delivery:
			events[e.Identifier] = e
		case *Rejected:
			events[e.Identifier] = e
		}
	}
	for i, tt := range tests {
		switch e := events[fmt.Sprint("bearer-", i)].(type) {
		case *Delivery:
			want := "work"
			if strings.Contains(tt.name, "another") || strings.Contains(tt.name, "no aud") {
				want = "other"
			}
			if tt.status != 200 || !e.Verified || e.Tenant != want || e.Kind != KindOAuth || e.Issuer != "" || e.Token != nil {
				t.Errorf("%s: delivery %+v, want verified by oauth tenant %s", tt.name, e, want)
			}
		case *Rejected:
			if e.Status != tt.status || e.Check != tt.check || !strings.HasPrefix(e.Reason, tt.reason) {
				t.Errorf("%s: rejected %d %s: %s\nwant %d %s: %s...", tt.name, e.Status, e.Check, e.Reason, tt.status, tt.check, tt.reason)
			}
		default:
			t.Errorf("%s: no event", tt.name)
		}
	}
}

// TestBearerSecrets: the tenant whose client id is the token's aud is
// tried first, and the others only when it does not verify; a secret that
// cannot be read now is a 503 only when no other tenant's verifies it; a
// listener with no OAuth tenant refuses Bearer deliveries, one with only
// OAuth tenants Connect ones.
func TestBearerSecrets(t *testing.T) {
	down := fmt.Errorf("%w: keyring unavailable: the keyring is locked", ErrSecretUnavailable)
	var asked []string
	secrets := oauthSecretsFunc{
		tenants: []OAuthTenant{{"a", "a-id"}, {"locked", "locked-id"}, {"nosecret", "nosecret-id"}, {"work", workClientID}},
		secret: func(name string) ([]byte, error) {
			asked = append(asked, name)
			switch name {
			case "work":
				return workSecret, nil
			case "locked":
				return nil, down
			case "nosecret":
				return nil, errors.New(`no login stored for tenant "nosecret": log in with 'jwh tenant login nosecret --client-id nosecret-id'`)
			}
			return []byte("the secret of " + name), nil
		},
	}
	l := start(t, Config{Secrets: testTenants(t), OAuth: secrets, Leeway: DefaultLeeway})
	now := time.Now()
	tests := []struct {
		aud    string
		secret []byte
		status int
		asked  string
		reason string
	}{
		{workClientID, workSecret, 200, "work", ""},
		{"", workSecret, 200, "a locked nosecret work", ""},
		{"locked-id", workSecret, 200, "locked a nosecret work", ""},
		{"locked-id", []byte("unknown"), 503, "locked a nosecret work", down.Error()},
		{"nosecret-id", []byte("unknown"), 503, "nosecret a locked work", down.Error()},
	}
	for i, tt := range tests {
		asked = nil
		resp, _ := l.sendBearer(t, fmt.Sprint("s-", i), bearerJWT(t, jwt.SigningMethodHS256, tt.secret, bearerClaimsAt(tt.aud, now)))
		if resp.StatusCode != tt.status || strings.Join(asked, " ") != tt.asked {
			t.Errorf("aud %q: status %d, secrets read %q; want %d, %q", tt.aud, resp.StatusCode, asked, tt.status, tt.asked)
		}
		if tt.status == 503 && resp.Header.Get("Retry-After") != "10" {
			t.Errorf("aud %q: a 503 without Retry-After", tt.aud)
		}
	}

	// Only a tenant without a secret: its own words, 401.
	only := oauthSecretsFunc{tenants: []OAuthTenant{{"nosecret", "nosecret-id"}}, secret: secrets.secret}
	l = start(t, Config{OAuth: only, Leeway: DefaultLeeway})
	resp, body := l.sendBearer(t, "only", bearerJWT(t, jwt.SigningMethodHS256, workSecret, bearerClaimsAt("", now)))
	r := only1[*Rejected](t, l)
	if resp.StatusCode != 401 || body != "cannot verify the JWT\n" || r.Check != CheckSecret || !strings.HasPrefix(r.Reason, `no login stored for tenant "nosecret"`) {
		t.Errorf("no secret: %d %q, rejected %+v", resp.StatusCode, body, r)
	}
	// Connect deliveries to a listener for OAuth tenants only.
	resp, _ = l.send(t, delivery{body: samplePayload("PRJ-1"), identifier: "connect", signer: jiraSigner("/")})
	if resp.StatusCode != 401 || !strings.Contains(last[*Rejected](t, l).Reason, "no Connect tenant is listened for") {
		t.Errorf("a Connect delivery: %d, %+v", resp.StatusCode, last[*Rejected](t, l))
	}

	// No OAuth tenant.
	l = start(t, Config{Leeway: DefaultLeeway})
	resp, body = l.sendBearer(t, "none", bearerJWT(t, jwt.SigningMethodHS256, workSecret, bearerClaimsAt(workClientID, now)))
	r = only1[*Rejected](t, l)
	if resp.StatusCode != 401 || body != "cannot verify the JWT\n" || r.Check != CheckSecret || !strings.Contains(r.Reason, "no OAuth 2.0 tenant is listened for") {
		t.Errorf("no OAuth tenant: %d %q, rejected %+v", resp.StatusCode, body, r)
	}
}

// TestBearerRecordsAndClaims: the record of a Bearer delivery names its
// tenant and kind and keeps the token's header and claims, never its
// signature; with ShowClaims, the events carry them too. Identifiers are
// remembered per tenant.
func TestBearerRecordsAndClaims(t *testing.T) {
	var lines []string
	l := start(t, Config{Secrets: oauthTenants(t), OAuth: oauthTenants(t), Leeway: DefaultLeeway, ShowClaims: true,
		OnRecord: func(r *Record) { lines = append(lines, string(r.AppendLine(nil))) }})
	tok := bearerJWT(t, jwt.SigningMethodHS256, workSecret, bearerClaimsAt(workClientID, time.Now()))
	l.sendBearer(t, "same-id", tok)
	l.sendBearer(t, "same-id", tok)
	l.sendBearer(t, "same-id", bearerJWT(t, jwt.SigningMethodHS256, otherSecret, bearerClaimsAt(otherClientID, time.Now())))
	l.sendBearer(t, "bad", tok+"x")
	if n := count[*Delivery](l.rec); n != 2 {
		t.Errorf("%d deliveries, want 2: the first, and the same identifier for another tenant", n)
	}
	d := first[*Delivery](t, l)
	dup := only1[*Duplicate](t, l)
	rej := only1[*Rejected](t, l)
	for what, a := range map[string]*Authorization{"delivery": d.Token, "duplicate": dup.Token, "rejected": rej.Token} {
		var claims map[string]any
		if a == nil || a.Scheme != "Bearer" || json.Unmarshal(a.Claims, &claims) != nil || claims["aud"] != workClientID || !strings.Contains(string(a.Header), `"HS256"`) {
			t.Errorf("%s: token %+v", what, a)
		}
	}
	if dup.Kind != KindOAuth || dup.Tenant != "work" {
		t.Errorf("duplicate %+v", dup)
	}
	for _, line := range lines {
		if strings.Contains(line, strings.Split(tok, ".")[2]) {
			t.Errorf("a record holds the token's signature: %s", line)
		}
	}
	rec, err := ParseLine([]byte(lines[0]))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Tenant != "work" || rec.Kind != KindOAuth || rec.Verdict != VerdictVerified || rec.Authorization == nil || rec.Authorization.Scheme != "Bearer" {
		t.Errorf("record %+v", rec)
	}
	if !strings.Contains(string(rec.Authorization.Claims), `"aud":"`+workClientID+`"`) {
		t.Errorf("record claims %s", rec.Authorization.Claims)
	}
}

// oauthSecretsFunc is an OAuthSecrets of fixed tenants whose secrets come
// from a func.
type oauthSecretsFunc struct {
	tenants []OAuthTenant
	secret  func(name string) ([]byte, error)
}

func (s oauthSecretsFunc) OAuthTenants() []OAuthTenant              { return s.tenants }
func (s oauthSecretsFunc) ClientSecret(name string) ([]byte, error) { return s.secret(name) }

// only1 is only, for a listener.
func only1[T Event](t *testing.T, l *listener) T {
	t.Helper()
	return only[T](t, l.rec)
}

// first returns the first event of type T.
func first[T Event](t *testing.T, l *listener) T {
	t.Helper()
	for _, e := range l.rec.all() {
		if v, ok := e.(T); ok {
			return v
		}
	}
	t.Fatalf("no %T", *new(T))
	return *new(T)
}

// last returns the last event of type T.
func last[T Event](t *testing.T, l *listener) T {
	t.Helper()
	all := l.rec.all()
	for i := len(all) - 1; i >= 0; i-- {
		if v, ok := all[i].(T); ok {
			return v
		}
	}
	t.Fatalf("no %T", *new(T))
	return *new(T)
}
