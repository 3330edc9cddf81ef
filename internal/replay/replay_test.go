package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwh-cli/jwh/internal/listen"
)

const (
	clientKey = "5e8f3a42-acme-client-key"
	tenant    = "acme"
)

var secret = []byte("the-shared-secret-of-acme")

// app is a Connect app's webhook endpoint: a listen.Server verifying
// deliveries on path, with the app's base path basePath, keeping records.
type app struct {
	url  string
	mu   sync.Mutex
	recs []*listen.Record
}

func newApp(t *testing.T, path, basePath string) *app {
	t.Helper()
	var ts listen.Tenants
	if err := ts.Add(tenant, clientKey, secret); err != nil {
		t.Fatal(err)
	}
	a := &app{}
	srv, err := listen.New(listen.Config{
		Path: path, BasePath: basePath, Secrets: ts, Leeway: listen.DefaultLeeway,
		OnEvent: func(listen.Event) {},
		OnRecord: func(r *listen.Record) {
			rec, err := listen.ParseLine(r.AppendLine(nil))
			if err != nil {
				t.Error(err)
				return
			}
			a.mu.Lock()
			a.recs = append(a.recs, rec)
			a.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	a.url = hs.URL
	return a
}

func (a *app) last(t *testing.T) *listen.Record {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.recs) == 0 {
		t.Fatal("the app received nothing")
	}
	return a.recs[len(a.recs)-1]
}

// recorded is a delivery as jwh listen --save recorded it, long ago, on
// another listener and path.
func recorded() *listen.Record {
	return &listen.Record{
		Seq: 7, Received: time.Now().Add(-48 * time.Hour), Method: "POST", Path: "/hook?a=1&jwt=redacted",
		Listener: "http://127.0.0.1:1",
		Header: http.Header{
			"Content-Type": {"application/json"}, "User-Agent": {"Atlassian Webhook HTTP Client"},
			listen.HeaderIdentifier: {"orig-id"}, listen.HeaderRetry: {"2"}, "Content-Length": {"99"},
			// Headers of the connection Jira's request came on.
			"Connection": {"X-Hop"}, "X-Hop": {"1"}, "Keep-Alive": {"timeout=5"},
		},
		Authorization: &listen.Authorization{Scheme: "JWT", Header: json.RawMessage(`{"alg":"HS256","typ":"JWT"}`),
			Claims: json.RawMessage(`{"iss":"` + clientKey + `","qsh":"old","iat":1,"exp":2}`)},
		Body:   []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"PRJ-1"},"n":12345678901234567890}`),
		Tenant: tenant, Kind: listen.KindConnect, Verdict: listen.VerdictVerified,
		Identifier: "orig-id", Retry: 2, Status: 200, Event: "jira:issue_updated", Issue: "PRJ-1",
	}
}

func connect(string) (Credentials, error) {
	return Credentials{Kind: listen.KindConnect, Issuer: clientKey, Secret: secret}, nil
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestReplayConnect replays a delivery to an app on another path and
// base path than it was received on: the app's own check accepts the
// fresh token, whose qsh is for the target.
func TestReplayConnect(t *testing.T) {
	a := newApp(t, "/myapp/webhooks/jira", "/myapp")
	rec := recorded()
	to := mustURL(t, a.url+"/myapp/webhooks/jira")
	target, err := Target(rec, to)
	if err != nil {
		t.Fatal(err)
	}
	if want := a.url + "/myapp/webhooks/jira?a=1"; target.String() != want {
		t.Errorf("target %s, want %s", target, want)
	}
	p := &Replayer{Credentials: connect, BasePath: "/myapp"}
	res, err := p.Send(context.Background(), rec, target)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || !res.OK() || res.Identifier == "orig-id" || res.Identifier == "" || res.Seq != 7 ||
		res.Event != "jira:issue_updated" || res.Issue != "PRJ-1" || res.Target != target.String() {
		t.Errorf("result %+v", res)
	}
	got := a.last(t)
	if got.Verdict != listen.VerdictVerified || got.Status != 200 {
		t.Fatalf("the app refused the replay: %+v", got)
	}
	if !bytes.Equal(got.Body, rec.Body) {
		t.Errorf("body changed:\n got %s\nwant %s", got.Body, rec.Body)
	}
	if got.Identifier != res.Identifier || got.Retry != 0 || got.Header.Get("User-Agent") != "Atlassian Webhook HTTP Client" {
		t.Errorf("headers %v", got.Header)
	}
	if got.ReplayOf != 0 {
		t.Errorf("replayOf %d without MarkReplayOf", got.ReplayOf)
	}
	for _, name := range []string{"X-Hop", "Keep-Alive"} {
		if got.Header.Get(name) != "" {
			t.Errorf("header %s of the original connection replayed: %v", name, got.Header)
		}
	}

	// The same replay without the app's base path: the qsh is then over
	// the whole path, and the app refuses it, as Jira's would be.
	p.BasePath = ""
	if res, err := p.Send(context.Background(), rec, target); err != nil || res.Status != 401 {
		t.Errorf("without --base-path: %+v, %v; want 401", res, err)
	}
	if got := a.last(t); got.Check != "qsh" {
		t.Errorf("check %q, want qsh", got.Check)
	}
}

func TestReplaySameIdentifier(t *testing.T) {
	a := newApp(t, "/", "/")
	rec := recorded()
	target, err := Target(rec, mustURL(t, a.url))
	if err != nil {
		t.Fatal(err)
	}
	if want := a.url + "/hook?a=1"; target.String() != want {
		t.Errorf("target %s, want %s", target, want)
	}
	target.Path, target.RawQuery = "/", ""
	p := &Replayer{Credentials: connect, SameIdentifier: true, MarkReplayOf: true}
	for i := range 2 {
		res, err := p.Send(context.Background(), rec, target)
		if err != nil || res.Status != 200 || res.Identifier != "orig-id" {
			t.Fatalf("replay %d: %+v, %v", i, res, err)
		}
	}
	got := a.last(t)
	if !got.Duplicate || got.Identifier != "orig-id" || got.Retry != 2 || got.ReplayOf != 7 {
		t.Errorf("the second replay: %+v", got)
	}
}

func TestReplayOAuth(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	rec := recorded()
	rec.Kind = listen.KindOAuth
	rec.Authorization = &listen.Authorization{Scheme: "Bearer", Claims: json.RawMessage(
		`{"iss":"jira:10042","sub":"557058:abc","context":{"baseUrl":"https://acme.atlassian.net"},"iat":1000,"exp":1900}`)}
	clientSecret := []byte("the-client-secret")
	now := time.Now().Truncate(time.Second)
	p := &Replayer{
		Credentials: func(string) (Credentials, error) {
			return Credentials{Kind: listen.KindOAuth, Secret: clientSecret}, nil
		},
		Now: func() time.Time { return now },
	}
	res, err := p.Send(context.Background(), rec, mustURL(t, srv.URL+"/hook"))
	if err != nil || res.Status != 202 {
		t.Fatalf("%+v, %v", res, err)
	}
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		t.Fatalf("Authorization %q", auth)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return clientSecret, nil },
		jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != "jira:10042" || claims["sub"] != "557058:abc" || claims["iat"] != float64(now.Unix()) ||
		claims["exp"] != float64(now.Unix()+900) || claims["context"].(map[string]any)["baseUrl"] != "https://acme.atlassian.net" {
		t.Errorf("claims %v", claims)
	}
}

func TestReplayRefuses(t *testing.T) {
	rec := recorded()
	rec.Body = nil
	p := &Replayer{Credentials: connect}
	if _, err := p.Send(context.Background(), rec, mustURL(t, "http://127.0.0.1:1/")); !errors.Is(err, ErrNoBody) {
		t.Errorf("no body: %v", err)
	}
	missing := errors.New("no shared secret for tenant acme")
	p.Credentials = func(string) (Credentials, error) { return Credentials{}, missing }
	if _, err := p.Send(context.Background(), recorded(), mustURL(t, "http://127.0.0.1:1/")); !errors.Is(err, missing) {
		t.Errorf("credentials: %v", err)
	}
	rec = recorded()
	rec.Listener = ""
	if _, err := Target(rec, nil); err == nil || !strings.Contains(err.Error(), "give a target URL") {
		t.Errorf("Target without a listener: %v", err)
	}
	rec = recorded()
	if u, err := Target(rec, nil); err != nil || u.String() != "http://127.0.0.1:1/hook?a=1" {
		t.Errorf("Target: %v, %v", u, err)
	}
}

func TestCredentialsHideTheSecret(t *testing.T) {
	c := Credentials{Kind: listen.KindConnect, Issuer: "ck", Secret: secret}
	for _, s := range []string{c.String(), c.GoString()} {
		if strings.Contains(s, string(secret)) {
			t.Errorf("%s", s)
		}
	}
}
