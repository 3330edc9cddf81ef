package listen

import (
	"container/list"
	"context"
	"io"
	"net/http"
	"sync"
)

// budget is a weighted semaphore counting the bytes of request bodies that
// the listener holds at once. Waiters are served in the order they came,
// so that a large body is not starved by a stream of small ones.
type budget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiters list.List // of *budgetWaiter, oldest first
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once n bytes are granted
}

// tryAcquire takes n bytes if they are free now and nobody waits.
func (b *budget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiters.Len() == 0 && b.used+n <= b.size {
		b.used += n
		return true
	}
	return false
}

// acquire takes n bytes, waiting for them until ctx is done. n must not
// exceed the size, or acquire waits until ctx is done.
func (b *budget) acquire(ctx context.Context, n int64) error {
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.used+n <= b.size {
		b.used += n
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	e := b.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		return nil // granted while giving up: keep it
	default:
	}
	b.waiters.Remove(e)
	b.grant() // those behind may fit now that this one is gone
	return ctx.Err()
}

// release gives back n bytes.
func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if b.used < 0 {
		panic("listen: body budget released more than was acquired")
	}
	b.grant()
}

// grant hands bytes to the waiters at the front, in order, while they fit.
func (b *budget) grant() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.size {
			return
		}
		b.used += w.n
		b.waiters.Remove(e)
		close(w.ready)
	}
}

// firstChunk is where the buffer of a body of unknown length starts; it
// doubles from there.
const firstChunk = 8 << 10

// readBody reads a whole body. A declared length (at most limit, checked
// by the caller) is read into one buffer of that size. A body of unknown
// length (chunked) is read into a buffer that doubles as bytes arrive, up
// to limit: memory follows what the sender actually sent. Growing holds
// the old and the new buffer for a moment, so a body of unknown length
// needs up to twice limit while it is read. One byte beyond limit is an
// *http.MaxBytesError.
func readBody(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared >= 0 {
		buf := make([]byte, declared)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	buf := make([]byte, 0, min(firstChunk, limit))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) == limit {
				var one [1]byte
				switch n, err := io.ReadFull(r, one[:]); {
				case n > 0:
					return nil, &http.MaxBytesError{Limit: limit}
				case err == io.EOF:
					return buf, nil
				default:
					return nil, err
				}
			}
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return nil, err
		}
	}
}
