package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jwh-cli/jwh/internal/lockedfile"
)

// CredentialsFile is the name of the file, next to the config file, that
// holds the secrets of the OAuth tenants logged in with --no-keyring.
const CredentialsFile = "credentials.json"

// maxCredentialsSize bounds credentials.json; a bundle is under 4 kB.
const maxCredentialsSize = 4 << 20

// CredentialsPath returns the path of the credentials file that goes with
// the config file at configPath: credentials.json in the same directory.
func CredentialsPath(configPath string) string {
	return filepath.Join(filepath.Dir(configPath), CredentialsFile)
}

// CredentialsPath returns the path of the credentials file of c.
func (c *Config) CredentialsPath() string { return CredentialsPath(c.path) }

// credentialsFile is the content of credentials.json:
// {"tenants": {"NAME": {bundle}}}. The file is mode 0600 and only ever
// replaced whole, under its lock (credentials.json.lock).
type credentialsFile struct {
	Tenants map[string]*storedSecrets `json:"tenants"`
}

// readCredentials reads the credentials file at path; a missing or empty
// file holds nothing. A file that cannot be parsed is a
// *DamagedConfigError, and is never replaced by an empty one.
func readCredentials(path string) (*credentialsFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &credentialsFile{Tenants: map[string]*storedSecrets{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the credentials file: %w", err)
	}
	return parseCredentials(path, data)
}

func parseCredentials(path string, data []byte) (*credentialsFile, error) {
	cf := &credentialsFile{}
	switch {
	case len(data) > maxCredentialsSize:
		return nil, &DamagedConfigError{Path: path, File: "credentials file", Reason: fmt.Sprintf("larger than %d bytes", maxCredentialsSize)}
	case len(bytes.TrimSpace(data)) == 0:
	default:
		if err := decodeCredentials(data, cf); err != nil {
			return nil, &DamagedConfigError{Path: path, File: "credentials file", Reason: err.Error()}
		}
	}
	if cf.Tenants == nil {
		cf.Tenants = map[string]*storedSecrets{}
	}
	return cf, nil
}

// decodeCredentials parses data into cf; like decodeSecrets, its error
// never quotes the data.
func decodeCredentials(data []byte, cf *credentialsFile) error {
	if err := json.Unmarshal(data, cf); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("not JSON (at byte %d)", se.Offset)
		}
		return errors.New(`not of the form {"tenants": {"NAME": {...}}}`)
	}
	return nil
}

// loadCredentials returns the bundle stored for the tenant called name in
// the credentials file at path, or nil when there is none.
func loadCredentials(path, name string) (*OAuthSecrets, error) {
	cf, err := readCredentials(path)
	if err != nil {
		return nil, err
	}
	s, ok := cf.Tenants[name]
	if !ok || s == nil {
		return nil, nil
	}
	return (*OAuthSecrets)(s), nil
}

// updateCredentials changes the credentials file at path under its lock:
// it reads the file inside the lock, lets change add, replace or delete
// entries, and replaces the file atomically (mode 0600). When change
// returns an error nothing is written. The directory is created (0700)
// when needed.
func updateCredentials(ctx context.Context, path string, change func(map[string]*storedSecrets) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("update the credentials file: %w", err)
	}
	return lockedfile.MutexFor(path).Update(ctx, func(old []byte) ([]byte, error) {
		cf, err := parseCredentials(path, old)
		if err != nil {
			return nil, err
		}
		if err := change(cf.Tenants); err != nil {
			return nil, err
		}
		data, err := json.MarshalIndent(cf, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(data, '\n'), nil
	})
}
