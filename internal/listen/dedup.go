package listen

import (
	"crypto/sha256"
	"sync"
	"time"
)

// DefaultDedupSize is how many delivery identifiers the listener remembers.
// Jira retries a delivery for about half an hour; at this size a retry is
// recognised unless more than 100,000 other deliveries arrived in between,
// and the cache never holds more than about 8 MB however long the listener
// runs.
const DefaultDedupSize = 100_000

// dedupKey identifies a delivery: the identifier is unique per tenant, so
// the key is the tenant's client key and the identifier, hashed to a fixed
// size so that memory per entry does not depend on what a sender puts in
// the header.
type dedupKey [16]byte

func makeDedupKey(issuer, identifier string) dedupKey {
	var buf [256]byte // on the stack for the usual lengths
	sum := sha256.Sum256(append(append(append(buf[:0], issuer...), 0), identifier...))
	return dedupKey(sum[:len(dedupKey{})])
}

// seenCache remembers the most recent identifiers, up to a fixed count;
// the oldest is forgotten first. It is safe for concurrent use.
type seenCache struct {
	mu   sync.Mutex
	m    map[dedupKey]seenEntry
	ring []dedupKey // keys in the order they were added; ring[next] is the oldest once full
	next int
}

type seenEntry struct {
	first int64 // unix nanoseconds of the first acceptance
	slot  int   // index in ring
}

func newSeenCache(size int) *seenCache {
	if size <= 0 {
		size = DefaultDedupSize
	}
	return &seenCache{
		// The map grows with the deliveries: a listener that sees a few
		// does not pay for the size up front.
		m:    make(map[dedupKey]seenEntry),
		ring: make([]dedupKey, size),
	}
}

// add records k as accepted at now. If k is already there, it reports
// when k was first accepted and dup is true, and records nothing.
func (c *seenCache) add(k dedupKey, now time.Time) (first time.Time, dup bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		return time.Unix(0, e.first), true
	}
	slot := c.next
	// Forget the key this slot held, if any. It may have been removed and
	// added again in another slot since: forget it only if this slot is
	// still its own.
	if e, ok := c.m[c.ring[slot]]; ok && e.slot == slot {
		delete(c.m, c.ring[slot])
	}
	c.ring[slot] = k
	c.m[k] = seenEntry{first: now.UnixNano(), slot: slot}
	c.next = (slot + 1) % len(c.ring)
	return time.Time{}, false
}

// remove forgets k, so that a retry of a delivery that failed is handled
// as new.
func (c *seenCache) remove(k dedupKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// len returns how many keys are remembered.
func (c *seenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
