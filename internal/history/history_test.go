package history

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/jql"
	"github.com/jwh-cli/jwh/internal/listen"
)

// line returns the record line of a delivery.
func line(seq int64, event, issue, id string) []byte {
	body := fmt.Sprintf(`{"webhookEvent":%q,"issue":{"id":"1%d","key":%q,"fields":{"project":{"key":%q},"status":{"name":"Done"}}}}`,
		event, seq, issue, strings.Split(issue, "-")[0])
	r := &listen.Record{
		Seq: seq, Received: time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC), Method: "POST", Path: "/hook",
		Body: []byte(body), Verdict: listen.VerdictVerified, Identifier: id, Status: 200, Event: event, Issue: issue,
	}
	return r.AppendLine(nil)
}

func TestAppendConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.ndjson")
	h, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Append(line(int64(i+1), "jira:issue_updated", "PRJ-1", fmt.Sprint("id-", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != 0o600 {
			t.Errorf("mode %v, want 0600", m)
		}
	}
	recs, err := ReadFile(path, nil, func(w string) { t.Errorf("warning: %s", w) })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	seen := map[int64]bool{}
	for _, r := range recs {
		seen[r.Seq] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct records, want %d", len(seen), n)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.ndjson")
	h, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "is being saved to by another jwh listen") {
		t.Errorf("second Open: %v, want ErrLocked", err)
	}
	h.Close()
	h, err = Open(path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	h.Close()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "h.ndjson")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTornLastLine(t *testing.T) {
	one, two := string(line(1, "jira:issue_updated", "PRJ-1", "a")), string(line(2, "jira:issue_created", "PRJ-2", "b"))
	path := writeFile(t, one+"\n"+two+"\n"+two[:len(two)/2])

	var warnings []string
	recs, err := ReadFile(path, nil, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1].Seq != 2 {
		t.Errorf("read %d records, want 2", len(recs))
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], path+":3: skipped the last line, which is incomplete") {
		t.Errorf("warnings %q", warnings)
	}

	// The next listener cuts the torn line off, and its lines follow
	// whole ones.
	h, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Cut != int64(len(two)/2) {
		t.Errorf("cut %d bytes, want %d", h.Cut, len(two)/2)
	}
	if err := h.Append(line(3, "jira:issue_deleted", "PRJ-3", "c")); err != nil {
		t.Fatal(err)
	}
	h.Close()
	recs, err = ReadFile(path, nil, func(w string) { t.Errorf("warning: %s", w) })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[2].Seq != 3 {
		t.Errorf("read %d records after the repair, want 3", len(recs))
	}
}

func TestOpenEndsALastRecord(t *testing.T) {
	one := string(line(1, "jira:issue_updated", "PRJ-1", "a"))
	path := writeFile(t, one) // no new line: an edited file
	h, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Cut != 0 {
		t.Errorf("cut %d bytes of a whole record", h.Cut)
	}
	h.Append(line(2, "jira:issue_updated", "PRJ-1", "b"))
	h.Close()
	recs, err := ReadFile(path, nil, nil)
	if err != nil || len(recs) != 2 {
		t.Errorf("%d records, %v; want 2", len(recs), err)
	}
}

func TestDamagedMiddleLine(t *testing.T) {
	one := string(line(1, "jira:issue_updated", "PRJ-1", "a"))
	path := writeFile(t, one+"\n"+one[:40]+"\n"+one+"\n")
	_, err := ReadFile(path, nil, nil)
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.HasPrefix(err.Error(), path+":2: damaged record: not a record") {
		t.Errorf("ReadFile: %v, want a LineError for line 2", err)
	}
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	for name, content := range map[string]string{
		"json":          `{"tenants": []}` + "\n",
		"text":          "hello\n",
		"no new line":   "hello",
		"record-like":   `{"v":1,"seq":1,"received":"yesterday"}` + "\n" + string(line(2, "e", "PRJ-1", "a")) + "\n",
		"a future jwh?": `{"v":9,"received":"2026-12-02T03:04:05Z"}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, content)
			if _, err := Open(path); !errors.Is(err, ErrNotHistory) {
				t.Errorf("Open: %v, want ErrNotHistory", err)
			}
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Errorf("the file changed: %q", b)
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "nope"), nil, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile: %v", err)
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	if w.n >= 2 {
		return len(p) / 2, errors.New("no space left on device")
	}
	return len(p), nil
}

// TestKeeperStopsAfterAFailure: a line cut short by a failed write stays
// the last line of the file.
func TestKeeperStopsAfterAFailure(t *testing.T) {
	fw := &failingWriter{}
	k := &keeper{w: fw}
	w := listen.NewGroupWriter(k, io.Discard)
	w.WriteLine([]byte("one"))
	if k.Err() != nil {
		t.Fatal(k.Err())
	}
	w.WriteLine([]byte("two"))
	w.WriteLine([]byte("three"))
	if err := k.Err(); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Errorf("Err: %v", err)
	}
	if fw.n != 2 {
		t.Errorf("%d writes, want 2: nothing after the failure", fw.n)
	}
}

func TestFilter(t *testing.T) {
	var recs []*listen.Record
	for i, d := range []struct{ event, issue, id string }{
		{"jira:issue_created", "PRJ-1", "a"},
		{"jira:issue_updated", "PRJ-1", "b"},
		{"jira:issue_updated", "OPS-2", "c"},
		{"comment_created", "PRJ-3", "d"},
		{"jira:issue_updated", "PRJ-4", "e"},
		{"sprint_started", "", "f"},
	} {
		r, err := listen.ParseLine(line(int64(i+1), d.event, d.issue, d.id))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	// A refusal: no body, no event, but the identifier it was sent with
	// (an attempt of c whose token failed).
	recs = append(recs, &listen.Record{Seq: 7, Verdict: listen.VerdictRefused, Status: 401, Identifier: "c"})
	query := func(s string) *jql.Query {
		q, errs := jql.Validate(s)
		if errs != nil {
			t.Fatal(errs)
		}
		return q
	}
	for _, tt := range []struct {
		name string
		f    *Filter
		want []int64
	}{
		{"nil", nil, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"zero", &Filter{}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"event", &Filter{Events: []string{"jira:issue_updated"}}, []int64{2, 3, 5}},
		{"events", &Filter{Events: []string{"jira:issue_created", "comment_created"}}, []int64{1, 4}},
		{"issue", &Filter{Issues: []string{"prj-1"}}, []int64{1, 2}},
		{"identifier", &Filter{Identifiers: []string{"c", "e"}}, []int64{3, 5, 7}},
		// A sprint event passes a JQL filter, as Jira does not apply
		// filters to them; a refusal, without an event, does not.
		{"jql", &Filter{JQL: query("project = PRJ AND issueKey != PRJ-1")}, []int64{4, 5, 6}},
		{"jql and event", &Filter{JQL: query("project IN (PRJ, OPS)"), Events: []string{"jira:issue_updated"}}, []int64{2, 3, 5}},
		{"last", &Filter{Last: 2}, []int64{6, 7}},
		{"last of selected", &Filter{Events: []string{"jira:issue_updated"}, Last: 2}, []int64{3, 5}},
		{"last more than there are", &Filter{Issues: []string{"PRJ-1"}, Last: 5}, []int64{1, 2}},
		{"last, exactly", &Filter{Last: 7}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"last one", &Filter{Last: 1}, []int64{7}},
		{"nothing", &Filter{Issues: []string{"NOPE-1"}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			i := 0
			got, err := tt.f.Select(func() (*listen.Record, error) {
				if i == len(recs) {
					return nil, io.EOF
				}
				i++
				return recs[i-1], nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, r := range got {
				seqs = append(seqs, r.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tt.want) {
				t.Errorf("selected %v, want %v", seqs, tt.want)
			}
		})
	}
}
