package listen

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// countingWriter records what is written to it and how many Writes it
// took; when gate is set, the first Write waits for it to be closed.
type countingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	gate   chan struct{}
	inside chan struct{} // closed when the first Write has started
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	first := c.writes == 0
	c.writes++
	c.mu.Unlock()
	if first && c.gate != nil {
		close(c.inside)
		<-c.gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *countingWriter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// TestGroupWriterConcurrent: the bytes of every call arrive whole, on the
// right stream, before the call returns.
func TestGroupWriterConcurrent(t *testing.T) {
	out, errOut := &countingWriter{}, &countingWriter{}
	w := NewGroupWriter(out, errOut)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				o := fmt.Sprintf("out %02d %02d %s\n", g, i, strings.Repeat("x", 40))
				e := fmt.Sprintf("err %02d %02d\n", g, i)
				w.Write([]byte(o), []byte(e))
				if !strings.Contains(out.String(), o) || !strings.Contains(errOut.String(), e) {
					t.Errorf("Write returned before %q and %q were written", o, e)
					return
				}
			}
		})
	}
	wg.Wait()
	for name, s := range map[string]string{"out": out.String(), "err": errOut.String()} {
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		if len(lines) != 16*50 {
			t.Errorf("%s: %d lines, want %d", name, len(lines), 16*50)
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, name+" ") {
				t.Errorf("%s: interleaved or misplaced line %q", name, l)
				break
			}
		}
	}
}

// TestGroupWriterGroups: while one flush is under way, later calls wait
// and are written together, with one Write to each stream.
func TestGroupWriterGroups(t *testing.T) {
	out := &countingWriter{gate: make(chan struct{}), inside: make(chan struct{})}
	errOut := &countingWriter{}
	w := NewGroupWriter(out, errOut)
	first := make(chan struct{})
	go func() {
		w.Write([]byte("a\n"), nil)
		close(first)
	}()
	<-out.inside // the first flush is writing "a" and waits at the gate
	var wg sync.WaitGroup
	for _, s := range []string{"b\n", "c\n", "d\n"} {
		wg.Go(func() { w.Write([]byte(s), []byte(s)) })
	}
	// Wait until the three calls are queued behind the flush.
	for {
		w.mu.Lock()
		queued := w.queued
		w.mu.Unlock()
		if queued == 4 {
			break
		}
		runtime.Gosched()
	}
	close(out.gate)
	<-first
	wg.Wait()
	if out.writes != 2 || errOut.writes != 1 {
		t.Errorf("%d Writes to out, %d to errOut; want 2 and 1", out.writes, errOut.writes)
	}
	if got := out.String(); len(got) != 8 || !strings.HasPrefix(got, "a\n") {
		t.Errorf("out %q", got)
	}
}

// TestGroupWriterOneCPU: on one CPU, where a Write to a file lets no one
// else run while it lasts, the callers that are ready when a flush starts
// are still written together: a listener on one core makes one write(2)
// for a burst of deliveries, not one each.
func TestGroupWriterOneCPU(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	out, errOut := &countingWriter{}, &countingWriter{}
	w := NewGroupWriter(out, errOut)
	const callers = 16
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			w.Write(fmt.Appendf(nil, "delivery %d\n", i), nil)
		})
	}
	close(start) // all the callers are ready to run
	wg.Wait()
	if n := strings.Count(out.String(), "\n"); n != callers {
		t.Fatalf("%d lines written, want %d", n, callers)
	}
	if out.writes > callers/2 {
		t.Errorf("%d callers ready at once made %d Writes: they were not grouped", callers, out.writes)
	}
}

// TestGroupWriterWriteLast: nothing is written after WriteLast.
func TestGroupWriterWriteLast(t *testing.T) {
	var out, errOut bytes.Buffer
	w := NewGroupWriter(&out, &errOut)
	w.Write([]byte("event\n"), nil)
	w.WriteLast(nil, []byte("summary\n"))
	w.Write([]byte("late\n"), []byte("late\n"))
	w.WriteLast(nil, []byte("summary again\n"))
	if out.String() != "event\n" || errOut.String() != "summary\n" {
		t.Errorf("out %q, errOut %q", out.String(), errOut.String())
	}
}
