package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// downStore is a keyring that cannot be reached.
type downStore struct{}

func (downStore) Get(name string) ([]byte, error) {
	return nil, &KeyringError{Op: "read", Name: name, Err: errors.New("dbus: no session bus")}
}
func (downStore) Set(name string, _ []byte) error {
	return &KeyringError{Op: "store", Name: name, Err: errors.New("dbus: no session bus")}
}
func (downStore) Delete(name string) error {
	return &KeyringError{Op: "delete", Name: name, Err: errors.New("dbus: no session bus")}
}

var loginTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func bundle(clientSecret string) *OAuthSecrets {
	return &OAuthSecrets{
		ClientSecret: clientSecret, RefreshToken: "rt-1", AccessToken: "at-1",
		AccessExpiry: loginTime.Add(time.Hour), RefreshIssued: loginTime, LoginAt: loginTime,
		Scopes: []string{"manage:jira-webhook", "offline_access"},
	}
}

// TestResolverConnect pins the rule for Connect tenants:
// JWH_SHARED_SECRET for the selected tenant only, else the keyring.
func TestResolverConnect(t *testing.T) {
	tests := []struct {
		name       string
		selected   string
		env        map[string]string
		store      SecretStore
		stored     bool // acme's secret is in the store
		want       string
		wantSource string
		wantDetail string
		wantErr    error
		wantMsg    string
	}{
		{name: "selected, environment set", selected: "acme", env: map[string]string{EnvSecret: "from-env"}, stored: true,
			want: "from-env", wantSource: SourceEnvironment, wantDetail: "from JWH_SHARED_SECRET (overrides the keyring)"},
		{name: "selected, environment unset", selected: "acme", stored: true,
			want: "from-keyring", wantSource: SourceKeyring, wantDetail: "stored in keyring (service jwh, user acme)"},
		{name: "another tenant selected: the environment is not acme's", selected: "beta", env: map[string]string{EnvSecret: "from-env"}, stored: true,
			want: "from-keyring", wantSource: SourceKeyring},
		{name: "none selected: the environment is nobody's", selected: "", env: map[string]string{EnvSecret: "from-env"}, stored: true,
			want: "from-keyring", wantSource: SourceKeyring},
		{name: "JWH_CLIENT_SECRET is not a shared secret", selected: "acme", env: map[string]string{EnvClientSecret: "cs"}, stored: true,
			want: "from-keyring", wantSource: SourceKeyring},
		{name: "selected, missing", selected: "acme",
			wantSource: SourceMissing, wantErr: ErrNoSecret,
			wantDetail: "missing: store one with 'jwh tenant add acme' (needs a Secret Service) or set JWH_SHARED_SECRET",
			wantMsg:    `no shared secret for tenant "acme": store one with 'jwh tenant add acme' (needs a Secret Service) or set JWH_SHARED_SECRET`},
		{name: "not selected, missing, environment set", selected: "beta", env: map[string]string{EnvSecret: "from-env"},
			wantSource: SourceMissing, wantErr: ErrNoSecret,
			wantMsg: `no shared secret for tenant "acme": store one with 'jwh tenant add acme' (needs a Secret Service) or set JWH_SHARED_SECRET and select acme (--tenant acme or JWH_TENANT=acme): it stands for the selected tenant only`},
		{name: "selected, keyring down", selected: "acme", store: downStore{},
			wantSource: SourceUnavailable, wantErr: ErrKeyringDown,
			wantMsg: `keyring unavailable: cannot read the secret of tenant "acme": dbus: no session bus; start or unlock a Secret Service (e.g. gnome-keyring), or set JWH_SHARED_SECRET`},
		{name: "not selected, keyring down", selected: "", store: downStore{},
			wantSource: SourceUnavailable, wantErr: ErrKeyringDown,
			wantMsg: `keyring unavailable: cannot read the secret of tenant "acme": dbus: no session bus; start or unlock a Secret Service (e.g. gnome-keyring), or set JWH_SHARED_SECRET and select acme (--tenant acme or JWH_TENANT=acme): it stands for the selected tenant only`},
		{name: "selected, keyring down, environment set", selected: "acme", store: downStore{}, env: map[string]string{EnvSecret: "from-env"},
			want: "from-env", wantSource: SourceEnvironment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := tt.store
			if store == nil {
				store = NewMemoryStore()
				if tt.stored {
					_ = store.Set("acme", []byte("from-keyring"))
				}
			}
			r := &Resolver{Store: store, Getenv: env(tt.env), Selected: tt.selected}
			secret, src, err := r.ConnectSecret(&Tenant{Name: "acme"})
			if src.Kind != tt.wantSource || tt.wantDetail != "" && src.Detail != tt.wantDetail {
				t.Errorf("source %+v, want %s %q", src, tt.wantSource, tt.wantDetail)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || err.Error() != tt.wantMsg {
					t.Fatalf("error\n  %v\nwant %v:\n  %s", err, tt.wantErr, tt.wantMsg)
				}
				if src.Kind == SourceUnavailable && src.Detail != "unknown: "+tt.wantMsg {
					t.Errorf("detail %q", src.Detail)
				}
				return
			}
			if err != nil || string(secret) != tt.want {
				t.Fatalf("got %q, %v; want %q", secret, err, tt.want)
			}
		})
	}
}

// TestResolverOAuth pins the rule for OAuth tenants: the bundle from its
// storage, the client secret from JWH_CLIENT_SECRET for the selected
// tenant only.
func TestResolverOAuth(t *testing.T) {
	keyringTenant := &Tenant{Name: "acme", Kind: KindOAuth, ClientID: "cid", Storage: StorageKeyring}
	fileTenant := &Tenant{Name: "acme", Kind: KindOAuth, ClientID: "cid", Storage: StorageFile}
	tests := []struct {
		name         string
		tenant       *Tenant
		selected     string
		env          map[string]string
		store        SecretStore
		keyringItem  string // stored in the keyring for acme, when set
		fileBundle   bool   // a bundle for acme in credentials.json
		wantStored   string
		wantSecret   string
		wantSecretOf string
		wantErr      error
		wantMsg      string // with PATH for the credentials file
	}{
		{name: "keyring", tenant: keyringTenant, selected: "acme", keyringItem: "bundle",
			wantStored: SourceKeyring, wantSecret: "cs-stored", wantSecretOf: SourceKeyring},
		{name: "keyring, JWH_CLIENT_SECRET for the selected tenant", tenant: keyringTenant, selected: "acme", keyringItem: "bundle",
			env:        map[string]string{EnvClientSecret: "cs-env"},
			wantStored: SourceKeyring, wantSecret: "cs-env", wantSecretOf: SourceEnvironment},
		{name: "keyring, JWH_CLIENT_SECRET of another tenant", tenant: keyringTenant, selected: "beta", keyringItem: "bundle",
			env:        map[string]string{EnvClientSecret: "cs-env"},
			wantStored: SourceKeyring, wantSecret: "cs-stored", wantSecretOf: SourceKeyring},
		{name: "JWH_SHARED_SECRET is not a client secret", tenant: keyringTenant, selected: "acme", keyringItem: "bundle",
			env:        map[string]string{EnvSecret: "shared"},
			wantStored: SourceKeyring, wantSecret: "cs-stored", wantSecretOf: SourceKeyring},
		{name: "file", tenant: fileTenant, selected: "acme", fileBundle: true, store: downStore{},
			wantStored: SourceFile, wantSecret: "cs-stored", wantSecretOf: SourceFile},
		{name: "file, JWH_CLIENT_SECRET", tenant: fileTenant, selected: "acme", fileBundle: true, store: downStore{},
			env:        map[string]string{EnvClientSecret: "cs-env"},
			wantStored: SourceFile, wantSecret: "cs-env", wantSecretOf: SourceEnvironment},
		{name: "keyring, missing", tenant: keyringTenant, selected: "acme",
			wantStored: SourceMissing, wantErr: ErrNoSecret,
			wantMsg: `no login stored for tenant "acme" in the keyring (service jwh, user acme): log in with 'jwh tenant login acme --client-id cid'`},
		{name: "file, missing", tenant: fileTenant, selected: "acme", store: downStore{},
			wantStored: SourceMissing, wantErr: ErrNoSecret,
			wantMsg: `no login stored for tenant "acme" in PATH: log in with 'jwh tenant login acme --client-id cid --no-keyring'`},
		{name: "missing, JWH_CLIENT_SECRET does not make a login", tenant: keyringTenant, selected: "acme",
			env:        map[string]string{EnvClientSecret: "cs-env"},
			wantStored: SourceMissing, wantErr: ErrNoSecret,
			wantMsg: `no login stored for tenant "acme" in the keyring (service jwh, user acme): log in with 'jwh tenant login acme --client-id cid'`},
		{name: "keyring down", tenant: keyringTenant, selected: "acme", store: downStore{},
			wantStored: SourceUnavailable, wantErr: ErrKeyringDown,
			wantMsg: `keyring unavailable: cannot read the secret of tenant "acme": dbus: no session bus; start or unlock a Secret Service (e.g. gnome-keyring), or log in again with 'jwh tenant login acme --client-id cid --no-keyring' to keep its secrets in credentials.json`},
		{name: "keyring item is not a login", tenant: keyringTenant, selected: "acme", keyringItem: "a-connect-secret-TOPSECRET",
			wantStored: SourceMissing, wantErr: ErrNoSecret,
			wantMsg: `the keyring (service jwh, user acme) does not hold an OAuth login of tenant "acme" (not JSON (at byte 1)): log in again with 'jwh tenant login acme --client-id cid'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			credPath := filepath.Join(dir, CredentialsFile)
			store := tt.store
			if store == nil {
				store = NewMemoryStore()
			}
			stored := bundle("cs-stored")
			switch tt.keyringItem {
			case "":
			case "bundle":
				data, _ := encodeSecrets(stored)
				_ = store.Set("acme", data)
			default:
				_ = store.Set("acme", []byte(tt.keyringItem))
			}
			r := &Resolver{Store: store, Getenv: env(tt.env), CredentialsPath: credPath, Selected: tt.selected}
			if tt.fileBundle {
				if err := r.SaveOAuth(fileTenant, stored); err != nil {
					t.Fatal(err)
				}
			}
			l, err := r.OAuth(tt.tenant)
			if l == nil || l.Stored.Kind != tt.wantStored {
				t.Fatalf("login %v, want stored %s (error %v)", l, tt.wantStored, err)
			}
			if tt.wantErr != nil {
				want := strings.ReplaceAll(tt.wantMsg, "PATH", credPath)
				if !errors.Is(err, tt.wantErr) || err.Error() != want {
					t.Fatalf("error\n  %v\nwant %v:\n  %s", err, tt.wantErr, want)
				}
				if l.Secrets != nil || !strings.HasSuffix(l.Stored.Detail, want) {
					t.Errorf("login on error: %v, detail %q", l, l.Stored.Detail)
				}
				if strings.Contains(err.Error(), "TOPSECRET") {
					t.Errorf("the error quotes the keyring item")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.ClientSecret != tt.wantSecret || l.ClientSecretFrom.Kind != tt.wantSecretOf {
				t.Errorf("client secret %q from %+v, want %q from %s", l.ClientSecret, l.ClientSecretFrom, tt.wantSecret, tt.wantSecretOf)
			}
			if l.Secrets.ClientSecret != "cs-stored" || l.Secrets.RefreshToken != "rt-1" || !l.Secrets.AccessExpiry.Equal(stored.AccessExpiry) {
				t.Errorf("the bundle is not the stored one: %+v", *l.Secrets)
			}
			for _, s := range []string{fmtAll(l), fmtAll(*l), fmtAll(l.Secrets), fmtAll(*l.Secrets)} {
				if strings.Contains(s, "cs-") || strings.Contains(s, "rt-1") || strings.Contains(s, "at-1") {
					t.Errorf("formatting shows a secret: %s", s)
				}
			}
		})
	}
}

// TestResolverClientSecret: the client secret of an OAuth tenant, for
// what needs no token, comes from JWH_CLIENT_SECRET for the selected
// tenant even without a stored login; otherwise from the login, whose
// errors it returns.
func TestResolverClientSecret(t *testing.T) {
	tn := &Tenant{Name: "acme", Kind: KindOAuth, ClientID: "cid"}
	store := NewMemoryStore()
	r := &Resolver{Store: store, Getenv: env(map[string]string{EnvClientSecret: "cs-env"}), CredentialsPath: filepath.Join(t.TempDir(), CredentialsFile)}
	if _, src, err := r.ClientSecret(tn); !errors.Is(err, ErrNoSecret) || src.Kind != SourceMissing {
		t.Errorf("not selected, nothing stored: %v, %+v; want ErrNoSecret", err, src)
	}
	r.Selected = "acme"
	if secret, src, err := r.ClientSecret(tn); err != nil || string(secret) != "cs-env" || src.Kind != SourceEnvironment {
		t.Errorf("selected, nothing stored: %q, %+v, %v; want JWH_CLIENT_SECRET", secret, src, err)
	}
	if err := r.SaveOAuth(tn, bundle("cs-stored")); err != nil {
		t.Fatal(err)
	}
	r.Selected = "beta"
	if secret, src, err := r.ClientSecret(tn); err != nil || string(secret) != "cs-stored" || src.Kind != SourceKeyring {
		t.Errorf("not selected, stored: %q, %+v, %v; want the stored one", secret, src, err)
	}
}

// TestResolverConnectSecretOfOAuthTenant: an OAuth tenant's keyring item
// (its bundle) is never taken for a shared secret.
func TestResolverConnectSecretOfOAuthTenant(t *testing.T) {
	store := NewMemoryStore()
	data, _ := encodeSecrets(bundle("cs"))
	_ = store.Set("acme", data)
	r := &Resolver{Store: store, Getenv: env(map[string]string{EnvSecret: "shared"}), Selected: "acme"}
	secret, src, err := r.ConnectSecret(&Tenant{Name: "acme", Kind: KindOAuth})
	if secret != nil || src.Kind != SourceMissing || !errors.Is(err, ErrNoSecret) ||
		err.Error() != `tenant "acme" is an OAuth 2.0 tenant, which has no shared secret` {
		t.Errorf("got %q, %+v, %v", secret, src, err)
	}
}

func TestConfigResolverSelected(t *testing.T) {
	two := &Config{path: "/x/jwh/config.json"}
	two.Put(Tenant{Name: "acme"})
	two.Put(Tenant{Name: "beta"})
	one := &Config{path: "/x/jwh/config.json"}
	one.Put(Tenant{Name: "solo"})
	one.Default = ""
	tests := []struct {
		cfg              *Config
		def, flag, envTn string
		want             string
	}{
		{cfg: two, def: "acme", want: "acme"},
		{cfg: two, def: "acme", envTn: "beta", want: "beta"},
		{cfg: two, def: "acme", envTn: "beta", flag: "acme", want: "acme"},
		{cfg: two, def: "", want: ""},                        // several, none chosen
		{cfg: two, def: "acme", flag: "nope", want: ""},      // names no tenant
		{cfg: two, def: "acme", envTn: "nope", want: ""},     // names no tenant
		{cfg: one, def: "", want: "solo"},                    // the only one
		{cfg: &Config{path: "/x/jwh/config.json"}, want: ""}, // none at all
	}
	for _, tt := range tests {
		if tt.cfg != one {
			tt.cfg.Default = tt.def
		}
		r := tt.cfg.Resolver(NewMemoryStore(), env(map[string]string{EnvTenant: tt.envTn}), tt.flag)
		if r.Selected != tt.want {
			t.Errorf("default %q, --tenant %q, JWH_TENANT %q: selected %q, want %q", tt.def, tt.flag, tt.envTn, r.Selected, tt.want)
		}
		if r.CredentialsPath != "/x/jwh/credentials.json" {
			t.Errorf("credentials path %s", r.CredentialsPath)
		}
	}
}

// TestCredentialsFile: credentials.json is mode 0600, holds one entry
// per tenant, is replaced atomically, and loses no entry when several
// processes (here goroutines, each with its own lock file handle) change
// it at once.
func TestCredentialsFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "jwh")
	path := filepath.Join(dir, CredentialsFile)
	r := &Resolver{Store: downStore{}, Getenv: env(nil), CredentialsPath: path}
	const n = 12
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tn := &Tenant{Name: fmt.Sprintf("t%02d", i), Kind: KindOAuth, Storage: StorageFile}
			errs[i] = r.SaveOAuth(tn, bundle(fmt.Sprintf("cs-%02d", i)))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, %v", di.Mode(), err)
	}
	var cf struct {
		Tenants map[string]map[string]any `json:"tenants"`
	}
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &cf); err != nil || len(cf.Tenants) != n {
		t.Fatalf("file holds %d tenants (%v), want %d:\n%s", len(cf.Tenants), err, n, data)
	}
	if got := cf.Tenants["t03"]["clientSecret"]; got != "cs-03" {
		t.Errorf("t03's client secret is %v", got)
	}
	if got := cf.Tenants["t03"]["accessExpiry"]; got != "2026-03-01T13:00:00Z" {
		t.Errorf("t03's access expiry is %v", got)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}

	// Replacing one entry keeps the others; deleting one deletes only it.
	t3 := &Tenant{Name: "t03", Kind: KindOAuth, Storage: StorageFile, ClientID: "cid"}
	next := bundle("cs-03")
	next.RefreshToken, next.AccessToken = "rt-2", "at-2"
	if err := r.SaveOAuth(t3, next); err != nil {
		t.Fatal(err)
	}
	l, err := r.OAuth(t3)
	if err != nil || l.Secrets.RefreshToken != "rt-2" || l.Secrets.AccessToken != "at-2" {
		t.Fatalf("after replacing: %v, %v", l, err)
	}
	if err := r.DeleteSecrets(t3); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteSecrets(t3); !errors.Is(err, ErrNoSecret) {
		t.Errorf("deleting twice: %v", err)
	}
	if _, err := r.OAuth(t3); !errors.Is(err, ErrNoSecret) {
		t.Errorf("after delete: %v", err)
	}
	if l, err := r.OAuth(&Tenant{Name: "t04", Kind: KindOAuth, Storage: StorageFile}); err != nil || l.Secrets.ClientSecret != "cs-04" {
		t.Errorf("t04 after t03's delete: %v, %v", l, err)
	}
}

func TestCredentialsFileDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), CredentialsFile)
	const content = `{"tenants": {"acme": {"clientSecret": "TOPSECRET"` // cut short
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Store: downStore{}, Getenv: env(nil), CredentialsPath: path}
	tn := &Tenant{Name: "acme", Kind: KindOAuth, Storage: StorageFile}
	var de *DamagedConfigError
	_, err := r.OAuth(tn)
	if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), "credentials file "+path+" is damaged (") || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("read: %v", err)
	}
	if err := r.SaveOAuth(tn, bundle("cs")); !errors.As(err, &de) {
		t.Errorf("save: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != content {
		t.Errorf("the damaged file was replaced: %s", b)
	}
}

func TestSaveOAuthKeyring(t *testing.T) {
	store := NewMemoryStore()
	r := &Resolver{Store: store, Getenv: env(nil), CredentialsPath: filepath.Join(t.TempDir(), CredentialsFile)}
	tn := &Tenant{Name: "acme", Kind: KindOAuth, ClientID: "cid"} // no storage recorded: the keyring
	if err := r.SaveOAuth(tn, bundle("cs")); err != nil {
		t.Fatal(err)
	}
	data, err := store.Get("acme")
	if err != nil {
		t.Fatal(err)
	}
	var item map[string]any
	if err := json.Unmarshal(data, &item); err != nil || item["refreshToken"] != "rt-1" || item["loginAt"] != "2026-03-01T12:00:00Z" {
		t.Errorf("keyring item %s: %v", data, err)
	}
	if _, err := os.Stat(r.CredentialsPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a keyring login wrote the credentials file: %v", err)
	}
	if err := r.DeleteSecrets(tn); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get("acme"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("after delete: %v", err)
	}
	r.Store = downStore{}
	err = r.SaveOAuth(tn, bundle("cs"))
	if !errors.Is(err, ErrKeyringDown) || !strings.Contains(err.Error(), "--no-keyring") {
		t.Errorf("save to a keyring that is down: %v", err)
	}
}

func TestOAuthSecretsNeverPrinted(t *testing.T) {
	s := bundle("CS-TOPSECRET")
	s.RefreshToken, s.AccessToken = "RT-TOPSECRET", "AT-TOPSECRET"
	wrapped := struct {
		Name    string
		Secrets OAuthSecrets
		Ptr     *OAuthSecrets
	}{"acme", *s, s}
	data, err := json.Marshal(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmtAll(s), fmtAll(*s), fmtAll(wrapped), fmt.Sprintf("%x %d %q", *s, s, s), string(data),
		fmt.Errorf("failed with %v", s).Error()} {
		if strings.Contains(out, "TOPSECRET") {
			t.Errorf("printed a secret: %s", out)
		}
	}
	if !strings.Contains(s.String(), "RefreshToken:[redacted]") {
		t.Errorf("String: %s", s)
	}
	if _, err := decodeSecrets([]byte(`{"clientSecret": TOPSECRET}`)); err == nil || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("decode error: %v", err)
	}
}

func TestOAuthSecretsExpiries(t *testing.T) {
	s := bundle("cs")
	if got := s.AbsoluteExpiry(); !got.Equal(loginTime.Add(365 * 24 * time.Hour)) {
		t.Errorf("absolute expiry %s", got)
	}
	if got := s.RefreshExpiry(); !got.Equal(loginTime.Add(90 * 24 * time.Hour)) {
		t.Errorf("refresh expiry %s", got)
	}
	// Refreshed 300 days after the login: the absolute expiry comes first.
	s.RefreshIssued = loginTime.Add(300 * 24 * time.Hour)
	if got := s.RefreshExpiry(); !got.Equal(s.AbsoluteExpiry()) {
		t.Errorf("refresh expiry %s, want the absolute %s", got, s.AbsoluteExpiry())
	}
	s.RefreshToken = ""
	if !s.RefreshExpiry().IsZero() || !s.AbsoluteExpiry().IsZero() {
		t.Error("expiries without a refresh token")
	}
}
