package docgen

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestReferenceUpToDate fails when docs/reference does not match the
// command tree: a flag, command or help text changed without the
// reference being regenerated.
func TestReferenceUpToDate(t *testing.T) {
	fresh := t.TempDir()
	if err := Markdown(fresh); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", ReferenceDir)
	want := pages(t, fresh)
	have := pages(t, committed)
	const fix = "docs/reference is stale: run 'go run ./cmd/gen-docs' and commit the result"
	for name, body := range want {
		got, ok := have[name]
		switch {
		case !ok:
			t.Errorf("%s: %s is missing", fix, name)
		case got != body:
			t.Errorf("%s: %s differs", fix, name)
		}
	}
	for name := range have {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: %s documents a command that no longer exists", fix, name)
		}
	}
}

func TestMan(t *testing.T) {
	dir := t.TempDir()
	if err := Man(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "jwh.1")); err != nil {
		t.Fatalf("no jwh.1: %v", err)
	}
}

func pages(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "jwh*.md"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	m := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(p)] = string(b)
	}
	return m
}
