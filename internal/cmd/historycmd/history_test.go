package historycmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
)

func TestNewCmdHistory(t *testing.T) {
	cmdtest.Flags(t, NewCmdHistory, []cmdtest.Case[Options]{
		{Args: "h.ndjson", Want: Options{File: "h.ndjson"}},
		{Args: "h.ndjson --event jira:issue_updated,comment_created --issue PRJ-1 --issue PRJ-2 --identifier a,b --jql 'project = PRJ' --last 3 -o json",
			Want: Options{File: "h.ndjson", JSON: true, Filter: cmdutil.FilterFlags{
				Events: []string{"jira:issue_updated", "comment_created"}, Issues: []string{"PRJ-1", "PRJ-2"},
				Identifiers: []string{"a", "b"}, JQL: "project = PRJ", Last: 3,
			}}},
		{Args: "", WantErr: `missing the history file, as written by jwh listen --save`},
		{Args: "a b", WantErr: `unexpected argument "b"`},
		{Args: "h.ndjson --last 0", WantErr: "invalid --last 0: at least 1"},
		{Args: "h.ndjson --jql ''", WantErr: "--jql needs a filter, such as 'project = PRJ'"},
		{Args: "h.ndjson --event jira:issue_updatd", WantErr: `unknown event "jira:issue_updatd": did you mean "jira:issue_updated"?`},
		{Args: "h.ndjson --jql 'project = PRJ ORDER BY key'", WantErr: "1:15: ORDER BY is not supported in webhook filters: remove it (Jira sends events one at a time, so there is nothing to sort)\n  project = PRJ ORDER BY key\n                ^^^^^^^^^^^^"},
	}, cmpIgnoreFilter)
}

// records writes a history file of five requests and returns its path.
func records(t *testing.T) (string, []*listen.Record) {
	t.Helper()
	at := time.Date(2026, 12, 2, 3, 4, 5, 123456000, time.UTC)
	body := func(event, key, project string) []byte {
		return []byte(`{"webhookEvent":"` + event + `","issue":{"key":"` + key + `","fields":{"project":{"key":"` + project + `"}}},"n":1.50}`)
	}
	recs := []*listen.Record{
		{Seq: 1, Received: at, Method: "POST", Path: "/hook", Body: body("jira:issue_created", "PRJ-1", "PRJ"), Tenant: "acme", Kind: "connect",
			Verdict: "verified", Identifier: "id-1", Status: 200, Event: "jira:issue_created", Issue: "PRJ-1"},
		{Seq: 2, Received: at.Add(time.Second), Method: "POST", Path: "/hook", Body: body("jira:issue_updated", "PRJ-1", "PRJ"), Tenant: "acme",
			Kind: "connect", Verdict: "verified", Identifier: "id-2", Status: 503, Injected: true, Event: "jira:issue_updated", Issue: "PRJ-1"},
		{Seq: 3, Received: at.Add(2 * time.Second), Method: "POST", Path: "/hook", Body: body("jira:issue_updated", "PRJ-1", "PRJ"), Tenant: "acme",
			Kind: "connect", Verdict: "verified", Identifier: "id-2", Retry: 1, Status: 200, Event: "jira:issue_updated", Issue: "PRJ-1"},
		{Seq: 4, Received: at.Add(3 * time.Second), Method: "POST", Path: "/hook", Verdict: "refused", Check: "qsh", Reason: "qsh mismatch",
			Identifier: "id-3", Status: 401},
		{Seq: 5, Received: at.Add(4 * time.Second), Method: "POST", Path: "/hook", Body: body("jira:issue_updated", "OPS-\x1b[2J7", "OPS"),
			Verdict: "unverified", Identifier: "id-4", Status: 200, Event: "jira:issue_updated", Issue: "OPS-\x1b[2J7"},
		{Seq: 6, Received: at.Add(5 * time.Second), Method: "POST", Path: "/hook", Body: body("jira:issue_updated", "PRJ-1", "PRJ"), Tenant: "acme",
			Kind: "connect", Verdict: "verified", Identifier: "id-2", Retry: 2, Duplicate: true, Status: 200, Event: "jira:issue_updated", Issue: "PRJ-1"},
	}
	var b bytes.Buffer
	for _, r := range recs {
		b.Write(r.AppendLine(nil))
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "deliveries.ndjson")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, recs
}

func run(t *testing.T, tty bool, argv ...string) (string, string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	ios.SetStderrTTY(tty)
	cmd := NewCmdHistory(cmdtest.Factory(ios), nil)
	err := cmdtest.Run(cmd, argv...)
	return out.String(), errOut.String(), err
}

func TestHistoryPiped(t *testing.T) {
	path, _ := records(t)
	out, errOut, err := run(t, false, path)
	if err != nil {
		t.Fatal(err)
	}
	want := "1\t2026-12-02T03:04:05.123Z\tjira:issue_created\tPRJ-1\tacme\t0\t200\tverified\tid-1\n" +
		"2\t2026-12-02T03:04:06.123Z\tjira:issue_updated\tPRJ-1\tacme\t0\t503\tinjected\tid-2\n" +
		"3\t2026-12-02T03:04:07.123Z\tjira:issue_updated\tPRJ-1\tacme\t1\t200\tverified\tid-2\n" +
		"4\t2026-12-02T03:04:08.123Z\t\t\t\t0\t401\trefused:qsh\tid-3\n" +
		"5\t2026-12-02T03:04:09.123Z\tjira:issue_updated\tOPS-\ufffd[2J7\t\t0\t200\tunverified\tid-4\n" +
		"6\t2026-12-02T03:04:10.123Z\tjira:issue_updated\tPRJ-1\tacme\t2\t200\tduplicate\tid-2\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if errOut != "" {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestHistoryTerminal(t *testing.T) {
	path, _ := records(t)
	out, _, err := run(t, true, path, "--issue", "prj-1", "--last", "2")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "SEQ  RECEIVED") || !strings.Contains(lines[0], "RESULT") {
		t.Fatalf("table:\n%s", out)
	}
	if !strings.HasPrefix(lines[1], "3 ") || !strings.Contains(lines[1], "✓ verified") ||
		!strings.HasPrefix(lines[2], "6 ") || !strings.Contains(lines[2], "= duplicate") {
		t.Errorf("rows:\n%s", out)
	}
	if !strings.Contains(lines[1], time.Date(2026, 12, 2, 3, 4, 7, 123e6, time.UTC).Local().Format("2006-01-02 15:04:05.000")) {
		t.Errorf("the time is not local:\n%s", out)
	}

	_, errOut, err := run(t, true, path, "--identifier", "nope")
	if err != nil || errOut != "no deliveries in "+path+" match\n" {
		t.Errorf("nothing selected: %q, %v", errOut, err)
	}
}

// TestHistoryJSON: -o json prints the records as written, bodies byte for
// byte (the number 1.50 stays 1.50).
func TestHistoryJSON(t *testing.T) {
	path, recs := records(t)
	out, _, err := run(t, false, path, "-o", "json", "--jql", "project = PRJ", "--event", "jira:issue_updated")
	if err != nil {
		t.Fatal(err)
	}
	want := "[\n" + string(recs[1].AppendLine(nil)) + ",\n" + string(recs[2].AppendLine(nil)) + ",\n" + string(recs[5].AppendLine(nil)) + "\n]\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	var parsed []struct {
		Seq  int64           `json:"seq"`
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal([]byte(out), &parsed); err != nil || len(parsed) != 3 || !bytes.Equal(parsed[0].Body, recs[1].Body) {
		t.Errorf("parsed %+v, %v", parsed, err)
	}
	out, _, err = run(t, false, path, "-o", "json", "--issue", "NOPE-1")
	if err != nil || out != "[]\n" {
		t.Errorf("nothing selected: %q, %v", out, err)
	}
}

func TestHistoryDamaged(t *testing.T) {
	path, recs := records(t)
	data, _ := os.ReadFile(path)
	torn := filepath.Join(t.TempDir(), "torn.ndjson")
	os.WriteFile(torn, append(bytes.Clone(data), recs[0].AppendLine(nil)[:30]...), 0o600)
	out, errOut, err := run(t, false, torn)
	if err != nil || strings.Count(out, "\n") != 6 {
		t.Errorf("torn last line: %v\n%s", err, out)
	}
	if want := "! " + torn + ":7: skipped the last line, which is incomplete (30 bytes): a listener was writing it, or stopped while it did\n"; errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}

	damaged := filepath.Join(t.TempDir(), "damaged.ndjson")
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines[2] = []byte("{\"v\":1,oops\n")
	os.WriteFile(damaged, bytes.Join(lines, nil), 0o600)
	_, _, err = run(t, false, damaged)
	want := damaged + ":3: damaged record: not a record: invalid character 'o' looking for beginning of object key string: the file was changed by something other than jwh listen; fix or remove that line"
	if err == nil || err.Error() != want || cmdutil.ExitCode(err) != 2 {
		t.Errorf("damaged: %v (exit %d)\nwant %s", err, cmdutil.ExitCode(err), want)
	}

	missing := filepath.Join(t.TempDir(), "nope.ndjson")
	_, _, err = run(t, false, missing)
	if err == nil || err.Error() != missing+": no such history file: file does not exist: give the file that 'jwh listen --save FILE' wrote" || cmdutil.ExitCode(err) != 2 {
		t.Errorf("missing: %v (exit %d)", err, cmdutil.ExitCode(err))
	}
}
