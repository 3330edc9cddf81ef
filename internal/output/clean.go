package output

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean makes s, which a stranger may have chosen (a delivery's header, a
// field of its body, a claim of its token), safe to print on one line of
// a terminal: control characters (escape sequences, new lines),
// bidirectional controls and invalid UTF-8 become U+FFFD, and s is cut
// after max runes, with "…".
func Clean(s string, max int) string { return sanitize(s, max, false) }

// CleanMultiline is Clean for text whose lines matter (a panic's stack
// trace): new lines and tabs are kept, and a final new line dropped.
func CleanMultiline(s string) string {
	return sanitize(strings.TrimRight(s, "\n"), 1<<20, true)
}

func sanitize(s string, max int, multiline bool) string {
	safe := len(s) <= max
	for i := 0; safe && i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			safe = false
		}
	}
	if safe {
		return s
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		switch {
		case multiline && (c == '\n' || c == '\t'):
		case c == utf8.RuneError || unicode.IsControl(c) || unicode.Is(unicode.Bidi_Control, c):
			c = utf8.RuneError
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}
