// Package iostreams holds the standard streams of a command together with
// what is known about them: whether each is a terminal and whether colour
// is wanted. Commands write data to Out and everything else to ErrOut.
package iostreams

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// IOStreams are the streams of one command invocation.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inFd      int           // -1 when In is not a file
	lines     *bufio.Reader // In, read line by line (ReadLine, ReadSecretLine)
	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	color     bool
}

// System returns the process's streams. Colour is on when stdout is a
// terminal, NO_COLOR is unset or empty, and TERM is not "dumb".
func System() *IOStreams {
	s := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		inFd:      int(os.Stdin.Fd()),
		stdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	s.color = s.stdoutTTY && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	return s
}

// Test returns streams backed by buffers, none of them a terminal.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = new(bytes.Buffer), new(bytes.Buffer), new(bytes.Buffer)
	return &IOStreams{In: in, Out: out, ErrOut: errOut, inFd: -1}, in, out, errOut
}

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// ColorEnabled reports whether output to Out may be coloured.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// CanPrompt reports whether a person can answer a question.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stderrTTY }

// SetStdinTTY overrides terminal detection, for tests.
func (s *IOStreams) SetStdinTTY(v bool) { s.stdinTTY = v }

// SetStdoutTTY overrides terminal detection, for tests.
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }

// SetStderrTTY overrides terminal detection, for tests.
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// SetColorEnabled overrides colour detection, for tests.
func (s *IOStreams) SetColorEnabled(v bool) { s.color = v }

// ReadSecret reads a secret: from the terminal without echo after printing
// prompt to ErrOut when standard input is a terminal, else the whole of
// standard input with one trailing newline removed.
func (s *IOStreams) ReadSecret(prompt string) (string, error) {
	if s.stdinTTY && s.inFd >= 0 {
		fmt.Fprint(s.ErrOut, prompt)
		b, err := term.ReadPassword(s.inFd)
		fmt.Fprintln(s.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read secret: %w", err)
		}
		return string(b), nil
	}
	b, err := io.ReadAll(io.LimitReader(s.In, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read secret from standard input: %w", err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

// maxLine bounds a line read by ReadLine and ReadSecretLine.
const maxLine = 64 << 10

// ReadSecretLine reads a secret that is followed by more input: from the
// terminal without echo after printing prompt to ErrOut when standard
// input is a terminal, else the first line of standard input. What
// follows stays for ReadLine.
func (s *IOStreams) ReadSecretLine(prompt string) (string, error) {
	if s.stdinTTY && s.inFd >= 0 {
		return s.ReadSecret(prompt)
	}
	line, err := s.readLine()
	if err != nil {
		return "", fmt.Errorf("read secret from standard input: %w", err)
	}
	return line, nil
}

// ReadLine reads one line of standard input, without its line ending,
// after printing prompt to ErrOut when standard input is a terminal. At
// the end of the input, with nothing read, the error is io.EOF.
func (s *IOStreams) ReadLine(prompt string) (string, error) {
	if s.stdinTTY {
		fmt.Fprint(s.ErrOut, prompt)
	}
	return s.readLine()
}

func (s *IOStreams) readLine() (string, error) {
	if s.lines == nil {
		s.lines = bufio.NewReader(s.In)
	}
	var b strings.Builder
	for {
		chunk, err := s.lines.ReadSlice('\n')
		if b.Len()+len(chunk) > maxLine {
			return "", fmt.Errorf("a line longer than %d bytes", maxLine)
		}
		b.Write(chunk)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && b.Len() > 0:
		case err != nil:
			return "", err
		}
		return strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), "\r"), nil
	}
}

// Confirm asks a yes/no question on ErrOut and reads the answer from In.
// Only "y" and "yes" (any case) confirm.
func (s *IOStreams) Confirm(question string) (bool, error) {
	fmt.Fprintf(s.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && line == "" {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
