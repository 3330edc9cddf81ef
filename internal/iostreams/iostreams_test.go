package iostreams

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// TestReadSecretLineThenLine: piped input gives the secret on its first
// line and the next answer on the second, without prompts.
func TestReadSecretLineThenLine(t *testing.T) {
	s, in, _, errOut := Test()
	in.WriteString("s3cret\r\nhttp://localhost:8976/callback?code=c&state=s\n")
	secret, err := s.ReadSecretLine("Client secret: ")
	if err != nil || secret != "s3cret" {
		t.Fatalf("secret %q, %v", secret, err)
	}
	line, err := s.ReadLine("Paste: ")
	if err != nil || line != "http://localhost:8976/callback?code=c&state=s" {
		t.Fatalf("line %q, %v", line, err)
	}
	if _, err := s.ReadLine("Paste: "); !errors.Is(err, io.EOF) {
		t.Errorf("at the end: %v", err)
	}
	if errOut.Len() != 0 {
		t.Errorf("prompts on a pipe: %q", errOut)
	}
}

func TestReadLineLastLineWithoutNewline(t *testing.T) {
	s, in, _, _ := Test()
	in.WriteString("only")
	if line, err := s.ReadLine(""); err != nil || line != "only" {
		t.Errorf("%q, %v", line, err)
	}
}

func TestReadLineTooLong(t *testing.T) {
	s, in, _, _ := Test()
	in.WriteString(strings.Repeat("x", maxLine+1) + "\n")
	if _, err := s.ReadLine(""); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("got %v", err)
	}
}

// TestErrColorScheme: messages on standard error are coloured only when
// colour is enabled and standard error is a terminal.
func TestErrColorScheme(t *testing.T) {
	for _, tc := range []struct {
		color, stderrTTY, want bool
	}{
		{true, true, true}, {true, false, false}, {false, true, false}, {false, false, false},
	} {
		s, _, _, _ := Test()
		s.SetColorEnabled(tc.color)
		s.SetStderrTTY(tc.stderrTTY)
		if got := s.ErrColorScheme().Bold("x") != "x"; got != tc.want {
			t.Errorf("colour %v, stderr a terminal %v: paints %v, want %v", tc.color, tc.stderrTTY, got, tc.want)
		}
	}
}
