package inspect

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
)

// An entry is one record held by the ring: its line, as given to Add, and
// the record's seq, by which the page and the replay endpoint name it.
type entry struct {
	n    uint64 // the order of arrival, from 1: what a stream resumes after
	seq  int64  // the record's seq
	line []byte
}

// ring holds the last records: at most keep of them and at most maxBytes
// of lines (the oldest go first, but the newest record is always kept).
// Add never waits for a reader: the streams to the pages read from the
// ring at their own pace, and one that falls behind by more than the ring
// skips what it has missed.
type ring struct {
	keep     int
	maxBytes int64

	mu      sync.Mutex
	buf     []*entry // circular, len(buf) == keep once full
	head    int      // index of the oldest entry in buf
	size    int      // entries held
	bytes   int64    // of the lines held
	n       uint64   // arrivals so far
	lastSeq int64    // the largest seq seen
	bySeq   map[int64]*entry
	changed chan struct{} // closed and replaced by every add
}

func newRing(keep int, maxBytes int64) *ring {
	return &ring{
		keep:     keep,
		maxBytes: maxBytes,
		bySeq:    make(map[int64]*entry),
		changed:  make(chan struct{}),
	}
}

// add appends line, whose record's seq is seq (0 when it has none: the
// ring then numbers it after the largest seq seen).
func (r *ring) add(seq int64, line []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if seq <= 0 {
		seq = r.lastSeq + 1
	}
	r.lastSeq = max(r.lastSeq, seq)
	r.n++
	e := &entry{n: r.n, seq: seq, line: line}
	if r.size == r.keep {
		r.dropOldest()
	}
	if len(r.buf) < r.keep {
		r.buf = append(r.buf, e)
	} else {
		r.buf[(r.head+r.size)%r.keep] = e
	}
	r.size++
	r.bytes += int64(len(line))
	r.bySeq[seq] = e
	for r.bytes > r.maxBytes && r.size > 1 {
		r.dropOldest()
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// dropOldest forgets the oldest entry; r.mu is held and r.size > 0.
func (r *ring) dropOldest() {
	e := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % r.keep
	r.size--
	r.bytes -= int64(len(e.line))
	if r.bySeq[e.seq] == e {
		delete(r.bySeq, e.seq)
	}
}

// after returns the entries that arrived after the n-th (all of them for
// 0; those still held when the reader has fallen behind) and a channel
// that is closed when another arrives.
func (r *ring) after(n uint64) ([]*entry, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*entry
	if r.size > 0 {
		oldest := r.buf[r.head].n
		skip := 0
		if n >= oldest {
			skip = int(n - oldest + 1)
		}
		for i := skip; i < r.size; i++ {
			out = append(out, r.buf[(r.head+i)%r.keep])
		}
	}
	return out, r.changed
}

// resume returns the arrival number of the record with the given seq, for
// a stream that resumes after it (Last-Event-ID), and whether the ring
// still holds it.
func (r *ring) resume(seq int64) (uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.bySeq[seq]
	if !ok {
		return 0, false
	}
	return e.n, true
}

// line returns the line of the record with the given seq, if held.
func (r *ring) line(seq int64) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.bySeq[seq]
	if !ok {
		return nil, false
	}
	return e.line, true
}

// stats returns how many records and bytes of lines the ring holds.
func (r *ring) stats() (int, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.size, r.bytes
}

// lineSeq reads the seq of a record line (0 when it has none, or one that
// is not a whole number), and reports whether the line is a JSON object.
// A line that starts as the listener writes its records is not read past
// its seq (see recordSeq); another is decoded, keeping only seq.
func lineSeq(line []byte) (int64, bool) {
	if seq, ok := recordSeq(line); ok {
		return seq, true
	}
	if t := bytes.TrimLeft(line, " \t"); len(t) == 0 || t[0] != '{' {
		return 0, false
	}
	var r struct {
		Seq json.RawMessage `json:"seq"`
	}
	if json.Unmarshal(line, &r) != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(string(r.Seq), 10, 64)
	if err != nil {
		n = 0
	}
	return n, true
}

// recordSeq reads the seq of a line that starts as listen.Record.AppendLine
// writes every record, {"v":1,"seq":17, and ends with }, without reading
// the rest: the listener calls Add before it answers each delivery, and a
// body may be megabytes that decoding would scan for nothing.
func recordSeq(line []byte) (int64, bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"v":`))
	if !ok || line[len(line)-1] != '}' {
		return 0, false
	}
	v := digits(rest)
	if rest, ok = bytes.CutPrefix(rest[v:], []byte(`,"seq":`)); v == 0 || !ok {
		return 0, false
	}
	n := digits(rest)
	if n == 0 || n >= len(rest) || rest[n] != ',' {
		return 0, false
	}
	seq, err := strconv.ParseInt(string(rest[:n]), 10, 64)
	return seq, err == nil
}

// digits returns how many decimal digits b starts with.
func digits(b []byte) int {
	n := 0
	for n < len(b) && '0' <= b[n] && b[n] <= '9' {
		n++
	}
	return n
}
