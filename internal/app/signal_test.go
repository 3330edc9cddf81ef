//go:build unix

package app

import (
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
)

// signalWriter reports on ready the first write that contains want.
type signalWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	want  string
	ready chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestRunSignalled interrupts a running command the way Ctrl-C does, with
// SIGINT to the process, and checks that Run returns 130.
func TestRunSignalled(t *testing.T) {
	f, _ := testFactory(t)
	errOut := &signalWriter{want: "Ctrl-C stops the sandbox", ready: make(chan struct{})}
	f.IOStreams.ErrOut = errOut
	f.IOStreams.Out = io.Discard
	done := make(chan int, 1)
	go func() { done <- Run(f, []string{"sandbox", "--addr", "127.0.0.1:0", "--quiet"}) }()
	select {
	case <-errOut.ready:
	case code := <-done:
		t.Fatalf("jwh sandbox stopped with %d before it was ready:\n%s", code, errOut)
	case <-time.After(30 * time.Second):
		t.Fatalf("jwh sandbox not ready after 30s:\n%s", errOut)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != cmdutil.ExitInterrupted {
			t.Errorf("exit status %d after SIGINT, want %d; stderr:\n%s", code, cmdutil.ExitInterrupted, errOut)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("jwh sandbox still running 30s after SIGINT:\n%s", errOut)
	}
}
