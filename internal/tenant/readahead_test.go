package tenant

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// countingStore is a memory store that counts its Gets by name and fails
// those of the names in down as an unreachable keyring would.
type countingStore struct {
	SecretStore
	down map[string]bool

	mu   sync.Mutex
	gets map[string]int
}

func newCountingStore(secrets map[string]string, down ...string) *countingStore {
	s := &countingStore{SecretStore: NewMemoryStore(), gets: map[string]int{}, down: map[string]bool{}}
	for name, secret := range secrets {
		if err := s.Set(name, []byte(secret)); err != nil {
			panic(err)
		}
	}
	for _, name := range down {
		s.down[name] = true
	}
	return s
}

func (s *countingStore) Get(name string) ([]byte, error) {
	s.mu.Lock()
	s.gets[name]++
	s.mu.Unlock()
	if s.down[name] {
		return downStore{}.Get(name)
	}
	return s.SecretStore.Get(name)
}

func (s *countingStore) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return positive(s.gets)
}

func positive(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		if v > 0 {
			c[k] = v
		}
	}
	return c
}

// bulkStore is a countingStore that is a manyGetter too: GetMany reports
// the names in found, in that order (and a name it was not asked for, and
// one twice, which ReadAhead must ignore), and leaves the others to Get.
type bulkStore struct {
	*countingStore
	found []string
	asked [][]string
}

func (s *bulkStore) GetMany(ctx context.Context, names []string, found func(string, []byte)) []string {
	s.asked = append(s.asked, slices.Clone(names))
	if ctx.Err() != nil {
		return names
	}
	found("not-asked", []byte("x"))
	for _, name := range s.found {
		secret, err := s.SecretStore.Get(name)
		if err != nil {
			panic(err)
		}
		found(name, secret)
		found(name, []byte("again"))
	}
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(s.found, n) })
}

// outcome is what the Resolver said about one tenant, for comparing.
type outcome struct {
	secret, source, err string
}

func resolve(t *testing.T, r *Resolver, tn *Tenant) outcome {
	t.Helper()
	if tn.IsOAuth() {
		l, err := r.OAuth(tn)
		o := outcome{source: l.Stored.Detail + " / " + l.ClientSecretFrom.Detail}
		if l.Secrets != nil {
			o.secret = l.Secrets.AccessToken + " " + l.ClientSecret
		}
		if err != nil {
			o.err = err.Error()
		}
		return o
	}
	s, src, err := r.ConnectSecret(tn)
	o := outcome{secret: string(s), source: src.Kind + ": " + src.Detail}
	if err != nil {
		o.err = err.Error()
	}
	return o
}

// readAheadWorld is a config's worth of tenants of every sort: acme is
// selected and its secret is in the environment; gamma has none stored;
// zeta's read fails; delta is an OAuth tenant in the keyring, eps one
// logged in with --no-keyring.
func readAheadWorld(t *testing.T) ([]Tenant, map[string]string, string, func(*Resolver)) {
	t.Helper()
	tenants := []Tenant{
		{Name: "acme"}, {Name: "beta"}, {Name: "delta", Kind: KindOAuth, ClientID: "cid"},
		{Name: "eps", Kind: KindOAuth, ClientID: "cid", Storage: StorageFile}, {Name: "gamma"}, {Name: "zeta"},
	}
	data, err := encodeSecrets(bundle("client-secret"))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"acme": "acme-stored", "beta": "beta-stored", "delta": string(data), "zeta": "zeta-stored"}
	creds := filepath.Join(t.TempDir(), CredentialsFile)
	setup := func(r *Resolver) {
		r.Getenv = env(map[string]string{EnvSecret: "from-env"})
		r.Selected = "acme"
		r.CredentialsPath = creds
	}
	w := &Resolver{Store: NewMemoryStore()}
	setup(w)
	if err := w.SaveOAuth(&tenants[3], bundle("file-client-secret")); err != nil {
		t.Fatal(err)
	}
	return tenants, secrets, creds, setup
}

func collect(ch <-chan int) []int {
	var got []int
	for i := range ch {
		got = append(got, i)
	}
	return got
}

// TestReadAhead reads every tenant's secret ahead, one by one: each
// tenant comes once, those that need no read first; the Resolver then
// answers as it would have without, each tenant's secret read from the
// store once, and a second use (or an OAuth refresh) reads it afresh.
func TestReadAhead(t *testing.T) {
	tenants, secrets, _, setup := readAheadWorld(t)
	want := map[string]outcome{}
	plain := &Resolver{Store: newCountingStore(secrets, "zeta")}
	setup(plain)
	for i := range tenants {
		want[tenants[i].Name] = resolve(t, plain, &tenants[i])
	}

	store := newCountingStore(secrets, "zeta")
	r := &Resolver{Store: store}
	setup(r)
	order := collect(r.ReadAhead(context.Background(), tenants, 2))
	if len(order) != len(tenants) || !slices.Equal(order[:2], []int{0, 3}) {
		t.Fatalf("order %v: want every index once, acme (the environment's) and eps (credentials.json) first", order)
	}
	if s := slices.Sorted(slices.Values(order)); !slices.Equal(s, []int{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("order %v: want every index once", order)
	}
	reads := map[string]int{"beta": 1, "delta": 1, "gamma": 1, "zeta": 1}
	if got := store.counts(); fmt.Sprint(got) != fmt.Sprint(reads) {
		t.Fatalf("reads %v, want %v", got, reads)
	}
	for i := range tenants {
		if got := resolve(t, r, &tenants[i]); got != want[tenants[i].Name] {
			t.Errorf("%s:\n got %+v\nwant %+v", tenants[i].Name, got, want[tenants[i].Name])
		}
	}
	if got := store.counts(); fmt.Sprint(got) != fmt.Sprint(reads) {
		t.Errorf("reads %v after the Resolver answered, want %v: it read again what was read ahead", got, reads)
	}

	// Read ahead once: the next use, and a refresh's load, read afresh.
	if got := resolve(t, r, &tenants[1]); got != want["beta"] {
		t.Errorf("beta again: %+v", got)
	}
	if _, err := r.OAuthStore(&tenants[2]).Load(); err != nil {
		t.Fatal(err)
	}
	reads["beta"], reads["delta"] = 2, 2
	if got := store.counts(); fmt.Sprint(got) != fmt.Sprint(reads) {
		t.Errorf("reads %v, want %v", got, reads)
	}
}

// TestReadAheadBulk reads with a store's GetMany: what it reads comes first,
// in its order, and is never read again with Get; Get reads the rest.
func TestReadAheadBulk(t *testing.T) {
	tenants, secrets, _, setup := readAheadWorld(t)
	want := map[string]outcome{}
	plain := &Resolver{Store: newCountingStore(secrets, "zeta")}
	setup(plain)
	for i := range tenants {
		want[tenants[i].Name] = resolve(t, plain, &tenants[i])
	}

	store := &bulkStore{countingStore: newCountingStore(secrets, "zeta"), found: []string{"delta", "beta"}}
	r := &Resolver{Store: store}
	setup(r)
	order := collect(r.ReadAhead(context.Background(), tenants, 1))
	// acme, eps; delta, beta from GetMany; gamma and zeta one by one.
	if want := []int{0, 3, 2, 1, 4, 5}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	if asked := fmt.Sprint(store.asked); asked != "[[beta delta gamma zeta]]" {
		t.Errorf("GetMany asked for %s, want the tenants whose secrets are in the keyring", asked)
	}
	reads := map[string]int{"gamma": 1, "zeta": 1}
	if got := store.counts(); fmt.Sprint(got) != fmt.Sprint(reads) {
		t.Fatalf("Gets %v, want %v", got, reads)
	}
	for i := range tenants {
		if got := resolve(t, r, &tenants[i]); got != want[tenants[i].Name] {
			t.Errorf("%s:\n got %+v\nwant %+v", tenants[i].Name, got, want[tenants[i].Name])
		}
	}
	if got := store.counts(); fmt.Sprint(got) != fmt.Sprint(reads) {
		t.Errorf("Gets %v after the Resolver answered, want %v", got, reads)
	}
}

// gatedStore holds the Get of one name until released.
type gatedStore struct {
	*countingStore
	gated   string
	release chan struct{}
}

func (s *gatedStore) Get(name string) ([]byte, error) {
	if name == s.gated {
		<-s.release
	}
	return s.countingStore.Get(name)
}

// TestReadAheadReadyFirst hands out tenants as their secrets are read: a
// read that hangs holds up its own tenant only.
func TestReadAheadReadyFirst(t *testing.T) {
	store := &gatedStore{countingStore: newCountingStore(map[string]string{"a": "1", "b": "2", "c": "3"}), gated: "a", release: make(chan struct{})}
	r := &Resolver{Store: store, Getenv: env(nil)}
	order := r.ReadAhead(context.Background(), []Tenant{{Name: "a"}, {Name: "b"}, {Name: "c"}}, 2)
	first := []int{<-order, <-order}
	close(store.release)
	if slices.Sort(first); !slices.Equal(first, []int{1, 2}) {
		t.Errorf("first out: %v, want b and c while a's read waits", first)
	}
	if rest := collect(order); !slices.Equal(rest, []int{0}) {
		t.Errorf("then %v, want a", rest)
	}
}

// TestReadAheadCancelled stops reading when the context is done: every
// tenant still comes out, at once, and its secret is read when asked for.
func TestReadAheadCancelled(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			counting := newCountingStore(map[string]string{"a": "1", "b": "2"})
			var store SecretStore = counting
			if bulk {
				store = &bulkStore{countingStore: counting, found: []string{"a"}}
			}
			r := &Resolver{Store: store, Getenv: env(nil)}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			tenants := []Tenant{{Name: "a"}, {Name: "b"}}
			if order := collect(r.ReadAhead(ctx, tenants, 2)); len(order) != 2 {
				t.Fatalf("order %v, want both", order)
			}
			if got := counting.counts(); len(got) != 0 {
				t.Fatalf("reads %v after the context was done", got)
			}
			s, _, err := r.ConnectSecret(&tenants[1])
			if err != nil || string(s) != "2" {
				t.Fatalf("ConnectSecret: %q, %v", s, err)
			}
			if got := counting.counts(); fmt.Sprint(got) != "map[b:1]" {
				t.Errorf("reads %v, want b's", got)
			}
		})
	}
}

// The store's errors come through ReadAhead as they are.
func TestReadAheadErrors(t *testing.T) {
	r := &Resolver{Store: downStore{}, Getenv: env(nil)}
	collect(r.ReadAhead(context.Background(), []Tenant{{Name: "a"}}, 1))
	_, _, err := r.ConnectSecret(&Tenant{Name: "a"})
	var ke *KeyringError
	if !errors.Is(err, ErrKeyringDown) || !errors.As(err, &ke) || ke.Name != "a" {
		t.Errorf("got %v", err)
	}
}
