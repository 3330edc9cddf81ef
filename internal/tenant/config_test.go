package tenant

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jwh-cli/jwh/internal/lockedfile"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultConfigPath(t *testing.T) {
	got, err := DefaultConfigPath(env(map[string]string{EnvConfig: "/x/y.json"}))
	if err != nil || got != "/x/y.json" {
		t.Fatalf("with JWH_CONFIG: got %q, %v", got, err)
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	got, err = DefaultConfigPath(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "jwh", "config.json"); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLoadConfigMissingFileIsEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tenants) != 0 || c.Default != "" || c.Path() != path {
		t.Errorf("got %+v, path %q", c, c.Path())
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadConfig created the file: %v", err)
	}
}

func TestLoadConfigDamaged(t *testing.T) {
	for name, content := range map[string]string{
		"not json":   "{not json",
		"truncated":  `{"default": "a", "tenants": [{"name": "a", "baseUrl": "https://a.exa`,
		"wrong type": `{"tenants": {"name": "a"}}`,
		"no name":    `{"tenants": [{"baseUrl": "https://a.example"}]}`,
		"duplicate":  `{"tenants": [{"name": "a"}, {"name": "a"}]}`,
		"too large":  `{"tenants": []}` + strings.Repeat(" ", maxConfigSize),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, "damaged") || !strings.HasSuffix(msg, "fix or remove it") {
				t.Errorf("error %q does not name the path and what to do", msg)
			}
			var de *DamagedConfigError
			if !errors.As(err, &de) || de.Path != path {
				t.Errorf("error %v is not a *DamagedConfigError for %s", err, path)
			}
			// Locking to change it fails the same way, and changes nothing.
			c := &Config{path: path}
			if _, err := c.Lock(context.Background()); !errors.As(err, &de) {
				t.Errorf("Lock: %v, want a *DamagedConfigError", err)
			}
			if err := c.Update(context.Background(), func(*Config) error { return nil }); !errors.As(err, &de) {
				t.Errorf("Update: %v, want a *DamagedConfigError", err)
			}
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Errorf("file changed to %q", b)
			}
		})
	}
}

func TestLoadConfigEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil || len(c.Tenants) != 0 {
		t.Fatalf("got %+v, %v", c, err)
	}
}

func TestLoadConfigUnreadable(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadConfig(dir) // a directory cannot be read as a file
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("got %v, want an error naming %s", err, dir)
	}
}

func TestSaveRoundTripModesAndAtomicity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "jwh")
	path := filepath.Join(dir, "config.json")
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	unlock := lock(t, c)
	c.Put(Tenant{Name: "zeta", BaseURL: "https://zeta.example", AppKey: "app"})
	c.Put(Tenant{Name: "acme", BaseURL: "https://acme.example", AppKey: "app", ClientKey: "ck"})
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	unlock()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode: %v, %v", fi.Mode(), err)
	}
	before, err := os.Stat(path)
	if err != nil || before.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v, %v", before.Mode(), err)
	}

	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Default != "zeta" || len(got.Tenants) != 2 || got.Tenants[0].Name != "acme" || !reflect.DeepEqual(got.Tenants[1], Tenant{Name: "zeta", BaseURL: "https://zeta.example", AppKey: "app"}) {
		t.Errorf("round trip: %+v", got)
	}

	// A loose mode on an existing file is not kept: the new file replaces it.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Stat(path)
	err = got.Update(context.Background(), func(c *Config) error {
		c.Put(Tenant{Name: "beta", BaseURL: "https://beta.example", AppKey: "app"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if after.Mode().Perm() != 0o600 {
		t.Errorf("mode after save over a 0644 file: %v", after.Mode())
	}
	if os.SameFile(old, after) {
		t.Error("Save rewrote the file in place instead of renaming a new one over it")
	}
	if names := dirNames(dir); names != "config.json config.json.lock" {
		t.Errorf("in the directory: %s; want the config and its lock file, no temporary file", names)
	}
}

// lock locks c, failing the test if it cannot.
func lock(t *testing.T, c *Config) (unlock func()) {
	t.Helper()
	unlock, err := c.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return unlock
}

// dirNames lists the names in dir, sorted, separated by spaces.
func dirNames(dir string) string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

func TestSaveFailureLeavesNoTempFileAndOldContent(t *testing.T) {
	dir := t.TempDir()
	// The config path is a directory: the rename fails after the temporary
	// file was written.
	path := filepath.Join(dir, "config.json")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	c := &Config{path: path, locked: true}
	c.Put(Tenant{Name: "a", BaseURL: "https://a.example", AppKey: "k"})
	if err := c.Save(); err == nil {
		t.Fatal("Save over a directory succeeded")
	}
	if names := dirNames(dir); names != "config.json" {
		t.Errorf("left behind: %s", names)
	}

	// A parent that is a file: nothing can be created.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	c = &Config{path: filepath.Join(file, "config.json")}
	if _, err := c.Lock(context.Background()); err == nil {
		t.Fatal("Lock under a file succeeded")
	}
	c.locked = true
	if err := c.Save(); err == nil {
		t.Fatal("Save under a file succeeded")
	}
	if (&Config{}).Save() == nil {
		t.Error("Save without a path succeeded")
	}
}

func TestSaveNeedsTheLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Put(Tenant{Name: "a", BaseURL: "https://a.example", AppKey: "k"})
	if err := c.Save(); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Errorf("Save without the lock: %v", err)
	}
	unlock := lock(t, c)
	if _, err := c.Lock(context.Background()); err == nil {
		t.Error("a second Lock of a locked config succeeded")
	}
	c.Put(Tenant{Name: "a", BaseURL: "https://a.example", AppKey: "k"})
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := c.Save(); err == nil {
		t.Error("Save after unlock succeeded")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// TestLockReadsAgain: two commands load the config at once; each change
// under the lock starts from what the other saved, so none is lost.
func TestLockReadsAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwh", "config.json")
	first, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}

	err = second.Update(context.Background(), func(c *Config) error {
		c.Put(Tenant{Name: "b", BaseURL: "https://b.example", AppKey: "k"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Tenants) != 1 || second.Default != "b" {
		t.Errorf("Update did not update the config in memory: %+v", second)
	}

	unlock := lock(t, first)
	if len(first.Tenants) != 1 || first.Tenants[0].Name != "b" || first.Default != "b" {
		t.Errorf("Lock did not read the file again: %+v", first)
	}
	first.Put(Tenant{Name: "a", BaseURL: "https://a.example", AppKey: "k"})
	if err := first.Save(); err != nil {
		t.Fatal(err)
	}
	unlock()

	err = second.Update(context.Background(), func(c *Config) error { return c.SetDefault("a") })
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Names(), ",") != "a,b" || got.Default != "a" {
		t.Errorf("saved %+v, want tenants a and b, default a", got)
	}
}

func TestUpdateChangeFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Update(context.Background(), func(c *Config) error {
		c.Put(Tenant{Name: "a", BaseURL: "https://a.example", AppKey: "k"})
		return c.SetDefault("nobody")
	})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Update: %v, want change's error", err)
	}
	if len(c.Tenants) != 0 {
		t.Errorf("the config in memory changed: %+v", c)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file was written: %v", err)
	}
}

// TestLockWaitsForAnotherHolder: while another holder (another jwh) has
// the lock, Lock and Update wait; a canceled wait says so.
func TestLockWaitsForAnotherHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	release, err := lockedfile.MutexFor(path).Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &Config{path: path}
	if _, err := c.Lock(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock while another holds the lock: %v", err)
	}
	if err := c.Update(ctx, func(*Config) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update while another holds the lock: %v", err)
	}
}

func TestPutGetRemoveSetDefault(t *testing.T) {
	c := &Config{}
	c.Put(Tenant{Name: "b", AppKey: "1"})
	c.Put(Tenant{Name: "a", AppKey: "1", ClientKey: "ck-a"})
	if c.Default != "b" {
		t.Errorf("first tenant is not the default: %q", c.Default)
	}
	if names := strings.Join(c.Names(), ","); names != "a,b" {
		t.Errorf("names %s, want sorted a,b", names)
	}
	c.Put(Tenant{Name: "a", AppKey: "2"})
	got, err := c.Get("a")
	if err != nil || got.AppKey != "2" || len(c.Tenants) != 2 {
		t.Fatalf("Put did not replace: %+v, %v", got, err)
	}
	got.AppKey = "changed"
	if again, _ := c.Get("a"); again.AppKey != "2" {
		t.Error("Get returned an alias into the config")
	}

	_, err = c.Get("nope")
	if !errors.Is(err, ErrNotFound) || err.Error() != `no such tenant "nope": configured tenants are a, b` {
		t.Errorf("Get(nope): %v", err)
	}
	if err := c.SetDefault("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetDefault(nope): %v", err)
	}
	if err := c.SetDefault("a"); err != nil || c.Default != "a" {
		t.Errorf("SetDefault(a): %v, default %q", err, c.Default)
	}
	if err := c.Remove("a"); err != nil || c.Default != "" || len(c.Tenants) != 1 {
		t.Errorf("Remove(a): %v, default %q, %v", err, c.Default, c.Tenants)
	}
	if err := c.Remove("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove twice: %v", err)
	}
	if err := c.Remove("b"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Get("b")
	if want := `no such tenant "b": no tenants are configured; add one with 'jwh tenant import --file installed.json', 'jwh tenant add NAME --base-url URL --app-key KEY' or 'jwh tenant login --client-id ID'`; err == nil || err.Error() != want {
		t.Errorf("Get on empty config: %v", err)
	}
}

func TestByClientKey(t *testing.T) {
	c := &Config{}
	c.Put(Tenant{Name: "a", ClientKey: "ck-a"})
	c.Put(Tenant{Name: "b"})
	if got, ok := c.ByClientKey("ck-a"); !ok || got.Name != "a" {
		t.Errorf("ByClientKey(ck-a) = %v, %v", got, ok)
	}
	if _, ok := c.ByClientKey(""); ok {
		t.Error("the empty client key matched a tenant without one")
	}
	if _, ok := c.ByClientKey("other"); ok {
		t.Error("unknown client key matched")
	}
}

func TestSelect(t *testing.T) {
	two := func(def string) *Config {
		c := &Config{path: "/cfg.json"}
		c.Put(Tenant{Name: "acme"})
		c.Put(Tenant{Name: "beta"})
		c.Default = def
		return c
	}
	one := &Config{}
	one.Put(Tenant{Name: "solo"})
	one.Default = ""

	tests := []struct {
		name          string
		cfg           *Config
		flag, envName string
		want          string
		wantErr       error
		wantMsg       string
	}{
		{name: "flag wins", cfg: two("acme"), flag: "beta", envName: "acme", want: "beta"},
		{name: "env before default", cfg: two("acme"), envName: "beta", want: "beta"},
		{name: "default", cfg: two("beta"), want: "beta"},
		{name: "only tenant", cfg: one, want: "solo"},
		{name: "flag unknown", cfg: two("acme"), flag: "nope", wantErr: ErrNotFound,
			wantMsg: `no such tenant "nope": configured tenants are acme, beta`},
		{name: "env unknown", cfg: two("acme"), envName: "nope", wantErr: ErrNotFound,
			wantMsg: `no such tenant "nope" (from JWH_TENANT): configured tenants are acme, beta`},
		{name: "default gone", cfg: two("gone"), wantErr: ErrNotFound,
			wantMsg: `no such tenant "gone" (the default tenant in /cfg.json): choose another with 'jwh tenant use NAME'`},
		{name: "ambiguous", cfg: two(""), wantErr: ErrAmbiguous,
			wantMsg: `several tenants and none selected (acme, beta): choose one with --tenant NAME or JWH_TENANT, or set a default with 'jwh tenant use NAME'`},
		{name: "none", cfg: &Config{}, wantErr: ErrNoTenants,
			wantMsg: `no tenants configured: add one with 'jwh tenant import --file installed.json', 'jwh tenant add NAME --base-url URL --app-key KEY' or 'jwh tenant login --client-id ID'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.Select(tt.flag, tt.envName)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || err.Error() != tt.wantMsg {
					t.Fatalf("error %v\nwant %v: %s", err, tt.wantErr, tt.wantMsg)
				}
				return
			}
			if err != nil || got.Name != tt.want {
				t.Fatalf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}
