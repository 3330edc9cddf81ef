package listen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// linePrinter prints each accepted delivery as one line of raw payload,
// one Write per delivery under a lock, as jwh listen --json does.
type linePrinter struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (p *linePrinter) event(e Event) {
	d, ok := e.(*Delivery)
	if !ok {
		return
	}
	line := make([]byte, 0, len(d.Body)+1)
	line = append(append(line, d.Body...), '\n')
	p.mu.Lock()
	p.out.Write(line)
	p.mu.Unlock()
}

// TestLoad sends 10,000 valid, distinct deliveries from 64 concurrent
// senders: every one must be answered 2xx and printed exactly once.
func TestLoad(t *testing.T) {
	const total, concurrency = 10_000, 64
	p := &linePrinter{}
	l := start(t, Config{Path: "/hook", Leeway: DefaultLeeway, OnEvent: p.event})

	// Jira signs each delivery; the qsh, hence the token, is the same for
	// every POST to /hook within its lifetime, so sign once per sender.
	u, _ := url.Parse("/hook")
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			tok, err := jiraSigner("/").Sign("POST", u)
			if err != nil {
				t.Error(err)
				return
			}
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				resp, body, err := l.trySend(delivery{path: "/hook", body: samplePayload(fmt.Sprintf("LOAD-%d", i)),
					identifier: fmt.Sprintf("load-%d", i), token: tok})
				switch {
				case err != nil:
					failed.Add(1)
					t.Errorf("delivery %d: %v", i, err)
				case resp.StatusCode < 200 || resp.StatusCode > 299:
					failed.Add(1)
					t.Errorf("delivery %d: status %d %s", i, resp.StatusCode, body)
				}
				if failed.Load() > 10 {
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	seen := make(map[string]int, total)
	lines := bytes.Split(bytes.TrimSuffix(p.out.Bytes(), []byte("\n")), []byte("\n"))
	for n, line := range lines {
		var d struct {
			Issue struct{ Key string } `json:"issue"`
		}
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatalf("line %d is not one delivery (interleaved output?): %v\n%q", n+1, err, line)
		}
		seen[d.Issue.Key]++
	}
	if len(lines) != total || len(seen) != total {
		t.Errorf("%d lines, %d distinct deliveries; want %d of each", len(lines), len(seen), total)
	}
	for key, n := range seen {
		if n != 1 {
			t.Errorf("%s printed %d times", key, n)
		}
	}
	if st := l.Stats(); st.Delivered != total || st.Requests != total || st.Duplicates != 0 || st.Rejected != 0 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}
