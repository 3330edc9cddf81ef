package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/jwh-cli/jwh/internal/lockedfile"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// envTestKeyring is the path of the scripts' keyring file. The test
// machine has no Secret Service that every jwh process of a script could
// share (the real one is tested in internal/e2e, under the keyring build
// tag), so the jwh processes of a script keep their secrets in this file,
// one per script, as a desktop keeps them in its keyring.
const envTestKeyring = "JWH_TEST_KEYRING"

// fileKeyring is a tenant.SecretStore in a JSON file: {"NAME": "secret"},
// changed under the file's lock.
type fileKeyring struct{ path string }

func (k fileKeyring) read() (map[string]string, error) {
	data, err := os.ReadFile(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (k fileKeyring) update(change func(map[string]string) error) error {
	return lockedfile.MutexFor(k.path).Update(context.Background(), func(old []byte) ([]byte, error) {
		m := map[string]string{}
		if len(old) > 0 {
			if err := json.Unmarshal(old, &m); err != nil {
				return nil, err
			}
		}
		if err := change(m); err != nil {
			return nil, err
		}
		return json.Marshal(m)
	})
}

func (k fileKeyring) Get(name string) ([]byte, error) {
	m, err := k.read()
	if err != nil {
		return nil, err
	}
	s, ok := m[name]
	if !ok {
		return nil, fmt.Errorf("%w for tenant %q in the test keyring", tenant.ErrNoSecret, name)
	}
	return []byte(s), nil
}

func (k fileKeyring) Set(name string, secret []byte) error {
	return k.update(func(m map[string]string) error {
		m[name] = string(secret)
		return nil
	})
}

func (k fileKeyring) Delete(name string) error {
	return k.update(func(m map[string]string) error {
		if _, ok := m[name]; !ok {
			return fmt.Errorf("%w for tenant %q in the test keyring", tenant.ErrNoSecret, name)
		}
		delete(m, name)
		return nil
	})
}
