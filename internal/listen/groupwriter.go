package listen

import (
	"io"
	"runtime"
	"sync"
)

// A GroupWriter writes the output of concurrent callers, such as the
// OnEvent calls of a Server's handlers, to two streams (standard output and
// standard error) by group commit: each Write appends its bytes to pending
// buffers, and one of the callers waiting for their bytes to be written
// writes everything pending, with one Write to each stream, while the
// others wait. Under load one Write to a stream carries the output of many
// callers; alone, a caller's bytes are written at once. Either way Write
// returns only once its bytes are written, so that a handler answers Jira
// after its delivery is printed, and the bytes of one call are never split
// by those of another.
//
// Errors of the streams are ignored: there is no one to tell.
type GroupWriter struct {
	out, errOut io.Writer

	mu                     sync.Mutex
	written                *sync.Cond // signalled when a flush ends
	pendingOut, pendingErr []byte
	spareOut, spareErr     []byte // the buffers of the last flush, for reuse
	queued, flushed        uint64 // calls appended, calls written
	flushing               bool
	closed                 bool
}

// NewGroupWriter returns a GroupWriter that writes to out and errOut.
func NewGroupWriter(out, errOut io.Writer) *GroupWriter {
	w := &GroupWriter{out: out, errOut: errOut}
	w.written = sync.NewCond(&w.mu)
	return w
}

// Write writes out to the first stream and errOut to the second, and
// returns once both are written. After WriteLast it writes nothing.
func (w *GroupWriter) Write(out, errOut []byte) { w.write(out, false, errOut, false) }

// WriteLine writes line and a new line to the first stream, as Write
// does: for a caller whose line is not followed by room for one.
func (w *GroupWriter) WriteLine(line []byte) { w.write(line, true, nil, false) }

// WriteLast is Write, after which nothing more is written: the summary of
// a listener that has been told to stop, after which the requests it cut
// short are not reported.
func (w *GroupWriter) WriteLast(out, errOut []byte) { w.write(out, false, errOut, true) }

func (w *GroupWriter) write(out []byte, newline bool, errOut []byte, last bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = last
	w.pendingOut = append(w.pendingOut, out...)
	if newline {
		w.pendingOut = append(w.pendingOut, '\n')
	}
	w.pendingErr = append(w.pendingErr, errOut...)
	w.queued++
	mine := w.queued
	for w.flushed < mine {
		if w.flushing {
			w.written.Wait()
			continue
		}
		w.flushing = true
		if runtime.GOMAXPROCS(0) == 1 {
			// With one P (one CPU, or GOMAXPROCS=1), no other
			// caller runs while this one writes (a write to a file
			// does not let go of the P), so each would make a write
			// of its own: let the callers that are ready run first
			// and add their bytes to this flush. With more, they run
			// meanwhile, and waiting for them would only make this
			// caller later.
			w.mu.Unlock()
			runtime.Gosched()
			w.mu.Lock()
		}
		o, e, upto := w.pendingOut, w.pendingErr, w.queued
		w.pendingOut, w.pendingErr = w.spareOut[:0], w.spareErr[:0]
		w.mu.Unlock()
		if len(o) > 0 {
			w.out.Write(o)
		}
		if len(e) > 0 {
			w.errOut.Write(e)
		}
		w.mu.Lock()
		// Keep the buffers for the next flush (the two pairs
		// alternate), unless a huge body made them worth giving back.
		w.spareOut, w.spareErr = reusable(o), reusable(e)
		w.flushed, w.flushing = upto, false
		w.written.Broadcast()
	}
}

// maxSpare bounds the buffers a GroupWriter keeps between flushes.
const maxSpare = 1 << 20

func reusable(b []byte) []byte {
	if cap(b) > maxSpare {
		return nil
	}
	return b
}
