package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwh-cli/jwh/internal/connectjwt"
)

func TestJWTChecks(t *testing.T) {
	f := start(t, Options{}, TenantConfig{Name: "jira", BasePath: "/jira"})
	secret := []byte(f.ten.Secret())
	const path = "/jira/rest/api/2/webhook"
	tokenFor := func(s *connectjwt.Signer, method, target string) string {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Sign(method, u)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	b64 := base64.RawURLEncoding.EncodeToString
	// withClaims signs a token for GET path whose payload holds these
	// iat and exp, written as given (omitted when "").
	qsh := connectjwt.QSH("GET&/rest/api/2/webhook&")
	withClaims := func(iat, exp string) string {
		payload := `{"iss":"` + f.ten.AppKey() + `","qsh":"` + qsh + `"`
		if iat != "" {
			payload += `,"iat":` + iat
		}
		if exp != "" {
			payload += `,"exp":` + exp
		}
		head := b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64([]byte(payload+"}"))
		sig, err := jwt.SigningMethodHS256.Sign(head, secret)
		if err != nil {
			t.Fatal(err)
		}
		return "JWT " + head + "." + b64(sig)
	}
	now := t0.Unix()
	at := func(d time.Duration) string { return strconv.FormatInt(now+int64(d/time.Second), 10) }
	for _, tc := range []struct {
		name   string
		target string
		auth   string // the Authorization header
		check  connectjwt.Check
		reason string // a part of the reason; "" when the JWT must verify
	}{
		{name: "valid", target: path, auth: "JWT " + tokenFor(f.signer, "GET", path)},
		{name: "valid as a query parameter", target: path + "?startAt=0&jwt=" + tokenFor(f.signer, "GET", path+"?startAt=0")},
		{name: "iat within the leeway", target: path, auth: "JWT " + tokenFor(f.signer.WithClock(func() time.Time { return f.clock.Now().Add(20 * time.Second) }), "GET", path)},
		{name: "missing", target: path, check: connectjwt.CheckMissing, reason: "no JWT"},
		{name: "other scheme", target: path, auth: "Bearer abc", check: connectjwt.CheckMissing, reason: "no JWT"},
		{name: "malformed", target: path, auth: "JWT not-a-token", check: connectjwt.CheckMalformed, reason: "malformed JWT"},
		{name: "alg none", target: path, auth: "JWT " + b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64([]byte(`{"iss":"jwh-sandbox-app"}`)) + ".",
			check: connectjwt.CheckAlg, reason: `algorithm "none" refused`},
		{name: "wrong secret", target: path, auth: "JWT " + tokenFor(connectjwt.NewSigner(f.ten.AppKey(), []byte("wrong"), "/jira").WithClock(f.clock.Now), "GET", path),
			check: connectjwt.CheckSignature, reason: "bad signature"},
		{name: "unknown issuer", target: path, auth: "JWT " + tokenFor(connectjwt.NewSigner("other-app", secret, "/jira").WithClock(f.clock.Now), "GET", path),
			check: connectjwt.CheckIssuer, reason: `unknown issuer "other-app": the app installed on this tenant has the key "jwh-sandbox-app"`},
		{name: "qsh for another path", target: path, auth: "JWT " + tokenFor(f.signer, "GET", "/jira/rest/api/2/myself"),
			check: connectjwt.CheckQSH, reason: "qsh mismatch: expected"},
		{name: "qsh for another method", target: path, auth: "JWT " + tokenFor(f.signer, "DELETE", path),
			check: connectjwt.CheckQSH, reason: "for GET&/rest/api/2/webhook&"},
		{name: "qsh without the query", target: path + "?startAt=1", auth: "JWT " + tokenFor(f.signer, "GET", path),
			check: connectjwt.CheckQSH, reason: "for GET&/rest/api/2/webhook&startAt=1"},
		{name: "signed without the context path", target: path, auth: "JWT " + tokenFor(connectjwt.NewSigner(f.ten.AppKey(), secret, "").WithClock(f.clock.Now), "GET", path),
			check: connectjwt.CheckQSH, reason: "qsh mismatch"},
		{name: "expired", target: path, auth: "JWT " + tokenFor(f.signer.WithClock(func() time.Time { return f.clock.Now().Add(-10 * time.Minute) }), "GET", path),
			check: connectjwt.CheckExpiry, reason: "expired at"},
		{name: "issued in the future", target: path, auth: "JWT " + tokenFor(f.signer.WithClock(func() time.Time { return f.clock.Now().Add(2 * time.Minute) }), "GET", path),
			check: connectjwt.CheckIssuedAt, reason: "issued in the future"},
		{name: "an hour long", target: path, auth: withClaims(at(-59*time.Minute), at(time.Minute))},
		{name: "longer than an hour", target: path, auth: withClaims(at(-time.Minute), at(time.Hour)),
			check: connectjwt.CheckExpiry, reason: "exp is 1h1m0s after iat: Jira accepts tokens that live at most 1h0m0s"},
		{name: "signed for a day by jwh token --ttl 24h", target: path, auth: "JWT " + tokenFor(f.signer.WithTTL(24*time.Hour), "GET", path),
			check: connectjwt.CheckExpiry, reason: "exp is 24h0m0s after iat"},
		{name: "no iat", target: path, auth: withClaims("", at(time.Minute)),
			check: connectjwt.CheckIssuedAt, reason: "iat is missing"},
		{name: "no exp", target: path, auth: withClaims(at(0), ""),
			check: connectjwt.CheckExpiry, reason: "exp is missing"},
		{name: "iat as a string of digits", target: path, auth: withClaims(`"`+at(0)+`"`, at(time.Minute)),
			check: connectjwt.CheckIssuedAt, reason: "iat is not a number"},
		{name: "exp as a date", target: path, auth: withClaims(at(0), `"2019-06-01T12:45:30Z"`),
			check: connectjwt.CheckExpiry, reason: "exp is not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.s.ResetRequests()
			req, err := http.NewRequest("GET", f.run.URL()+tc.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			r := f.send(req)
			log := f.s.Requests()
			if len(log) != 1 {
				t.Fatalf("%d requests logged, want 1", len(log))
			}
			rec := log[0]
			if rec.Tenant != "jira" || rec.Method != "GET" || rec.Path != "/jira/rest/api/2/webhook" || rec.Status != r.status || !rec.Time.Equal(t0) {
				t.Errorf("log entry %+v", rec)
			}
			if tc.reason == "" {
				if r.status != 200 || !rec.Verified || rec.Check != "" || rec.Reason != "" {
					t.Fatalf("status %d, log %+v; want 200 and verified", r.status, rec)
				}
				return
			}
			r.want(t, 401, `{"errorMessages":[`+jsonString(t, "JWT verification failed: "+rec.Reason)+`],"errors":{}}`)
			if rec.Verified || rec.Check != tc.check || !strings.Contains(rec.Reason, tc.reason) {
				t.Errorf("log: verified %v, check %q, reason %q; want check %q and a reason with %q", rec.Verified, rec.Check, rec.Reason, tc.check, tc.reason)
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			// Each case resets the log: look at this one's reason here.
			if strings.Contains(rec.Reason, f.ten.Secret()) || strings.Contains(r.body, f.ten.Secret()) {
				t.Error("the reason holds the shared secret")
			}
		})
	}
}

func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
