package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/lockedfile"
)

func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	clock := newClock()
	s, err := Open(path, Options{Clock: clock.Now, RetryScale: fast})
	if err != nil {
		t.Fatal(err)
	}
	ten, err := s.AddTenant(TenantConfig{Name: "sandbox", BasePath: "/", AppBaseURL: "http://127.0.0.1:9/app"})
	if err != nil {
		t.Fatal(err)
	}
	f := listen(t, s, ten, clock)
	addr := strings.TrimPrefix(f.run.URL(), "http://")
	if s.LastAddr() != addr {
		t.Errorf("LastAddr() = %q, want %q", s.LastAddr(), addr)
	}
	rcv := newReceiver(t, 500)
	f.register(`{"url":"` + rcv.url("/hook") + `","webhooks":[
		{"jqlFilter":"project = PRJ","events":["jira:issue_created"],"fieldIdsFilter":["summary"]},
		{"jqlFilter":"status = Done","events":["issue_property_set"],"issuePropertyKeysFilter":["k"]}]}`)
	res := f.trigger(Event{Name: "jira:issue_created", Issue: Issue{Key: "PRJ-1"}})
	if res.Deliveries[0].Outcome != OutcomeFailed {
		t.Fatalf("delivery %+v", res.Deliveries[0])
	}
	if err := f.run.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	s2, err := Open(path, Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ten2, ok := s2.Tenant("sandbox")
	if !ok {
		t.Fatal("the tenant is gone after a restart")
	}
	if ten2.Secret() != ten.Secret() || ten2.ClientKey() != ten.ClientKey() || ten2.AppKey() != ten.AppKey() ||
		ten2.BasePath() != "" || ten2.AppBaseURL() != "http://127.0.0.1:9/app" || ten2.Callback() != rcv.url("/hook") {
		t.Errorf("tenant after a restart: %v, callback %q", ten2, ten2.Callback())
	}
	if s2.LastAddr() != addr {
		t.Errorf("LastAddr() after a restart = %q, want %q", s2.LastAddr(), addr)
	}
	before, after := ten.Webhooks(), ten2.Webhooks()
	if len(after) != 2 {
		t.Fatalf("%d webhooks after a restart, want 2", len(after))
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.JQL != b.JQL || a.URL != b.URL || !a.ExpiresAt.Equal(b.ExpiresAt) ||
			strings.Join(a.Events, ",") != strings.Join(b.Events, ",") ||
			strings.Join(a.FieldIDs, ",") != strings.Join(b.FieldIDs, ",") ||
			strings.Join(a.PropertyKeys, ",") != strings.Join(b.PropertyKeys, ",") || a.Filter == nil {
			t.Errorf("webhook %d: %+v after a restart, was %+v", i, a, b)
		}
	}
	// The restarted sandbox listens where it did, so the tenant's base URL
	// (and a jwh tenant imported from it) still works; the state keeps
	// the failed delivery and numbers webhooks on.
	run2, err := s2.Listen(s2.LastAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer run2.Close()
	if ten2.BaseURL() != f.run.URL() {
		t.Errorf("base URL after a restart %q, want %q", ten2.BaseURL(), f.run.URL())
	}
	g := &fixture{t: t, s: s2, run: run2, ten: ten2, clock: clock, signer: signerFor(ten2).WithClock(clock.Now), client: f.client}
	if got := g.failedList(); len(got) != 1 || got[0].ID != res.Deliveries[0].Identifier {
		t.Errorf("failed deliveries after a restart: %+v", got)
	}
	if reg := g.register(webhooksBody(rcv.url("/hook"), 1)); *reg.Results[0].CreatedWebhookID != 1002 {
		t.Errorf("the next id after a restart is %d, want 1002", *reg.Results[0].CreatedWebhookID)
	}
}

func TestCorruptState(t *testing.T) {
	valid := func(edit func(string) string) string {
		return edit(`{"version":1,"nextWebhookId":1001,"tenants":[{"name":"a","appKey":"k","clientKey":"c","sharedSecret":"s","basePath":"/",` +
			`"callbackUrl":"https://x/h","webhooks":[{"id":1000,"jqlFilter":"project = P","events":["jira:issue_created"],"expirationDate":"2019-07-01T00:00:00Z"}]}]}`)
	}
	for _, tc := range []struct{ name, content, reason string }{
		{"empty", "", "EOF"},
		{"not JSON", "{{", "invalid character"},
		{"truncated", valid(func(s string) string { return s[:len(s)/2] }), "unexpected EOF"},
		{"unknown field", valid(func(s string) string { return strings.Replace(s, `"version":1`, `"version":1,"extra":true`, 1) }), `unknown field "extra"`},
		{"other version", valid(func(s string) string { return strings.Replace(s, `"version":1`, `"version":3`, 1) }), "version 3, expected 2 (or 1)"},
		{"version 2 without oauth", valid(func(s string) string { return strings.Replace(s, `"version":1`, `"version":2`, 1) }), "the oauth app is missing"},
		{"bad filter", valid(func(s string) string { return strings.Replace(s, "project = P", "priority = High", 1) }), "webhook 1000"},
		{"no secret", valid(func(s string) string { return strings.Replace(s, `"sharedSecret":"s"`, `"sharedSecret":""`, 1) }), "sharedSecret"},
		{"id past next", valid(func(s string) string { return strings.Replace(s, `"nextWebhookId":1001`, `"nextWebhookId":1000`, 1) }), "outside"},
		{"bad app base URL", valid(func(s string) string {
			return strings.Replace(s, `"basePath":"/"`, `"basePath":"/","appBaseUrl":"ftp://x"`, 1)
		}), "app base URL"},
		{"data after", valid(func(s string) string { return s + "{}" }), "data after the state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path, Options{})
			if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open: %v; want ErrCorruptState naming the file and %q", err, tc.reason)
			}
			// A failed Open does not keep the state file's lock.
			unlock, err := lockedfile.MutexFor(path).TryLock()
			if err != nil {
				t.Errorf("after a failed Open: %v", err)
			} else {
				unlock()
			}
			if b, _ := os.ReadFile(path); string(b) != tc.content {
				t.Errorf("the corrupt file was changed to %q", b)
			}
		})
	}
	// The valid form opens.
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(valid(func(s string) string { return s })), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ten, ok := s.Tenant("a"); !ok || len(ten.Webhooks()) != 1 {
		t.Errorf("valid state: tenant %v", ten)
	}
}

func TestStateSaveFailureUndoes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	s, err := Open(path, Options{Clock: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	ten, err := s.AddTenant(TenantConfig{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	// A directory where the file was: the rename that saves fails.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	err = ten.RecordFailedDelivery(FailedDelivery{Body: "{}", URL: "https://x", FailureTime: t0})
	if err == nil || !strings.Contains(err.Error(), "saving the state") {
		t.Errorf("RecordFailedDelivery in a read-only directory: %v", err)
	}
	if len(ten.failed) != 0 {
		t.Errorf("the failed delivery stayed although it was not saved")
	}
	if _, err := s.AddTenant(TenantConfig{Name: "b"}); err == nil {
		t.Error("AddTenant saved nothing and did not say so")
	}
	if _, ok := s.Tenant("b"); ok {
		t.Error("the unsaved tenant stayed")
	}
}

// TestRegisterSaveFailure checks that a registration whose state cannot
// be saved is answered 500 and undone, and that one refused in full needs
// no saving.
func TestRegisterSaveFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	clock := newClock()
	s, err := Open(path, Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ten, err := s.AddTenant(TenantConfig{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	f := listen(t, s, ten, clock)
	// A directory where the file was: the rename that saves fails.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}

	r := f.api("POST", "/rest/api/2/webhook", webhooksBody(hook, 1))
	if r.status != 500 || !strings.Contains(r.body, "could not save its state, so nothing changed") {
		t.Errorf("unsaved registration: %d %s", r.status, r.body)
	}
	if len(ten.Webhooks()) != 0 || ten.Callback() != "" {
		t.Errorf("the unsaved registration stayed: %v", ten.Webhooks())
	}
	reg := f.register(`{"url":"` + hook + `","webhooks":[{"jqlFilter":"project = PRJ","events":["no_such_event"]}]}`)
	if len(reg.Results) != 1 || reg.Results[0].CreatedWebhookID != nil || len(reg.Results[0].Errors) == 0 {
		t.Errorf("refused registration: %+v", reg)
	}
	// The id of the unsaved webhook is given again.
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if reg := f.register(webhooksBody(hook, 1)); len(reg.Results) != 1 || reg.Results[0].CreatedWebhookID == nil || *reg.Results[0].CreatedWebhookID != 1000 {
		t.Errorf("registration once the state saves: %+v", reg)
	}
}

func TestThrottlingOptions(t *testing.T) {
	f := start(t, Options{Leading429: 2, RetryAfter: 1500 * time.Millisecond}, TenantConfig{Name: "acme"})
	// Unverified requests do not count.
	f.do(nil, "GET", f.ten.BasePath()+"/rest/api/2/webhook", "").want(t, 401, "")
	for i := range 2 {
		r := f.api("GET", "/rest/api/2/webhook", "")
		r.want(t, 429, "")
		if r.header.Get("Retry-After") != "2" {
			t.Errorf("429 number %d: Retry-After %q, want 2", i+1, r.header.Get("Retry-After"))
		}
	}
	f.api("GET", "/rest/api/2/webhook", "").want(t, 200, "")

	g := start(t, Options{Rate503: 1}, TenantConfig{Name: "acme"})
	r := g.api("GET", "/rest/api/2/webhook", "")
	r.want(t, 503, "")
	if r.header.Get("Retry-After") != "0" {
		t.Errorf("503 Retry-After %q", r.header.Get("Retry-After"))
	}
	// A rate of one half answers both ways over a few requests, the same
	// way for the same seed.
	outcomes := func() string {
		h := start(t, Options{Rate503: 0.5, Seed: 42}, TenantConfig{Name: "acme"})
		var b strings.Builder
		for range 20 {
			if h.api("GET", "/rest/api/2/webhook", "").status == http.StatusServiceUnavailable {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b := outcomes(), outcomes()
	if a != b || !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Errorf("Rate503 0.5 with one seed: %s then %s", a, b)
	}

	d := start(t, Options{}, TenantConfig{Name: "acme"})
	d.ten.Deny(http.StatusForbidden)
	d.api("GET", "/rest/api/2/webhook", "").want(t, 403, "")
	d.ten.Deny(http.StatusUnauthorized)
	d.api("GET", "/rest/api/2/webhook", "").want(t, 401, "")
	d.ten.Deny(0)
	d.api("GET", "/rest/api/2/webhook", "").want(t, 200, "")

	var mu sync.Mutex
	var seen []Request
	l := start(t, Options{Latency: time.Millisecond, OnRequest: func(r Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r)
	}}, TenantConfig{Name: "acme"})
	l.api("GET", "/rest/api/2/webhook", "").want(t, 200, "")
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0].Status != 200 || !seen[0].Verified {
		t.Errorf("OnRequest saw %+v", seen)
	}
}

// TestStateInUse: while one sandbox has a state file open, another cannot
// open it (it would overwrite the first one's changes); Close releases it.
func TestStateInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	first, err := Open(path, Options{Clock: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.AddTenant(TenantConfig{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	_, err = Open(path, Options{})
	want := "sandbox: state file in use: another sandbox has " + path + " open (it holds " + path + ".lock): stop that sandbox, or use another state file"
	if !errors.Is(err, ErrStateInUse) || err.Error() != want {
		t.Errorf("second Open: %v\nwant %s", err, want)
	}
	if b, _ := os.ReadFile(path); string(b) != string(before) {
		t.Errorf("the second Open changed the state file")
	}

	first.Close()
	first.Close() // a second Close does nothing
	if _, err := first.AddTenant(TenantConfig{Name: "b"}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("AddTenant after Close: %v, want an error: the state is no longer saved", err)
	}
	second, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open after the first sandbox closed: %v", err)
	}
	defer second.Close()
	if _, ok := second.Tenant("a"); !ok {
		t.Error("the state of the first sandbox is gone")
	}
	if _, ok := second.Tenant("b"); ok {
		t.Error("a change after Close was saved")
	}

	New(Options{}).Close() // a sandbox in memory has nothing to close
}

// TestStatePrunesOldFailures: failed deliveries older than Jira's 72 h
// are dropped when the state is read and when it is saved.
func TestStatePrunesOldFailures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	clock := newClock()
	s, err := Open(path, Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ten, err := s.AddTenant(TenantConfig{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []FailedDelivery{
		{ID: "old", Body: "{}", URL: "https://x/h", FailureTime: t0.Add(-FailedRetention - time.Millisecond)},
		{ID: "edge", Body: "{}", URL: "https://x/h", FailureTime: t0.Add(-FailedRetention)},
		{ID: "new", Body: "{}", URL: "https://x/h", FailureTime: t0.Add(-time.Hour)},
	} {
		if err := ten.RecordFailedDelivery(f); err != nil {
			t.Fatal(err)
		}
	}
	if got := savedFailures(t, path); got != "edge new" {
		t.Errorf("saved failed deliveries %q, want the two within 72 hours", got)
	}

	// A day later, a save drops the one that has aged out.
	clock.Advance(24 * time.Hour)
	if err := ten.RecordFailedDelivery(FailedDelivery{ID: "later", Body: "{}", URL: "https://x/h", FailureTime: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := savedFailures(t, path); got != "new later" {
		t.Errorf("saved failed deliveries %q, want new and later", got)
	}
	s.Close()

	// Read back three days on, only the latest is kept.
	clock.Advance(FailedRetention - time.Minute)
	s2, err := Open(path, Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ten2, _ := s2.Tenant("a")
	var ids []string
	for _, f := range ten2.failed {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, " ") != "later" {
		t.Errorf("failed deliveries after reading the state: %v, want later", ids)
	}
}

// savedFailures returns the ids of the failed deliveries in the state
// file, in order.
func savedFailures(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ts := range st.Tenants {
		for _, f := range ts.FailedDeliveries {
			ids = append(ids, f.ID)
		}
	}
	return strings.Join(ids, " ")
}

// TestOAuthStateSurvivesRestart: the OAuth app, the cloud ids, the logins
// and the OAuth app's webhooks are kept, so logins go on working after a
// restart; the file holds no token.
func TestOAuthStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	clock := newClock()
	opts := Options{Clock: clock.Now, RetryScale: fast, OAuth: OAuthOptions{RefreshReuseInterval: -1}}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	ten, err := s.AddTenant(TenantConfig{Name: "acme", CloudID: "cloud-acme"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddCallbackURL("http://127.0.0.1:9999/cb"); err != nil {
		t.Fatal(err)
	}
	app := s.OAuthApp()
	f := listen(t, s, ten, clock)
	// The fixture's helpers use the test app's credentials: use this one's.
	code := func(user string) string {
		q := f.callback(f.get(AuthorizePath + "?" + authorizeQuery("client_id", app.ClientID, "approve", user).Encode()))
		return q.Get("code")
	}
	form := func(grant, key, value string) url.Values {
		return url.Values{"grant_type": {grant}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, key: {value}, "redirect_uri": {testRedirect}}
	}
	alice := f.tokenForm(form("authorization_code", "code", code("alice"))).ok(t)
	rotated := f.tokenForm(form("authorization_code", "code", code("bob"))).ok(t)
	bob := f.tokenForm(form("refresh_token", "refresh_token", rotated.RefreshToken)).ok(t)
	f.gwRegister(alice.AccessToken, webhooksBody(hook, 2))
	f.register(webhooksBody(hook, 1))
	if err := f.run.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{alice.AccessToken, alice.RefreshToken, bob.AccessToken, bob.RefreshToken, rotated.RefreshToken} {
		if strings.Contains(string(b), tok) {
			t.Errorf("the state file holds a token")
		}
	}
	if !strings.Contains(string(b), `"version": 2`) || !strings.Contains(string(b), `"clientSecret": "`+app.ClientSecret+`"`) {
		t.Errorf("state file:\n%s", b)
	}

	s2, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := s2.OAuthApp(); got.ClientID != app.ClientID || got.ClientSecret != app.ClientSecret || !slices.Equal(got.CallbackURLs, app.CallbackURLs) {
		t.Errorf("app after a restart %v, want %v", got, app)
	}
	ten2, _ := s2.Tenant("acme")
	if ten2.CloudID() != "cloud-acme" || ten2.OAuthCallback() != hook || len(ten2.Webhooks()) != 1 {
		t.Errorf("tenant after a restart %v", ten2)
	}
	hooks := ten2.OAuthWebhooks()
	if len(hooks) != 2 || hooks[0].User != "alice" || hooks[0].ID != 1000 || hooks[1].ID != 1001 || hooks[0].URL != hook {
		t.Errorf("OAuth webhooks after a restart %+v", hooks)
	}
	g := listen(t, s2, ten2, clock)
	if ids := g.gwList(alice.AccessToken).ids(); !slices.Equal(ids, []int64{1000, 1001}) {
		t.Errorf("alice lists %v after a restart", ids)
	}
	g.gw(bob.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 200, "")
	g.tokenForm(form("refresh_token", "refresh_token", alice.RefreshToken)).ok(t)
	// The rotation is remembered: the rotated token revokes bob's login.
	g.tokenForm(form("refresh_token", "refresh_token", rotated.RefreshToken)).fails(t, 403, "invalid_grant")
	g.gw(bob.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 401, "")
	if ids, _ := g.register(webhooksBody(hook, 1)).created(); !slices.Equal(ids, []int64{1003}) {
		t.Errorf("the next id after a restart: %v, want 1003", ids)
	}
}

// TestStateVersion1: a state file of version 1 is read, given an OAuth
// app and cloud ids, and saved as version 2 at once, so they stay the
// same.
func TestStateVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	v1 := `{"version":1,"nextWebhookId":1001,"tenants":[{"name":"a","appKey":"k","clientKey":"c","sharedSecret":"s","basePath":"/",` +
		`"callbackUrl":"https://x/h","webhooks":[{"id":1000,"jqlFilter":"project = P","events":["jira:issue_created"],"expirationDate":"2019-07-01T00:00:00Z"}]}]}`
	if err := os.WriteFile(path, []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ten, _ := s.Tenant("a")
	cloud, app := ten.CloudID(), s.OAuthApp()
	if len(cloud) != 36 || len(ten.Webhooks()) != 1 || app.ClientID == "" {
		t.Errorf("after reading version 1: cloud id %q, %d webhooks, app %v", cloud, len(ten.Webhooks()), app)
	}
	s.Close()
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), `"version": 2`) {
		t.Errorf("not saved as version 2:\n%s", b)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ten, _ = s.Tenant("a")
	if ten.CloudID() != cloud || s.OAuthApp().ClientSecret != app.ClientSecret {
		t.Errorf("cloud id %q and app %v changed on the second start", ten.CloudID(), s.OAuthApp())
	}
}

func TestCorruptOAuthState(t *testing.T) {
	valid := func(edit func(string) string) string {
		return edit(`{"version":2,"nextWebhookId":1002,"tenants":[{"name":"a","appKey":"k","clientKey":"c","sharedSecret":"s","basePath":"/","webhooks":[],` +
			`"cloudId":"cloud-a","oauthCallbackUrl":"https://x/h","oauthWebhooks":[{"id":1000,"jqlFilter":"project = P","events":["jira:issue_created"],"expirationDate":"2019-07-01T00:00:00Z","user":"alice"}]}],` +
			`"oauth":{"clientId":"id","clientSecret":"secret","callbackUrls":["http://localhost:8976/callback"],"logins":[{"id":"l1","user":"alice","scopes":["offline_access"],"loginAt":"2019-06-01T00:00:00Z",` +
			`"refreshTokens":[{"sha256":"` + strings.Repeat("a", 64) + `","issued":"2019-06-01T00:00:00Z"}],"accessTokens":[{"sha256":"` + strings.Repeat("b", 64) + `","expires":"2019-06-01T01:00:00Z"}]}]}}`)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte(valid(func(s string) string { return s })), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("the valid file: %v", err)
	}
	s.Close()
	for _, tc := range []struct{ name, content, reason string }{
		{"no cloud id", valid(func(s string) string { return strings.Replace(s, `"cloudId":"cloud-a",`, "", 1) }), "cloudId is required"},
		{"no client secret", valid(func(s string) string { return strings.Replace(s, `"clientSecret":"secret"`, `"clientSecret":""`, 1) }), "clientSecret"},
		{"bad callback", valid(func(s string) string { return strings.Replace(s, `"http://localhost:8976/callback"`, `"ftp://x"`, 1) }), "callback URL"},
		{"webhooks without callback", valid(func(s string) string { return strings.Replace(s, `"oauthCallbackUrl":"https://x/h",`, "", 1) }), "oauthCallbackUrl"},
		{"webhook without user", valid(func(s string) string { return strings.Replace(s, `,"user":"alice"}`, `}`, 1) }), "a user name is required"},
		{"webhook id used twice", valid(func(s string) string {
			return strings.Replace(s, `"webhooks":[]`, `"callbackUrl":"https://x/h","webhooks":[{"id":1000,"jqlFilter":"project = P","events":["jira:issue_created"],"expirationDate":"2019-07-01T00:00:00Z"}]`, 1)
		}), "webhook id 1000 is used twice"},
		{"bad token hash", valid(func(s string) string { return strings.Replace(s, strings.Repeat("a", 64), "abc", 1) }), "64 hex digits"},
		{"login twice", valid(func(s string) string {
			return strings.Replace(s, `"logins":[`, `"logins":[{"id":"l1","user":"bob","scopes":["x"],"loginAt":"2019-06-01T00:00:00Z"},`, 1)
		}), "used twice"},
		{"version 1 with oauth", valid(func(s string) string { return strings.Replace(s, `"version":2`, `"version":1`, 1) }), "version 1 has no oauth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path, Options{})
			if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Open: %v; want ErrCorruptState and %q", err, tc.reason)
			}
		})
	}
}
