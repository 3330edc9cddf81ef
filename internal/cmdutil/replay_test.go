package cmdutil

import (
	"cmp"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// countingStore is a memory store that counts its reads.
type countingStore struct {
	tenant.SecretStore
	mu    sync.Mutex
	reads map[string]int
}

func (s *countingStore) Get(name string) ([]byte, error) {
	s.mu.Lock()
	s.reads[name]++
	s.mu.Unlock()
	return s.SecretStore.Get(name)
}

// signerConfig is a config with the Connect tenants acme and globex
// (client keys) and beta (none), the OAuth tenant work, and default as its
// default tenant; their secrets in a counting store.
func signerConfig(t *testing.T, def string) (*tenant.Config, *countingStore) {
	t.Helper()
	cfg, err := tenant.LoadConfig(filepath.Join(t.TempDir(), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Update(context.Background(), func(c *tenant.Config) error {
		c.Put(tenant.Tenant{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "app", ClientKey: "key-acme"})
		c.Put(tenant.Tenant{Name: "globex", BaseURL: "https://globex.atlassian.net", AppKey: "app", ClientKey: "key-globex"})
		c.Put(tenant.Tenant{Name: "beta", BaseURL: "https://beta.atlassian.net", AppKey: "app"})
		c.Put(work)
		c.Default = def
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	store := &countingStore{SecretStore: tenant.NewMemoryStore(), reads: map[string]int{}}
	for _, name := range []string{"acme", "globex", "beta"} {
		store.SecretStore.Set(name, []byte("secret-of-"+name))
	}
	if err := cfg.Resolver(store.SecretStore, nil, "").SaveOAuth(&work, &tenant.OAuthSecrets{ClientSecret: "client-secret-of-work", AccessToken: "at"}); err != nil {
		t.Fatal(err)
	}
	return cfg, store
}

// work is the OAuth tenant of signerConfig, its bundle in the keyring.
var work = tenant.Tenant{Name: "work", Kind: tenant.KindOAuth, ClientID: "cid", CloudID: "c1", SiteURL: "https://work.atlassian.net"}

// TestReplaySigner: which tenant a replay is signed for, and the errors
// (with their exit statuses) when it cannot be signed.
func TestReplaySigner(t *testing.T) {
	verified := func(name string) *listen.Record {
		return &listen.Record{Seq: 7, Tenant: name, Kind: listen.KindConnect, Verdict: listen.VerdictVerified}
	}
	unverified := &listen.Record{Seq: 8, Verdict: listen.VerdictUnverified}
	for _, tt := range []struct {
		name       string
		def        string // the default tenant
		env        map[string]string
		tenantFlag string
		rec        *listen.Record
		kind       string // want these credentials (kind "" is Connect)
		iss        string
		secret     string
		err        string // or this error
		exit       int
	}{
		{name: "the tenant that verified it", def: "acme", rec: verified("globex"), iss: "key-globex", secret: "secret-of-globex"},
		{name: "unverified: the default tenant", def: "acme", rec: unverified, iss: "key-acme", secret: "secret-of-acme"},
		{name: "unverified: JWH_TENANT", def: "acme", env: map[string]string{tenant.EnvTenant: "globex"}, rec: unverified, iss: "key-globex", secret: "secret-of-globex"},
		{name: "--tenant signs every replay", def: "acme", tenantFlag: "globex", rec: verified("acme"), iss: "key-globex", secret: "secret-of-globex"},
		{name: "JWH_SHARED_SECRET is the selected tenant's", def: "acme", env: map[string]string{tenant.EnvSecret: "from-env"}, rec: verified("acme"), iss: "key-acme", secret: "from-env"},
		{name: "JWH_SHARED_SECRET is not another tenant's", def: "acme", env: map[string]string{tenant.EnvSecret: "from-env"}, rec: verified("globex"), iss: "key-globex", secret: "secret-of-globex"},
		{name: "unverified, none selected", rec: unverified, exit: ExitCredentials,
			err: "record 8 was received without verification, so it names no tenant to sign its replay for, and none is selected: choose one with --tenant"},
		{name: "a tenant since removed", def: "acme", rec: verified("gone"), exit: ExitCredentials, err: `record 7 was verified with tenant gone: `},
		{name: "no client key", def: "acme", rec: verified("beta"), exit: ExitCredentials,
			err: "tenant beta has no client key to sign replays with: re-import its installed payload with 'jwh tenant import beta --file installed.json'"},
		{name: "an OAuth delivery", def: "acme", rec: &listen.Record{Seq: 9, Tenant: "work", Kind: listen.KindOAuth, Verdict: listen.VerdictVerified},
			kind: listen.KindOAuth, secret: "client-secret-of-work"},
		{name: "unverified: the selected OAuth tenant", def: "work", rec: unverified, kind: listen.KindOAuth, secret: "client-secret-of-work"},
		{name: "JWH_CLIENT_SECRET is the selected tenant's", def: "work", env: map[string]string{tenant.EnvClientSecret: "from-env"},
			rec: &listen.Record{Seq: 9, Tenant: "work", Kind: listen.KindOAuth}, kind: listen.KindOAuth, secret: "from-env"},
		{name: "JWH_CLIENT_SECRET is not another tenant's", def: "acme", env: map[string]string{tenant.EnvClientSecret: "from-env"},
			rec: &listen.Record{Seq: 9, Tenant: "work", Kind: listen.KindOAuth}, kind: listen.KindOAuth, secret: "client-secret-of-work"},
		{name: "--tenant signs as its kind", def: "acme", tenantFlag: "work", rec: verified("acme"), kind: listen.KindOAuth, secret: "client-secret-of-work"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, store := signerConfig(t, tt.def)
			getenv := func(k string) string { return tt.env[k] }
			s, err := NewReplaySigner(cfg, func() tenant.SecretStore { return store }, getenv, tt.tenantFlag)
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Credentials(tt.rec)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) || ExitCode(err) != tt.exit {
					t.Errorf("error %v (exit %d), want %q (exit %d)", err, ExitCode(err), tt.err, tt.exit)
				}
				return
			}
			kind := cmp.Or(tt.kind, listen.KindConnect)
			if err != nil || c.Kind != kind || c.Issuer != tt.iss || string(c.Secret) != tt.secret {
				t.Errorf("credentials %v (secret %q), %v; want kind %s, iss %s, secret %q", c, c.Secret, err, kind, tt.iss, tt.secret)
			}
		})
	}

	cfg, store := signerConfig(t, "acme")
	if _, err := NewReplaySigner(cfg, func() tenant.SecretStore { return store }, func(string) string { return "" }, "nope"); err == nil || ExitCode(err) != ExitCredentials {
		t.Errorf("--tenant nope: %v (exit %d)", err, ExitCode(err))
	}
}

// TestReplaySignerReadsOnce: the inspector's replays, one after the other
// or at once, read a tenant's secret once.
func TestReplaySignerReadsOnce(t *testing.T) {
	cfg, store := signerConfig(t, "acme")
	s, err := NewReplaySigner(cfg, func() tenant.SecretStore { return store }, func(string) string { return "" }, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.Credentials(&listen.Record{Tenant: "acme", Kind: listen.KindConnect}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := store.reads["acme"]; n != 1 {
		t.Errorf("the secret was read %d times", n)
	}
}
