package iostreams

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// TestLockedWriterKeepsWritesWhole writes lines from many goroutines
// through a writer that would interleave them byte by byte.
func TestLockedWriterKeepsWritesWhole(t *testing.T) {
	var buf bytes.Buffer
	w := NewLockedWriter(&byteWriter{&buf})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			line := strings.Repeat(string(rune('a'+g)), 50) + "\n"
			for range 20 {
				w.Write([]byte(line))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 160 {
		t.Fatalf("%d lines, want 160", len(lines))
	}
	for _, l := range lines {
		if len(l) != 50 || strings.Count(l, l[:1]) != 50 {
			t.Fatalf("interleaved line %q", l)
		}
	}
}

// byteWriter writes one byte at a time, as a stream that splits writes
// would: unserialised, concurrent writes interleave (and race).
type byteWriter struct{ buf *bytes.Buffer }

func (b *byteWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		b.buf.WriteByte(c)
	}
	return len(p), nil
}
