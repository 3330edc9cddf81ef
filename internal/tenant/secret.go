package tenant

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the keyring service under which secrets are stored;
// the keyring user is the tenant name.
const KeyringService = "jwh"

// DefaultKeyringTimeout bounds every keyring call of the jwh command.
const DefaultKeyringTimeout = 3 * time.Second

// SecretStore keeps the secret of each tenant, by tenant name: a Connect
// tenant's shared secret, or an OAuth tenant's bundle (encoded by the
// Resolver).
// Get and Delete of a name with no secret return an error wrapping
// ErrNoSecret; a store that cannot be reached returns one wrapping
// ErrKeyringDown.
type SecretStore interface {
	Get(name string) ([]byte, error)
	Set(name string, secret []byte) error
	Delete(name string) error
}

// A manyGetter is a SecretStore that reads the secrets of many tenants
// for much less than a Get each: the OS keyring on Linux, where the Secret
// Service returns many secrets in one call (see Resolver.ReadAhead).
type manyGetter interface {
	// GetMany reads the secrets of names and calls found, from the
	// calling goroutine, with each one it reads as soon as it has it: what Get
	// would return for that name. It returns the names it did not read
	// (missing, empty, unreadable at the moment, or all that were left
	// when it failed or ctx was done), for Get to answer, in its own
	// words; it has no errors of its own.
	GetMany(ctx context.Context, names []string, found func(name string, secret []byte)) (rest []string)
}

// keyringBackend is the part of go-keyring that the store uses; tests
// replace it.
type keyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, pw string) error       { return keyring.Set(service, user, pw) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// NewKeyring returns the store backed by the OS keyring (the Secret Service
// on Linux), service "jwh", user = tenant name. Every call gives up after
// timeout: a locked keyring on a machine with a display makes the Secret
// Service wait for an unlock prompt that may never be answered.
func NewKeyring(timeout time.Duration) SecretStore {
	k := newKeyring(goKeyring{}, timeout)
	k.bulk = bulkRead
	return k
}

func newKeyring(b keyringBackend, timeout time.Duration) *keyringStore {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &keyringStore{backend: b, timeout: timeout}
}

type keyringStore struct {
	backend keyringBackend
	timeout time.Duration
	// bulk reads many secrets in a few calls to the keyring, each
	// bounded by timeout (see manyGetter); nil where the platform's
	// keyring has no such calls.
	bulk func(ctx context.Context, names []string, timeout time.Duration, found func(name string, secret []byte)) (rest []string)
}

// call runs fn in a goroutine and waits for it at most k.timeout. A call
// that does not return is abandoned; it holds no lock of ours.
func (k *keyringStore) call(op, name string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		switch {
		case err == nil:
			return nil
		case errors.Is(err, keyring.ErrNotFound):
			return fmt.Errorf("%w for tenant %q in the keyring (service %s, user %s)", ErrNoSecret, name, KeyringService, name)
		}
		return &KeyringError{Op: op, Name: name, Err: err}
	case <-timer.C:
		return &KeyringError{Op: op, Name: name, Timeout: k.timeout}
	}
}

func (k *keyringStore) Get(name string) ([]byte, error) {
	var secret string
	err := k.call("read", name, func() error {
		s, err := k.backend.Get(KeyringService, name)
		secret = s
		return err
	})
	if err != nil {
		return nil, err
	}
	if secret == "" {
		return nil, fmt.Errorf("%w for tenant %q: the keyring item (service %s, user %s) is empty", ErrNoSecret, name, KeyringService, name)
	}
	return []byte(secret), nil
}

// GetMany reads the secrets of names with the keyring's bulk calls where
// it has them (the Secret Service on Linux); see manyGetter.
func (k *keyringStore) GetMany(ctx context.Context, names []string, found func(name string, secret []byte)) []string {
	if k.bulk == nil {
		return names
	}
	return k.bulk(ctx, names, k.timeout, found)
}

func (k *keyringStore) Set(name string, secret []byte) error {
	s := string(secret)
	return k.call("store", name, func() error { return k.backend.Set(KeyringService, name, s) })
}

func (k *keyringStore) Delete(name string) error {
	return k.call("delete", name, func() error { return k.backend.Delete(KeyringService, name) })
}

// KeyringError reports a keyring that failed or did not answer in time. It
// matches ErrKeyringDown with errors.Is.
type KeyringError struct {
	Op      string        // "read", "store" or "delete"
	Name    string        // the tenant
	Err     error         // what the keyring said; nil after a timeout
	Timeout time.Duration // set when the keyring did not answer
}

// Reason says what went wrong, without the advice.
func (e *KeyringError) Reason() string {
	what := fmt.Sprintf("%s: cannot %s the secret of tenant %q", ErrKeyringDown, e.Op, e.Name)
	if e.Err == nil {
		return fmt.Sprintf("%s: no answer within %s (a locked keyring waiting for an unlock prompt?)", what, e.Timeout)
	}
	return fmt.Sprintf("%s: %v", what, e.Err)
}

func (e *KeyringError) Error() string {
	return e.Reason() + fmt.Sprintf("; start or unlock a Secret Service (e.g. gnome-keyring), or set %s", EnvSecret)
}

// Is reports whether target is ErrKeyringDown.
func (e *KeyringError) Is(target error) bool { return target == ErrKeyringDown }

// Unwrap returns the keyring's own error.
func (e *KeyringError) Unwrap() error { return e.Err }

// NewMemoryStore returns a store that keeps secrets in memory: for tests
// and for jwh demo's throw-away tenant.
func NewMemoryStore() SecretStore {
	return &memoryStore{m: make(map[string][]byte)}
}

type memoryStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memoryStore) Get(name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name]
	if !ok {
		return nil, fmt.Errorf("%w for tenant %q in the memory store", ErrNoSecret, name)
	}
	return append([]byte(nil), v...), nil
}

func (s *memoryStore) Set(name string, secret []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = append([]byte(nil), secret...)
	return nil
}

func (s *memoryStore) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[name]; !ok {
		return fmt.Errorf("%w for tenant %q in the memory store", ErrNoSecret, name)
	}
	delete(s.m, name)
	return nil
}

// KeyringSource describes the keyring item of the tenant called name.
func KeyringSource(name string) string {
	return fmt.Sprintf("keyring (service %s, user %s)", KeyringService, name)
}
