// Package lockedfile serialises changes to a file across processes. A jwh
// that rewrites a file (the config, the sandbox's state) first takes the
// lock of a file next to it, path+".lock", so that two runs never start
// their changes from the same old content and one never undoes the
// other's. Readers take no lock: files are replaced atomically (see
// atomicfile), so a reader sees the old content or the new, never a mix.
//
// The lock is an advisory lock on the lock file (flock on Unix, LockFileEx
// on Windows). It belongs to an open file, not to a process: two Mutexes
// in one process exclude each other too, and a process that dies, however
// it dies, releases its locks. The lock file is never removed (removing it
// would let two holders lock two different files of the same name).
//
// The model is cmd/go/internal/lockedfile.
package lockedfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/jwh-cli/jwh/internal/atomicfile"
)

// DefaultWait is how long Lock waits for another holder to finish: long
// enough for any jwh command to make its change, short enough that a
// script or cron job waiting for a stuck one fails with a clear error.
const DefaultWait = 5 * time.Second

// Polling bounds: a change under the lock takes milliseconds, so the
// first retries come quickly; later ones back off.
const (
	firstRetry = 2 * time.Millisecond
	maxRetry   = 100 * time.Millisecond
)

// ErrLocked is wrapped by the error of TryLock when another process (or
// another Mutex of this one) holds the lock.
var ErrLocked = errors.New("locked by another process")

// A Mutex guards one file across processes by locking path+".lock". The
// zero value is not usable; create one with MutexFor. A Mutex is
// stateless: every Lock opens the lock file anew, so one Mutex may be
// used by several goroutines, each holding the lock in turn. For the same
// reason the lock is not reentrant: a holder that locks the same file
// again (with Lock, TryLock or Update) waits for itself and fails, so work
// done under the lock writes the file with atomicfile.WritePrivate.
type Mutex struct {
	// Wait is how long Lock and Update wait for another holder; zero
	// means DefaultWait.
	Wait time.Duration

	path string
}

// MutexFor returns the mutex that guards the file at path. Its lock file
// is path+".lock", in the same directory, which must exist.
func MutexFor(path string) *Mutex { return &Mutex{path: path} }

// LockPath returns the path of the lock file.
func (m *Mutex) LockPath() string { return m.path + ".lock" }

// Lock takes the lock, waiting up to m.Wait for another holder to release
// it, and returns the func that releases it (calling it again does
// nothing). It polls, quickly at first and then less often. When the wait
// runs out the error is a *TimeoutError; when ctx ends first, ctx.Err()
// wrapped.
func (m *Mutex) Lock(ctx context.Context) (unlock func(), err error) {
	wait := m.Wait
	if wait <= 0 {
		wait = DefaultWait
	}
	fl := flock.New(m.LockPath())
	timer := time.NewTimer(wait)
	defer timer.Stop()
	retry := firstRetry
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("cannot lock %s: %w", m.path, err)
		}
		if ok {
			return unlocker(fl), nil
		}
		poll := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			poll.Stop()
			return nil, fmt.Errorf("waiting for %s: %w", m.LockPath(), ctx.Err())
		case <-timer.C:
			poll.Stop()
			// One last try: the holder may have finished just now.
			if ok, err := fl.TryLock(); err == nil && ok {
				return unlocker(fl), nil
			}
			return nil, &TimeoutError{Path: m.path, LockPath: m.LockPath(), Waited: wait}
		case <-poll.C:
		}
		retry = min(2*retry, maxRetry)
	}
}

// TryLock takes the lock if nobody holds it, without waiting, and returns
// the func that releases it. When somebody does, the error wraps
// ErrLocked. It suits a holder that keeps the lock for as long as it runs,
// such as a sandbox on its state file, where waiting would not help.
func (m *Mutex) TryLock() (unlock func(), err error) {
	fl := flock.New(m.LockPath())
	ok, err := fl.TryLock()
	switch {
	case err != nil:
		return nil, fmt.Errorf("cannot lock %s: %w", m.path, err)
	case !ok:
		return nil, fmt.Errorf("%s: %w (it holds %s)", m.path, ErrLocked, m.LockPath())
	}
	return unlocker(fl), nil
}

func unlocker(fl *flock.Flock) func() {
	var once sync.Once
	// Unlock closes the lock file; an error there leaves nothing held.
	return func() { once.Do(func() { _ = fl.Unlock() }) }
}

// Update changes the guarded file under the lock: it takes the lock (as
// Lock does), reads the file, passes its content to change (nil when the
// file does not exist), and replaces the file with what change returns,
// atomically and with mode 0600 (see atomicfile.WritePrivate). Because the
// file is read inside the lock, change always starts from what the last
// holder wrote. If change returns an error, the file is left as it was and
// Update returns that error.
func (m *Mutex) Update(ctx context.Context, change func(old []byte) ([]byte, error)) error {
	unlock, err := m.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	old, err := os.ReadFile(m.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	data, err := change(old)
	if err != nil {
		return err
	}
	return atomicfile.WritePrivate(m.path, data)
}

// TimeoutError reports that another holder kept the lock for longer than
// the wait. Trying again later is the remedy, so it is a plain failure,
// not bad input.
type TimeoutError struct {
	Path     string        // the guarded file
	LockPath string        // its lock file
	Waited   time.Duration // how long Lock waited
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("another jwh is changing %s (waited %s for %s); try again", e.Path, e.Waited, e.LockPath)
}
