package tenant

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// blockingBackend never answers until released, like a Secret Service
// waiting for an unlock prompt.
type blockingBackend struct{ release chan struct{} }

func (b blockingBackend) Get(service, user string) (string, error) {
	<-b.release
	return "", errors.New("released")
}

func (b blockingBackend) Set(service, user, pw string) error {
	<-b.release
	return errors.New("released")
}

func (b blockingBackend) Delete(service, user string) error {
	<-b.release
	return errors.New("released")
}

func TestKeyringTimeout(t *testing.T) {
	b := blockingBackend{release: make(chan struct{})}
	t.Cleanup(func() { close(b.release) }) // let the abandoned calls finish
	k := newKeyring(b, 10*time.Millisecond)
	calls := map[string]func() error{
		"read":   func() error { _, err := k.Get("acme"); return err },
		"store":  func() error { return k.Set("acme", []byte("s")) },
		"delete": func() error { return k.Delete("acme") },
	}
	for op, call := range calls {
		err := call()
		if !errors.Is(err, ErrKeyringDown) {
			t.Fatalf("%s: got %v, want ErrKeyringDown", op, err)
		}
		want := `keyring unavailable: cannot ` + op + ` the secret of tenant "acme": no answer within 10ms (a locked keyring waiting for an unlock prompt?); start or unlock a Secret Service (e.g. gnome-keyring), or set JWH_SHARED_SECRET`
		if err.Error() != want {
			t.Errorf("%s:\n got %s\nwant %s", op, err, want)
		}
	}
	// Through the resolver, the error is the keyring's, with both ways out.
	_, _, err := (&Resolver{Store: k, Getenv: env(nil), Selected: "acme"}).ConnectSecret(&Tenant{Name: "acme"})
	if !errors.Is(err, ErrKeyringDown) || !strings.Contains(err.Error(), "gnome-keyring") || !strings.Contains(err.Error(), EnvSecret) {
		t.Errorf("ConnectSecret: %v", err)
	}
}

// fakeBackend behaves like go-keyring's providers: keyring.ErrNotFound
// for a missing item, err for everything when set.
type fakeBackend struct {
	items map[string]string // service + "/" + user
	err   error
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	v, ok := f.items[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeBackend) Set(service, user, pw string) error {
	if f.err != nil {
		return f.err
	}
	f.items[service+"/"+user] = pw
	return nil
}

func (f *fakeBackend) Delete(service, user string) error {
	if f.err != nil {
		return f.err
	}
	if _, ok := f.items[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, service+"/"+user)
	return nil
}

func TestKeyringStore(t *testing.T) {
	b := &fakeBackend{items: map[string]string{}}
	k := newKeyring(b, time.Minute)
	if _, err := k.Get("acme"); !errors.Is(err, ErrNoSecret) || errors.Is(err, ErrKeyringDown) {
		t.Fatalf("Get of a missing item: %v", err)
	}
	if err := k.Delete("acme"); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("Delete of a missing item: %v", err)
	}
	if err := k.Set("acme", []byte("s3cret")); err != nil {
		t.Fatal(err)
	}
	if got := b.items["jwh/acme"]; got != "s3cret" {
		t.Errorf("not stored under service jwh, user acme: %v", b.items)
	}
	got, err := k.Get("acme")
	if err != nil || string(got) != "s3cret" {
		t.Fatalf("Get: %q, %v", got, err)
	}
	if err := k.Delete("acme"); err != nil || len(b.items) != 0 {
		t.Fatalf("Delete: %v, %v", err, b.items)
	}

	// An empty item is no secret.
	b.items["jwh/empty"] = ""
	if _, err := k.Get("empty"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("empty item: %v", err)
	}

	b.err = errors.New("org.freedesktop.DBus.Error.ServiceUnknown")
	_, err = k.Get("acme")
	var ke *KeyringError
	if !errors.Is(err, ErrKeyringDown) || !errors.Is(err, b.err) || !errors.As(err, &ke) || ke.Op != "read" {
		t.Fatalf("Get with a failing keyring: %v", err)
	}
	want := `keyring unavailable: cannot read the secret of tenant "acme": org.freedesktop.DBus.Error.ServiceUnknown; start or unlock a Secret Service (e.g. gnome-keyring), or set JWH_SHARED_SECRET`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if ke.Reason() != strings.TrimSuffix(want, "; start or unlock a Secret Service (e.g. gnome-keyring), or set JWH_SHARED_SECRET") {
		t.Errorf("Reason: %s", ke.Reason())
	}
	if err := k.Set("acme", []byte("x")); !errors.Is(err, ErrKeyringDown) {
		t.Errorf("Set with a failing keyring: %v", err)
	}
	if err := k.Delete("acme"); !errors.Is(err, ErrKeyringDown) {
		t.Errorf("Delete with a failing keyring: %v", err)
	}
}

func TestKeyringNoSessionBus(t *testing.T) {
	// The real go-keyring against a bus address where nothing listens: it
	// must come back with an error that names both ways out.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+t.TempDir()+"/no-bus")
	t.Setenv("DISPLAY", "")
	r := &Resolver{Store: NewKeyring(DefaultKeyringTimeout), Getenv: env(nil), Selected: "acme"}
	_, _, err := r.ConnectSecret(&Tenant{Name: "acme"})
	if !errors.Is(err, ErrKeyringDown) {
		t.Fatalf("got %v, want ErrKeyringDown", err)
	}
	for _, s := range []string{"keyring unavailable", "gnome-keyring", "JWH_SHARED_SECRET", `"acme"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not mention %s", err, s)
		}
	}
}

func TestMemoryStore(t *testing.T) {
	s := NewMemoryStore()
	if _, err := s.Get("a"); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("Get of missing: %v", err)
	}
	if err := s.Delete("a"); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("Delete of missing: %v", err)
	}
	in := []byte("s1")
	if err := s.Set("a", in); err != nil {
		t.Fatal(err)
	}
	in[0] = 'X' // the store keeps its own copy
	got, err := s.Get("a")
	if err != nil || string(got) != "s1" {
		t.Fatalf("Get: %q, %v", got, err)
	}
	got[0] = 'Y'
	if again, _ := s.Get("a"); string(again) != "s1" {
		t.Errorf("Get returned the store's own slice")
	}
	if err := s.Delete("a"); err != nil {
		t.Fatal(err)
	}
	// Safe for concurrent use.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := string(rune('a' + i))
			_ = s.Set(name, []byte(name))
			_, _ = s.Get(name)
		}()
	}
	wg.Wait()
}

func TestInstalledNeverPrintsSecret(t *testing.T) {
	in := Installed{Key: "k", ClientKey: "ck", SharedSecret: "TOPSECRET", BaseURL: "https://a.example"}
	for _, s := range []string{in.String(), in.GoString(), fmtAll(in), fmtAll(&in)} {
		if strings.Contains(s, "TOPSECRET") {
			t.Errorf("printed the secret: %s", s)
		}
	}
}
