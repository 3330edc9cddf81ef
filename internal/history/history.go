// Package history owns the delivery history of jwh listen --save: a file
// of records (listen.Record), one JSON line each, that a listener appends
// to and jwh history, jwh replay and people read. It also owns the
// filters that select deliveries, shared by history, replay and listen.
//
// A listener holds the file's lock (lockedfile, FILE.lock) for as long
// as it runs, so that two listeners never interleave their lines; it
// writes each batch of lines with one write (group commit), each line
// before its delivery is answered. A listener that is killed leaves
// whole lines, except perhaps a torn last one: readers skip it with a
// warning, and the next listener to open the file cuts it off. The lines
// reach the operating system, not the disk: a listener that dies loses
// nothing, a machine that loses power may.
package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/lockedfile"
)

// ErrLocked is wrapped by the error of Open when another process (a
// listener) holds the file.
var ErrLocked = lockedfile.ErrLocked

// ErrNotHistory is wrapped by the error of Open for an existing file whose
// first line is not a record: appending to it would damage someone's
// file.
var ErrNotHistory = errors.New("not a jwh history file")

// A File is a history file open for appending, locked until Close.
type File struct {
	path   string
	f      *os.File
	unlock func()
	out    *keeper
	w      *listen.GroupWriter
	// Cut is how many bytes of a torn last line Open cut off: a line
	// that a listener killed while writing it did not finish.
	Cut int64
}

// Open opens the history file at path for appending, creating it (mode
// 0600) if needed, and takes its lock, without waiting: when another
// listener holds it, the error wraps ErrLocked. An existing file must be
// a history file (ErrNotHistory otherwise); a torn last line is cut off
// (see Cut).
func Open(path string) (*File, error) {
	unlock, err := lockedfile.MutexFor(path).TryLock()
	if err != nil {
		if errors.Is(err, lockedfile.ErrLocked) {
			return nil, fmt.Errorf("%s is being saved to by another jwh listen (it holds %s.lock): stop it, or save to another file: %w", path, path, ErrLocked)
		}
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		unlock()
		return nil, err
	}
	h := &File{path: path, f: f, unlock: unlock}
	if err := h.check(); err != nil {
		f.Close()
		unlock()
		return nil, err
	}
	h.out = &keeper{w: f}
	h.w = listen.NewGroupWriter(h.out, io.Discard)
	return h, nil
}

// maxFirstLine is how much of an existing file Open reads to check that
// its first line is a record; a longer first line is not checked.
const maxFirstLine = 1 << 20

// check makes sure that an existing file is a history file, and cuts off
// a torn last line.
func (h *File) check() error {
	st, err := h.f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	first := make([]byte, min(size, maxFirstLine))
	if _, err := h.f.ReadAt(first, 0); err != nil && err != io.EOF {
		return err
	}
	if !bytes.HasPrefix(first, []byte(recordStart)) {
		return fmt.Errorf("%s: %w (it does not start with a record); save to a new file", h.path, ErrNotHistory)
	}
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		if _, err := listen.ParseLine(first[:i]); err != nil {
			return fmt.Errorf("%s: %w (its first line is not a record: %v); save to a new file", h.path, ErrNotHistory, err)
		}
	}
	// Find the start of the last line, reading backwards.
	end := size
	var tail []byte
	for end > 0 {
		n := min(end, 64<<10)
		buf := make([]byte, n)
		if _, err := h.f.ReadAt(buf, end-n); err != nil && err != io.EOF {
			return err
		}
		if end == size && buf[n-1] == '\n' {
			return nil // whole lines only
		}
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			tail = append(buf[i+1:], tail...)
			end = end - n + int64(i) + 1
			break
		}
		tail = append(buf, tail...)
		end -= n
	}
	if _, err := listen.ParseLine(tail); err == nil {
		// A whole record without its new line (an edited file): end it.
		_, err := h.f.Write([]byte{'\n'})
		return err
	}
	if err := h.f.Truncate(end); err != nil {
		return fmt.Errorf("cutting off the torn last line of %s: %w", h.path, err)
	}
	h.Cut = size - end
	return nil
}

// recordStart is how every record line starts.
const recordStart = `{"v":`

// Path returns the file's path.
func (h *File) Path() string { return h.path }

// Append writes one record line (without its new line) and a new line,
// and returns once it is written to the file. Concurrent calls are
// written together, with one write to the file, in the order they came.
// After a write fails, nothing more is written (a line cut short by a
// full disk stays the last) and every Append returns that error.
func (h *File) Append(line []byte) error {
	h.w.WriteLine(line)
	return h.out.Err()
}

// Close closes the file and releases its lock.
func (h *File) Close() error {
	err := h.f.Close()
	h.unlock()
	return err
}

// keeper passes writes on to w until one fails, then refuses them all.
type keeper struct {
	w   io.Writer
	mu  sync.Mutex
	err error
}

func (k *keeper) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return 0, k.err
	}
	n, err := k.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	k.err = err
	return n, err
}

// Err returns the error of the write that failed, if any.
func (k *keeper) Err() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// A LineError is a damaged line in the middle of a history file: not a
// torn last line, which readers skip, but something that needs a person.
type LineError struct {
	Name string // the file's name, for the message
	Line int    // 1-based
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: damaged record: %v", e.Name, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// A Reader reads the records of a history file in order.
type Reader struct {
	br   *bufio.Reader
	name string
	line int
	// Warn, when set, is told about a torn last line, which Next skips.
	Warn func(msg string)
}

// NewReader returns a Reader of r; name names it in errors and warnings.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), name: name}
}

// Next returns the next record, or io.EOF after the last. A line that is
// not a record is a *LineError, unless it is the last line and has no new
// line: a line a listener was writing (or was killed while writing),
// which is skipped with a warning. Empty lines are skipped.
func (r *Reader) Next() (*listen.Record, error) {
	for {
		line, err := r.br.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("reading %s: %w", r.name, err)
		}
		r.line++
		whole := err == nil
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading %s: %w", r.name, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, perr := listen.ParseLine(line)
		switch {
		case perr == nil:
			return rec, nil
		case !whole:
			if r.Warn != nil {
				r.Warn(fmt.Sprintf("%s:%d: skipped the last line, which is incomplete (%d bytes): a listener was writing it, or stopped while it did", r.name, r.line, len(line)))
			}
			return nil, io.EOF
		default:
			return nil, &LineError{Name: r.name, Line: r.line, Err: perr}
		}
	}
}

// ReadFile reads the records of the history file at path that f selects
// (all of them when f is nil), in order. warn is told about a torn last
// line. A file that does not exist is an error wrapping fs.ErrNotExist.
func ReadFile(path string, f *Filter, warn func(string)) ([]*listen.Record, error) {
	file, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such history file: %w", path, fs.ErrNotExist)
		}
		return nil, err
	}
	defer file.Close()
	r := NewReader(file, path)
	r.Warn = warn
	return f.Select(r.Next)
}
