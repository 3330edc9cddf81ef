package iostreams

import (
	"io"
	"sync"
)

// LockedWriter passes each Write on to the writer it wraps, one at a time,
// for streams that several goroutines write to (the log of jwh sandbox and
// the command's own lines; the steps, listener and sandbox of jwh demo), so
// that each Write reaches the stream whole.
type LockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLockedWriter returns a LockedWriter that writes to w.
func NewLockedWriter(w io.Writer) *LockedWriter { return &LockedWriter{w: w} }

func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
