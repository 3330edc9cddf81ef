package lockedfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as a second process: with helperEnv set, TestMain
// runs one of the helpers below instead of the tests.
const helperEnv = "LOCKEDFILE_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "hold":
		helperHold(os.Args[len(os.Args)-1])
	case "try":
		helperTry(os.Args[len(os.Args)-1])
	case "count":
		n, _ := strconv.Atoi(os.Args[len(os.Args)-2])
		helperCount(os.Args[len(os.Args)-1], n)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper")
		os.Exit(2)
	}
}

// helperHold takes the lock, says "locked" and keeps it until it is killed
// or its standard input closes.
func helperHold(path string) {
	if _, err := MutexFor(path).Lock(context.Background()); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0) // without unlocking: exiting releases the lock
}

// helperTry waits 100 ms for the lock and prints the outcome.
func helperTry(path string) {
	m := MutexFor(path)
	m.Wait = 100 * time.Millisecond
	unlock, err := m.Lock(context.Background())
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	unlock()
	fmt.Println("locked")
}

// helperCount adds 1 to the number in the file n times, one Update each.
func helperCount(path string, n int) {
	m := MutexFor(path)
	m.Wait = time.Minute
	for range n {
		if err := m.Update(context.Background(), increment); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

func increment(old []byte) ([]byte, error) {
	n := 0
	if len(old) > 0 {
		var err error
		if n, err = strconv.Atoi(string(old)); err != nil {
			return nil, err
		}
	}
	return []byte(strconv.Itoa(n + 1)), nil
}

// helper returns a command running this test binary as the named helper.
func helper(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestLockExcludesAnotherMutex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	unlock, err := MutexFor(path).Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// A second Mutex opens the lock file anew: in one process too it
	// waits, then gives up with the error a user sees.
	other := MutexFor(path)
	other.Wait = 50 * time.Millisecond
	_, err = other.Lock(context.Background())
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("Lock while another holds it: %v, want a *TimeoutError", err)
	}
	want := fmt.Sprintf("another jwh is changing %s (waited 50ms for %s.lock); try again", path, path)
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if _, err := other.TryLock(); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path+".lock") {
		t.Errorf("TryLock while another holds it: %v, want ErrLocked naming the lock file", err)
	}

	unlock()
	unlock() // a second call does nothing
	unlock2, err := other.TryLock()
	if err != nil {
		t.Fatalf("TryLock once released: %v", err)
	}
	unlock2()
	unlock3, err := other.Lock(context.Background())
	if err != nil {
		t.Fatalf("Lock once released: %v", err)
	}
	unlock3()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("locking created the guarded file: %v", err)
	}
}

func TestLockDefaultWaitText(t *testing.T) {
	err := &TimeoutError{Path: "/home/u/.config/jwh/config.json", LockPath: "/home/u/.config/jwh/config.json.lock", Waited: DefaultWait}
	want := "another jwh is changing /home/u/.config/jwh/config.json (waited 5s for /home/u/.config/jwh/config.json.lock); try again"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

func TestLockExcludesAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")

	// This process holds the lock: another one gives up.
	unlock, err := MutexFor(path).Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := helper(t, "try", path).Output()
	want := fmt.Sprintf("another jwh is changing %s (waited 100ms for %s.lock); try again\n", path, path)
	if err == nil || string(out) != want {
		t.Errorf("the other process while this one holds the lock: %v, printed %q, want %q", err, out, want)
	}
	unlock()
	if out, err := helper(t, "try", path).Output(); err != nil || string(out) != "locked\n" {
		t.Errorf("the other process once released: %v, printed %q", err, out)
	}

	// Another process holds it: this one cannot take it, until that
	// process dies without unlocking.
	hold := helper(t, "hold", path)
	stdin, err := hold.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := hold.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		hold.Process.Kill()
		hold.Wait()
		t.Fatalf("the holding process said %q", line)
	}
	if _, err := MutexFor(path).TryLock(); !errors.Is(err, ErrLocked) {
		t.Errorf("TryLock while another process holds the lock: %v", err)
	}
	if err := hold.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	hold.Wait()
	m := MutexFor(path)
	m.Wait = time.Minute
	unlock, err = m.Lock(context.Background())
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	unlock()
}

func TestLockCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	unlock, err := MutexFor(path).Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := MutexFor(path)
	m.Wait = time.Minute
	if _, err := m.Lock(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a canceled context: %v", err)
	}
}

func TestLockMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "config.json")
	_, err := MutexFor(path).Lock(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot lock "+path) {
		t.Errorf("Lock in a missing directory: %v", err)
	}
	var te *TimeoutError
	if errors.As(err, &te) {
		t.Error("a missing directory is not a timeout")
	}
}

// TestUpdateRereadsInsideTheLock changes the file while an Update waits
// for the lock: the Update must start from the new content.
func TestUpdateRereadsInsideTheLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter")
	if err := os.WriteFile(path, []byte("1"), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock, err := MutexFor(path).Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var seen []byte
	go func() {
		m := MutexFor(path)
		m.Wait = time.Minute
		done <- m.Update(context.Background(), func(old []byte) ([]byte, error) {
			seen = old
			return increment(old)
		})
	}()
	// Give the Update time to start waiting; it passes without this wait
	// too, but a version that read before locking would then read "1".
	time.Sleep(50 * time.Millisecond)
	if err := os.WriteFile(path, []byte("41"), 0o600); err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if string(seen) != "41" {
		t.Errorf("Update saw %q, want the content written while it waited (41)", seen)
	}
	if b, _ := os.ReadFile(path); string(b) != "42" {
		t.Errorf("file %q, want 42", b)
	}
}

// TestUpdateManyProcesses runs processes that each increment a counter
// many times: no increment may be lost.
func TestUpdateManyProcesses(t *testing.T) {
	const procs, each = 4, 25
	path := filepath.Join(t.TempDir(), "counter")
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := helper(t, "count", strconv.Itoa(each), path).Run(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(procs * each); string(b) != want {
		t.Errorf("counter %s, want %s: updates were lost", b, want)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestUpdate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials.json")
	m := MutexFor(path)

	// A missing file is nil.
	err := m.Update(context.Background(), func(old []byte) ([]byte, error) {
		if old != nil {
			t.Errorf("old content of a missing file: %q, want nil", old)
		}
		return []byte("a"), nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// An error from change leaves the file alone and is returned as is.
	boom := errors.New("boom")
	if err := m.Update(context.Background(), func([]byte) ([]byte, error) { return []byte("b"), boom }); err != boom {
		t.Errorf("Update: %v, want change's error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "a" {
		t.Errorf("file %q after a failed change, want a", b)
	}

	// The lock is free again after either.
	unlock, err := m.TryLock()
	if err != nil {
		t.Fatal(err)
	}
	unlock()

	// Update waits like Lock, and gives up the same way.
	unlock, err = m.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	other := MutexFor(path)
	other.Wait = 10 * time.Millisecond
	called := false
	err = other.Update(context.Background(), func([]byte) ([]byte, error) { called = true; return nil, nil })
	var te *TimeoutError
	if !errors.As(err, &te) || called {
		t.Errorf("Update while locked: %v (change called: %v), want a *TimeoutError", err, called)
	}
}
