package demo

import (
	"bytes"
	"testing"
)

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"register", "--url", "http://127.0.0.1:80/", "--jql", "project = DEMO", "", "it's", "a,b=c"})
	want := `register --url http://127.0.0.1:80/ --jql 'project = DEMO' '' 'it'\''s' a,b=c`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestPrefixWriter(t *testing.T) {
	var b bytes.Buffer
	w := &prefixWriter{w: &b, prefix: "> "}
	for _, s := range []string{"one\ntw", "o\n", "", "\nthree\n\nfour\n", "\n"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if want := "> one\n> two\n> three\n> four\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
