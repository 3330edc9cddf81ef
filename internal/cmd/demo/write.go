package demo

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/jwh-cli/jwh/internal/cmd/sandboxcmd"
	"github.com/jwh-cli/jwh/internal/sandbox"
)

// prefixWriter writes prefix at the start of every line, so that the
// output of the in-process listener and sandbox stands apart from that of
// the commands. Empty lines are dropped: the only one the listener writes
// follows the ^C that a terminal echoes, which the demo does not have.
// Each Write is passed on as one Write.
type prefixWriter struct {
	w      io.Writer
	prefix string

	mu     sync.Mutex
	midway bool // the last Write did not end a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for rest := b; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		switch {
		case p.midway:
		case line[0] == '\n':
			continue
		default:
			out = append(out, p.prefix...)
		}
		out = append(out, line...)
		p.midway = line[len(line)-1] != '\n'
	}
	if len(out) > 0 {
		if _, err := p.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// attempt prints a delivery attempt of the sandbox, as jwh sandbox logs
// it, and counts the deliveries given up on.
func (t *tour) attempt(a sandbox.AttemptReport) {
	if a.Outcome == sandbox.OutcomeFailed {
		t.failed.Add(1)
	}
	fmt.Fprintln(t.sandboxLog, sandboxcmd.AttemptLine(a))
}

// shellJoin quotes args as a POSIX shell would need them.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
