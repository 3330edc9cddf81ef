package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/tenant"
)

// memStore is a Store in memory: these tests need no token endpoint (the
// refreshes themselves are tested against the sandbox, in
// sandbox_test.go).
type memStore struct {
	mu     sync.Mutex
	lock   sync.Mutex
	stored *tenant.OAuthSecrets
	loads  int
	saves  int
	locks  int
}

func (m *memStore) Load() (*tenant.OAuthSecrets, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	return m.stored.Clone(), nil
}

func (m *memStore) Save(b *tenant.OAuthSecrets) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	m.stored = b.Clone()
	return nil
}

func (m *memStore) Lock(context.Context) (func(), error) {
	m.lock.Lock()
	m.mu.Lock()
	m.locks++
	m.mu.Unlock()
	return m.lock.Unlock, nil
}

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func testTenant() *tenant.Tenant {
	return &tenant.Tenant{Name: "acme", Kind: tenant.KindOAuth, ClientID: "cid"}
}

func newTestSource(b *tenant.OAuthSecrets, store *memStore, now time.Time, warn func(string)) *Source {
	return NewSource(SourceConfig{
		Tenant: testTenant(), App: &App{ClientID: "cid", AuthURL: "https://auth.invalid", APIURL: "https://api.invalid"},
		Secrets: b, Store: store, Now: func() time.Time { return now }, Warn: warn,
	})
}

func authorized(t *testing.T, s *Source) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "https://api.invalid/ex/jira/c/rest/api/2/webhook", nil)
	if err := s.Authorize(req); err != nil {
		t.Fatal(err)
	}
	return req.Header.Get("Authorization")
}

func TestSourceUsesTheCachedToken(t *testing.T) {
	b := &tenant.OAuthSecrets{AccessToken: "at-1", AccessExpiry: t0.Add(61 * time.Second), RefreshToken: "rt-1", LoginAt: t0}
	store := &memStore{stored: b}
	s := newTestSource(b, store, t0, nil)
	for range 3 {
		if got := authorized(t, s); got != "Bearer at-1" {
			t.Fatalf("Authorization %q", got)
		}
	}
	if store.loads+store.saves+store.locks != 0 {
		t.Errorf("the store was used (%d loads, %d saves, %d locks) for a token valid for 61 s more", store.loads, store.saves, store.locks)
	}
}

// TestSourceTakesAnotherProcesssToken: a token that expires within 60 s
// is not used; inside the lock, a token that another process stored since
// is taken instead of refreshing (the App has no token endpoint here: a
// refresh would fail).
func TestSourceTakesAnotherProcesssToken(t *testing.T) {
	mine := &tenant.OAuthSecrets{AccessToken: "at-1", AccessExpiry: t0.Add(59 * time.Second), RefreshToken: "rt-1", LoginAt: t0}
	theirs := &tenant.OAuthSecrets{AccessToken: "at-2", AccessExpiry: t0.Add(30 * time.Second), RefreshToken: "rt-2", LoginAt: t0}
	store := &memStore{stored: theirs}
	s := newTestSource(mine, store, t0, nil)
	if got := authorized(t, s); got != "Bearer at-2" {
		t.Fatalf("Authorization %q, want the token stored by the other process", got)
	}
	if store.locks != 1 || store.loads != 1 || store.saves != 0 {
		t.Errorf("%d locks, %d loads, %d saves", store.locks, store.loads, store.saves)
	}
}

func TestSourceWithoutRefreshToken(t *testing.T) {
	b := &tenant.OAuthSecrets{AccessToken: "at-1", AccessExpiry: t0.Add(-time.Minute), LoginAt: t0.Add(-time.Hour)}
	s := newTestSource(b, &memStore{stored: b}, t0, nil)
	req, _ := http.NewRequest("GET", "https://api.invalid/x", nil)
	err := s.Authorize(req)
	want := "the access token of tenant acme expired at 2026-06-01T11:59:00Z and there is no refresh token (offline_access was not granted); run: jwh tenant login acme --client-id cid"
	var oe *Error
	if !errors.Is(err, ErrLoginExpired) || err.Error() != want || !errors.As(err, &oe) || oe.TenantName() != "acme" {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("the request was authorized")
	}
	// A 401 on a token that cannot be refreshed: nothing to try.
	req.Header.Set("Authorization", "Bearer at-1")
	if ok, err := s.Reauthorize(req); ok || err != nil {
		t.Errorf("Reauthorize without a refresh token: %v, %v", ok, err)
	}
}

// TestSourceReauthorizeAfterAnotherRequestRefreshed: a request that was
// sent with a token this Source has replaced since gets the new one
// without another refresh.
func TestSourceReauthorizeAfterAnotherRequestRefreshed(t *testing.T) {
	b := &tenant.OAuthSecrets{AccessToken: "at-2", AccessExpiry: t0.Add(time.Hour), RefreshToken: "rt-2", LoginAt: t0}
	store := &memStore{stored: b}
	s := newTestSource(b, store, t0, nil)
	sent, _ := http.NewRequest("GET", "https://api.invalid/x", nil)
	sent.Header.Set("Authorization", "Bearer at-1")
	ok, err := s.Reauthorize(sent)
	if !ok || err != nil || store.locks != 0 {
		t.Fatalf("Reauthorize: %v, %v after %d locks", ok, err, store.locks)
	}
	if got := authorized(t, s); got != "Bearer at-2" {
		t.Errorf("Authorization %q", got)
	}
}

func TestSourceWarnsBeforeTheLoginEnds(t *testing.T) {
	login := t0.Add(-352 * 24 * time.Hour) // ends in 13 days
	b := &tenant.OAuthSecrets{AccessToken: "at", AccessExpiry: t0.Add(time.Hour), RefreshToken: "rt", LoginAt: login}
	var warnings []string
	s := newTestSource(b, &memStore{stored: b}, t0, func(m string) { warnings = append(warnings, m) })
	authorized(t, s)
	authorized(t, s)
	want := "the login of tenant acme ends on 2026-06-14 12:00 UTC (365 days after consent, Atlassian's limit): log in again before then: jwh tenant login acme --client-id cid"
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings %q\nwant once %q", warnings, want)
	}
	// 15 days ahead: no warning.
	warnings = nil
	b.LoginAt = t0.Add(-350 * 24 * time.Hour)
	authorized(t, newTestSource(b, &memStore{stored: b}, t0, func(m string) { warnings = append(warnings, m) }))
	if len(warnings) != 0 {
		t.Errorf("warned 15 days ahead: %q", warnings)
	}
}

func TestSourceNeverPrintsASecret(t *testing.T) {
	b := &tenant.OAuthSecrets{ClientSecret: "CS-TOPSECRET", AccessToken: "AT-TOPSECRET", RefreshToken: "RT-TOPSECRET", AccessExpiry: t0}
	s := newTestSource(b, &memStore{stored: b}, t0, nil)
	for _, out := range []string{s.String(), s.GoString()} {
		if strings.Contains(out, "TOPSECRET") {
			t.Errorf("printed a secret: %s", out)
		}
	}
}
