package listen

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Respond makes the listener answer deliveries with a status of the
// developer's choosing, to watch what the sender does about it: Jira
// retries 5xx, 408, 409, 425 and 429 with the same identifier and
// X-Atlassian-Webhook-Retry counting up. The zero Respond changes nothing.
type Respond struct {
	// Status, when not zero, answers the deliveries that Respond selects
	// with this status instead of handling them (no forwarding). A
	// delivery answered with a status outside 2xx is not remembered as
	// seen, so that its retry is handled as new, not as a duplicate. A
	// 1xx status is sent as an informational answer, followed by 200.
	Status int
	// FailFirst selects the first FailFirst deliveries of each identifier
	// (a delivery without an identifier is always a first); zero selects
	// every delivery.
	FailFirst int
	// Delay waits this long before answering: the deliveries Status
	// selects when it is set, else every accepted delivery. It must be
	// shorter than the server's write timeout (see Config.WriteTimeout).
	Delay time.Duration
}

// check reports what is wrong with r for a server whose answers time out
// after writeTimeout.
func (r Respond) check(writeTimeout time.Duration) error {
	switch {
	case r.Status != 0 && (r.Status < 100 || r.Status > 599):
		return fmt.Errorf("listen: respond status %d is not an HTTP status (100 to 599)", r.Status)
	case r.FailFirst < 0:
		return fmt.Errorf("listen: negative FailFirst %d", r.FailFirst)
	case r.FailFirst > 0 && r.Status == 0:
		return fmt.Errorf("listen: FailFirst without a Status")
	case r.Delay < 0:
		return fmt.Errorf("listen: negative delay %s", r.Delay)
	case r.Delay >= writeTimeout:
		return fmt.Errorf("listen: delay %s is not shorter than the write timeout %s", r.Delay, writeTimeout)
	}
	return nil
}

// attempts counts the deliveries of each identifier that Respond has
// answered, up to a fixed number of identifiers (the oldest is forgotten
// first), for FailFirst. It is safe for concurrent use.
type attempts struct {
	mu   sync.Mutex
	n    map[dedupKey]int
	ring []dedupKey
	next int
}

func newAttempts(size int) *attempts {
	if size <= 0 {
		size = DefaultDedupSize
	}
	return &attempts{n: make(map[dedupKey]int), ring: make([]dedupKey, size)}
}

// take counts one more delivery of k and returns its number, 1-based.
func (a *attempts) take(k dedupKey) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n, ok := a.n[k]; ok {
		a.n[k] = n + 1
		return n + 1
	}
	delete(a.n, a.ring[a.next]) // the oldest, if the ring is full
	a.ring[a.next] = k
	a.next = (a.next + 1) % len(a.ring)
	a.n[k] = 1
	return 1
}

// inject decides whether Respond answers a delivery with identifier id
// (key being its dedupKey), and returns which delivery of id it is.
func (s *Server) inject(id string, key dedupKey) (nth int, ok bool) {
	r := s.cfg.Respond
	if r.Status == 0 {
		return 0, false
	}
	if r.FailFirst == 0 {
		return 0, true
	}
	if id == "" {
		return 1, true
	}
	nth = s.attempts.take(key)
	return nth, nth <= r.FailFirst
}

// injectedReason is the Reason of a record answered by Respond.
func (s *Server) injectedReason(nth int) string {
	r := s.cfg.Respond
	reason := fmt.Sprintf("answered %d by --respond", r.Status)
	if r.FailFirst > 0 && nth > 0 {
		reason += fmt.Sprintf(" (%d of --fail-first %d)", nth, r.FailFirst)
	}
	if r.Status < 200 {
		reason += ", then 200: a 1xx is not a final answer"
	}
	return reason
}

// pause waits Respond.Delay, or until the request is cancelled.
func (s *Server) pause(r *http.Request) {
	d := s.cfg.Respond.Delay
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// is2xx reports whether status is a success.
func is2xx(status int) bool { return status >= 200 && status <= 299 }
