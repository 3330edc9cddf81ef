package tenant

import (
	"context"
	"sync"
)

// aheadRead is what ReadAhead read for one tenant, until ConnectSecret or
// OAuth takes it.
type aheadRead struct {
	done   chan struct{} // closed once secret and err are set
	secret []byte
	err    error
	// unread means that ReadAhead stopped (its ctx was done) before it
	// read this tenant's secret: the store is asked when it is taken.
	unread bool
}

// ReadAhead starts reading the stored secrets of tenants in the
// background, for a command that works on every tenant (extend
// --all-tenants): ConnectSecret and OAuth then take what it read instead
// of asking the store, once per tenant. Where the keyring can read many
// secrets in one call (the Secret Service on Linux), it reads them so, a
// chunk at a time; it reads the others, and every one on other platforms,
// one by one, up to parallel at a time, in the order of tenants. Errors
// are the store's, as ConnectSecret and OAuth would have met them.
//
// It returns the indexes of tenants, each once, in the order in which
// their secrets become ready (first those that need no read: an
// environment variable's, or an OAuth login in credentials.json). A
// command that works on them in that order starts its first requests at
// once, never waits for a secret while another is at hand, and overlaps
// the reads with its network work. The channel is closed after the last;
// when ctx is done, the reads stop and the indexes left come at once,
// their secrets unread (the store is asked when they are taken).
//
// An OAuth tenant's bundle is read ahead for its first use only: a
// refresh reads it afresh under the tenant's lock (OAuthStore.Load).
func (r *Resolver) ReadAhead(ctx context.Context, tenants []Tenant, parallel int) <-chan int {
	order := make(chan int, len(tenants))
	index := make(map[string]int)
	var names []string
	reads := make(map[string]*aheadRead)
	for i := range tenants {
		t := &tenants[i]
		if _, dup := index[t.Name]; dup || !r.readsStore(t) {
			order <- i
			continue
		}
		index[t.Name] = i
		names = append(names, t.Name)
		reads[t.Name] = &aheadRead{done: make(chan struct{})}
	}
	r.mu.Lock()
	if r.ahead == nil {
		r.ahead = make(map[string]*aheadRead)
	}
	for name, a := range reads {
		r.ahead[name] = a
	}
	r.mu.Unlock()

	// publish records the outcome of a read and hands out its tenant.
	// Each name is published once: readers and GetMany never share one.
	publish := func(name string, secret []byte, err error, unread bool) {
		a := reads[name]
		a.secret, a.err, a.unread = secret, err, unread
		close(a.done)
		order <- index[name]
	}
	go func() {
		defer close(order)
		rest := names
		if m, ok := r.Store.(manyGetter); ok && len(names) > 0 {
			pending := make(map[string]bool, len(names))
			for _, n := range names {
				pending[n] = true
			}
			rest = m.GetMany(ctx, names, func(name string, secret []byte) {
				if pending[name] {
					delete(pending, name)
					publish(name, secret, nil, false)
				}
			})
			// Whatever GetMany says, each name is published once.
			var left []string
			for _, n := range names {
				if pending[n] {
					left = append(left, n)
				}
			}
			rest = left
		}
		next := make(chan string)
		var wg sync.WaitGroup
		for range min(max(parallel, 1), len(rest)) {
			wg.Go(func() {
				for name := range next {
					secret, err := r.Store.Get(name)
					publish(name, secret, err, false)
				}
			})
		}
		fed := 0
	feed:
		for _, name := range rest {
			if ctx.Err() != nil {
				break
			}
			select {
			case next <- name:
				fed++
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
		wg.Wait()
		for _, name := range rest[fed:] {
			publish(name, nil, nil, true)
		}
	}()
	return order
}

// readsStore reports whether ConnectSecret or OAuth reads the secret of t
// from the store (the keyring).
func (r *Resolver) readsStore(t *Tenant) bool {
	if t.IsOAuth() {
		return t.StorageOf() == StorageKeyring
	}
	return r.env(EnvSecret, t) == ""
}

// stored returns the secret of the tenant called name from the store:
// what ReadAhead read for it, the first time it is asked for, else the
// store's answer now.
func (r *Resolver) stored(name string) ([]byte, error) {
	r.mu.Lock()
	a := r.ahead[name]
	delete(r.ahead, name)
	r.mu.Unlock()
	if a != nil {
		<-a.done
		if !a.unread {
			return a.secret, a.err
		}
	}
	return r.Store.Get(name)
}
