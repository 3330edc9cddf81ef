package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jwh-cli/jwh/internal/atomicfile"
	"github.com/jwh-cli/jwh/internal/lockedfile"
)

// maxConfigSize bounds the config file; a real one is a few kilobytes.
const maxConfigSize = 4 << 20

// DefaultConfigPath returns the path of the config file: $JWH_CONFIG when
// set, else jwh/config.json under os.UserConfigDir ($XDG_CONFIG_HOME or
// ~/.config on Linux).
func DefaultConfigPath(getenv func(string) string) (string, error) {
	if p := getenv(EnvConfig); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot locate the config directory (%v): set %s to the path of jwh's config file", err, EnvConfig)
	}
	return filepath.Join(dir, "jwh", "config.json"), nil
}

// Config is the config file: the tenants and which one is the default. It
// never holds a shared secret. The zero value of an unsaved Config has no
// path; use LoadConfig.
type Config struct {
	// Default is the name of the default tenant, or empty.
	Default string `json:"default,omitempty"`
	// Tenants are kept sorted by name.
	Tenants []Tenant `json:"tenants"`

	path   string
	locked bool // between Lock and its unlock
}

// LoadConfig reads the config file at path. A missing file is an empty
// config (saved there by Save); a file that cannot be read is an error
// naming the path, and one that cannot be parsed a *DamagedConfigError, so
// that a damaged config is never silently replaced by an empty one.
//
// Reading takes no lock: the file is only ever replaced whole, so a reader
// sees one saved version or the next. A command that changes the config
// uses Lock or Update, which read it again inside the lock.
func LoadConfig(path string) (*Config, error) {
	if path == "" {
		return nil, errors.New("no config file path")
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxConfigSize+1)); err != nil {
		return nil, fmt.Errorf("read config file %s: %w", path, err)
	}
	return parseConfig(path, buf.Bytes())
}

// parseConfig parses the content of the config file at path; empty
// content is an empty config.
func parseConfig(path string, data []byte) (*Config, error) {
	c := &Config{path: path}
	if len(data) > maxConfigSize {
		return nil, &DamagedConfigError{Path: path, Reason: fmt.Sprintf("larger than %d bytes", maxConfigSize)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, &DamagedConfigError{Path: path, Reason: err.Error()}
	}
	seen := make(map[string]bool, len(c.Tenants))
	for i, t := range c.Tenants {
		if t.Name == "" {
			return nil, &DamagedConfigError{Path: path, Reason: fmt.Sprintf("tenant %d has no name", i+1)}
		}
		if seen[t.Name] {
			return nil, &DamagedConfigError{Path: path, Reason: fmt.Sprintf("tenant %q appears twice", t.Name)}
		}
		seen[t.Name] = true
	}
	c.sort()
	return c, nil
}

// DamagedConfigError reports a config file (or credentials file) that
// exists but cannot be used: not JSON, a tenant without a name or named
// twice, far too large.
// The file is left as it is, for the user to fix or remove; the command
// layer treats it as bad input.
type DamagedConfigError struct {
	Path   string
	Reason string // what is wrong, e.g. "unexpected end of JSON input"
	// File says which file it is, "config file" when empty; the
	// credentials file of OAuth tenants is judged the same way.
	File string
}

func (e *DamagedConfigError) Error() string {
	file := e.File
	if file == "" {
		file = "config file"
	}
	return fmt.Sprintf("%s %s is damaged (%s): fix or remove it", file, e.Path, e.Reason)
}

// Path returns the path the config is read from and saved to.
func (c *Config) Path() string { return c.path }

// Lock takes the config file's cross-process lock (a file next to it with
// ".lock" added to its name, such as config.json.lock; see package
// lockedfile), waiting up to lockedfile.DefaultWait for another jwh to
// finish its change, and reads the file again into c: a change made now
// starts from what the last writer saved, so it cannot undo another
// process's change. It creates the config's directory (mode 0700) if
// needed. Save works only between Lock and the call of the unlock func it
// returns. Keyring changes that go with a config change belong inside the
// lock too, so that no process sees one without the other. When the wait
// runs out the error is a *lockedfile.TimeoutError.
func (c *Config) Lock(ctx context.Context) (unlock func(), err error) {
	if c.path == "" {
		return nil, errors.New("lock config: no path (use LoadConfig)")
	}
	if c.locked {
		return nil, fmt.Errorf("lock config %s: already locked", c.path)
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return nil, fmt.Errorf("lock config: %w", err)
	}
	release, err := lockedfile.MutexFor(c.path).Lock(ctx)
	if err != nil {
		return nil, err
	}
	fresh, err := LoadConfig(c.path)
	if err != nil {
		release()
		return nil, err
	}
	*c = *fresh
	c.locked = true
	return func() {
		c.locked = false
		release()
	}, nil
}

// Update changes the config file under its lock, for changes that involve
// nothing but the file: it reads the file inside the lock, calls change
// with what it holds, and saves the result; c then holds it too. If change
// returns an error, nothing is written, c is left as it was, and Update
// returns that error. (A change that goes with a keyring change uses Lock
// and Save, so that it can undo the keyring change if the save fails.)
func (c *Config) Update(ctx context.Context, change func(*Config) error) error {
	if c.path == "" {
		return errors.New("update config: no path (use LoadConfig)")
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("update config: %w", err)
	}
	var changed *Config
	err := lockedfile.MutexFor(c.path).Update(ctx, func(old []byte) ([]byte, error) {
		fresh, err := parseConfig(c.path, old)
		if err != nil {
			return nil, err
		}
		if err := change(fresh); err != nil {
			return nil, err
		}
		data, err := fresh.encode()
		if err != nil {
			return nil, err
		}
		changed = fresh
		return data, nil
	})
	if err != nil {
		if changed != nil {
			return fmt.Errorf("save config: %w", err)
		}
		return err
	}
	*c = *changed
	return nil
}

// Save writes the config atomically: to a temporary file in the same
// directory, synced, then renamed over the config file, with mode 0600.
// It must be called with the lock held (see Lock), so that it never
// overwrites a change it has not read.
func (c *Config) Save() error {
	if c.path == "" {
		return errors.New("save config: no path (use LoadConfig)")
	}
	if !c.locked {
		return fmt.Errorf("save config %s: not locked (use Config.Lock or Config.Update)", c.path)
	}
	data, err := c.encode()
	if err != nil {
		return err
	}
	if err := atomicfile.WritePrivate(c.path, data); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// encode returns the content of the config file.
func (c *Config) encode() ([]byte, error) {
	c.sort()
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("save config: %w", err)
	}
	return append(data, '\n'), nil
}

func (c *Config) sort() {
	slices.SortFunc(c.Tenants, func(a, b Tenant) int { return strings.Compare(a.Name, b.Name) })
}

// Names returns the tenant names in order.
func (c *Config) Names() []string {
	names := make([]string, len(c.Tenants))
	for i, t := range c.Tenants {
		names[i] = t.Name
	}
	return names
}

func (c *Config) index(name string) int {
	return slices.IndexFunc(c.Tenants, func(t Tenant) bool { return t.Name == name })
}

// Get returns a copy of the tenant called name, or an error wrapping
// ErrNotFound that lists the configured tenants.
func (c *Config) Get(name string) (*Tenant, error) {
	i := c.index(name)
	if i < 0 {
		return nil, c.notFound(name, "")
	}
	t := c.Tenants[i]
	return &t, nil
}

func (c *Config) notFound(name, via string) error {
	if via != "" {
		via = " (" + via + ")"
	}
	if len(c.Tenants) == 0 {
		return fmt.Errorf("%w %q%s: no tenants are configured; %s", ErrNotFound, name, via, AddTenantHint)
	}
	return fmt.Errorf("%w %q%s: configured tenants are %s", ErrNotFound, name, via, strings.Join(c.Names(), ", "))
}

// Put adds t, or replaces the tenant of the same name. The first tenant of
// a config without a default becomes the default.
func (c *Config) Put(t Tenant) {
	if i := c.index(t.Name); i >= 0 {
		c.Tenants[i] = t
	} else {
		c.Tenants = append(c.Tenants, t)
		c.sort()
	}
	if c.Default == "" {
		c.Default = t.Name
	}
}

// Remove removes the tenant called name; if it was the default, there is
// no default any more.
func (c *Config) Remove(name string) error {
	i := c.index(name)
	if i < 0 {
		return c.notFound(name, "")
	}
	c.Tenants = slices.Delete(c.Tenants, i, i+1)
	if c.Default == name {
		c.Default = ""
	}
	return nil
}

// SetDefault makes the tenant called name the default.
func (c *Config) SetDefault(name string) error {
	if c.index(name) < 0 {
		return c.notFound(name, "")
	}
	c.Default = name
	return nil
}

// Select returns the tenant a command works on: the one named by
// flagName (--tenant), else by envName (JWH_TENANT), else the default
// tenant, else the only tenant. With no tenants the error wraps
// ErrNoTenants; with several and none chosen, ErrAmbiguous; a name that is
// not configured, ErrNotFound. Each message lists the tenants and says how
// to choose.
func (c *Config) Select(flagName, envName string) (*Tenant, error) {
	switch {
	case flagName != "":
		if i := c.index(flagName); i >= 0 {
			t := c.Tenants[i]
			return &t, nil
		}
		return nil, c.notFound(flagName, "")
	case envName != "":
		if i := c.index(envName); i >= 0 {
			t := c.Tenants[i]
			return &t, nil
		}
		return nil, c.notFound(envName, "from "+EnvTenant)
	case c.Default != "":
		if i := c.index(c.Default); i >= 0 {
			t := c.Tenants[i]
			return &t, nil
		}
		return nil, fmt.Errorf("%w %q (the default tenant in %s): choose another with 'jwh tenant use NAME'", ErrNotFound, c.Default, c.path)
	}
	switch len(c.Tenants) {
	case 0:
		return nil, fmt.Errorf("%w: %s", ErrNoTenants, AddTenantHint)
	case 1:
		t := c.Tenants[0]
		return &t, nil
	}
	return nil, fmt.Errorf("%w (%s): choose one with --tenant NAME or %s, or set a default with 'jwh tenant use NAME'", ErrAmbiguous, strings.Join(c.Names(), ", "), EnvTenant)
}

// ByClientKey returns a copy of the tenant whose client key is clientKey;
// Jira's JWTs carry it as their issuer.
func (c *Config) ByClientKey(clientKey string) (*Tenant, bool) {
	if clientKey == "" {
		return nil, false
	}
	for _, t := range c.Tenants {
		if t.ClientKey == clientKey {
			return &t, true
		}
	}
	return nil, false
}
