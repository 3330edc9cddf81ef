package listencmd

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwh-cli/jwh/internal/history"
	"github.com/jwh-cli/jwh/internal/listen"
)

// TestListenSave: every answered request is in the --save file once it
// has been answered, bodies byte for byte, and the file needs no lock to
// be read.
func TestListenSave(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(t.TempDir(), "deliveries.ndjson")
	r := h.start(t, "--path", "/hook", "--save", path)
	acme := h.jira(acmeKey, "acme", "/")
	sends := []struct {
		d      delivery
		status int
	}{
		{delivery{path: "/hook", body: payload("PRJ-1"), identifier: "one", signer: acme}, 200},
		{delivery{path: "/hook", body: payload("PRJ-1"), identifier: "one", retry: 1, signer: acme}, 200},
		{delivery{path: "/hook", body: payload("PRJ-2"), identifier: "two"}, 401},
		{delivery{path: "/hook", body: []byte("{\n  \"webhookEvent\": \"jira:issue_created\"\n}"), identifier: "pretty", signer: acme}, 200},
	}
	for i, s := range sends {
		if status, _ := r.send(t, s.d); status != s.status {
			t.Fatalf("delivery %d: status %d, want %d", i, status, s.status)
		}
		// Written before the answer: it is there now.
		recs, err := history.ReadFile(path, nil, func(w string) { t.Errorf("warning: %s", w) })
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != i+1 {
			t.Fatalf("after delivery %d: %d records in the file, want %d", i, len(recs), i+1)
		}
		got := recs[i]
		if got.Status != s.status || got.Identifier != s.d.identifier {
			t.Errorf("record %d: %+v", i, got)
		}
		if s.status == 200 && !bytes.Equal(got.Body, s.d.body) {
			t.Errorf("record %d: body\n got %q\nwant %q", i, got.Body, s.d.body)
		}
	}
	if err := r.stop(); exitCode(err) != 130 {
		t.Errorf("stop: %v", err)
	}
	recs, err := history.ReadFile(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !recs[1].Duplicate || recs[2].Verdict != listen.VerdictRefused || recs[2].Check != "missing" || recs[0].Tenant != "acme" {
		t.Errorf("records: %+v\n%+v\n%+v", recs[0], recs[1], recs[2])
	}
	if want := "saving every request to " + path; !strings.Contains(h.errOut.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, h.errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"acme", "globex", "beta"} {
		if bytes.Contains(data, secretOf(name)) {
			t.Errorf("the file holds the secret of %s", name)
		}
	}
	if bytes.Contains(data, []byte(`"Authorization"`)) {
		t.Errorf("the file holds an Authorization header")
	}
}

// TestListenSaveLocked: a second listener on the same file says so at
// once (exit 1), and a file that is not a history is refused (exit 2).
func TestListenSaveLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deliveries.ndjson")
	h := newHarness(t)
	h.start(t, "--save", path)

	h2 := newHarness(t)
	o := h2.options(t, "--save", path, "--addr", "127.0.0.1:0")
	err := listenRun(t.Context(), o)
	if !errors.Is(err, history.ErrLocked) || exitCode(err) != 1 ||
		!strings.Contains(err.Error(), path+" is being saved to by another jwh listen") {
		t.Errorf("second listener: %v (exit %d)", err, exitCode(err))
	}

	other := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(other, []byte("my notes\n"), 0o600)
	o = h2.options(t, "--save", other, "--addr", "127.0.0.1:0")
	err = listenRun(t.Context(), o)
	if !errors.Is(err, history.ErrNotHistory) || exitCode(err) != 2 {
		t.Errorf("a foreign file: %v (exit %d)", err, exitCode(err))
	}
	if b, _ := os.ReadFile(other); string(b) != "my notes\n" {
		t.Errorf("the foreign file changed: %q", b)
	}
}

// TestListenFilter: --event and --jql choose what is printed; every
// delivery is still answered and saved.
func TestListenFilter(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(t.TempDir(), "deliveries.ndjson")
	r := h.start(t, "--json", "--save", path, "--event", "jira:issue_updated", "--jql", "project = PRJ")
	acme := h.jira(acmeKey, "acme", "/")
	bodies := [][]byte{
		[]byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"PRJ-1","fields":{"project":{"key":"PRJ"}}}}`),
		[]byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"OPS-1","fields":{"project":{"key":"OPS"}}}}`),
		[]byte(`{"webhookEvent":"jira:issue_created","issue":{"key":"PRJ-2","fields":{"project":{"key":"PRJ"}}}}`),
		[]byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"PRJ-3","fields":{"project":{"key":"PRJ"}}}}`),
	}
	for i, b := range bodies {
		if status, _ := r.send(t, delivery{body: b, signer: acme}); status != 200 {
			t.Fatalf("delivery %d: status %d", i, status)
		}
	}
	// A duplicate of a delivery not printed is not printed either.
	r.send(t, delivery{body: bodies[1], identifier: "x", signer: acme})
	r.send(t, delivery{body: bodies[1], identifier: "x", retry: 1, signer: acme})
	r.stop()
	if want := string(bodies[0]) + "\n" + string(bodies[3]) + "\n"; h.out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", h.out, want)
	}
	if strings.Contains(h.errOut.String(), "= duplicate") {
		t.Errorf("a filtered-out duplicate was printed:\n%s", h.errOut)
	}
	recs, err := history.ReadFile(path, nil, nil)
	if err != nil || len(recs) != 6 {
		t.Errorf("%d records saved, %v; want 6", len(recs), err)
	}
}

// TestListenRespond: --respond 503 --fail-first 1 answers the first
// delivery of an identifier 503 and its retry 200, printing both.
func TestListenRespond(t *testing.T) {
	h := newHarness(t)
	r := h.start(t, "--quiet", "--respond", "503", "--fail-first", "1")
	acme := h.jira(acmeKey, "acme", "/")
	for retry, want := range []int{503, 200, 200} {
		if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "id-1", retry: retry, signer: acme}); status != want {
			t.Errorf("attempt %d: status %d, want %d", retry, status, want)
		}
	}
	r.stop()
	out := h.out.String()
	for _, want := range []string{
		"id id-1  ✓ verified (acme)  → answered 503 by --respond (1 of 1)\n",
		"id id-1  retry 1  ✓ verified (acme)\n",
		"id id-1  retry 2  = duplicate of the delivery at 09:30:15, answered 200\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(h.errOut.String(), "2 deliveries, 1 duplicate, 0 rejected, 0 invalid requests, 1 answered by --respond, 0 errors") {
		t.Errorf("the summary does not count the --respond answers:\n%s", h.errOut)
	}
}
