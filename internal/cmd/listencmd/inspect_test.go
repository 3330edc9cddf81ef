package listencmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/inspect"
	"github.com/jwh-cli/jwh/internal/listen"
)

// startInspected starts jwh listen with argv and an inspector on 127.0.0.1:0,
// and returns the listener and the inspector's base URL.
func (h *harness) startInspected(t *testing.T, argv ...string) (*running, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.inspectListener = ln
	t.Cleanup(func() { h.inspectListener = nil })
	return h.start(t, argv...), "http://" + ln.Addr().String()
}

// pageToken reads the page's token from the inspector's page.
func pageToken(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`name="jwh-token" content="([0-9a-f]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no token in the page")
	}
	return string(m[1])
}

// records reads n records from the inspector's event stream.
func records(t *testing.T, base string, n int) []map[string]json.RawMessage {
	t.Helper()
	resp, err := http.Get(base + "/events?token=" + pageToken(t, base))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var out []map[string]json.RawMessage
	for len(out) < n {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream after %d records: %v", len(out), err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok && strings.HasPrefix(data, "{\"v\"") {
			var rec map[string]json.RawMessage
			if err := json.Unmarshal([]byte(data), &rec); err != nil {
				t.Fatalf("record %q: %v", data, err)
			}
			out = append(out, rec)
		}
	}
	return out
}

// TestInspectRecords: with --inspect, every request the listener answers
// reaches the inspector as a record: a verified delivery with its token's
// header and claims (never the signature or the Authorization header), its
// headers and its body byte for byte; a duplicate; a refusal with its
// check and reason.
func TestInspectRecords(t *testing.T) {
	h := newHarness(t)
	r, base := h.startInspected(t, "--quiet")
	if !strings.Contains(h.errOut.String(), "inspector: "+base+"/") {
		t.Errorf("Ready does not say where the inspector is:\n%s", h.errOut)
	}
	body := []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"PRJ-9"},"x":"<&>","n":1.50}`)
	signer := h.jira(acmeKey, "acme", "/")
	d := delivery{path: "/?x=1", body: body, identifier: "id-9", signer: signer}
	r.send(t, d)
	d.retry = 1
	r.send(t, d)
	r.send(t, delivery{path: "/", body: body, identifier: "id-10"})

	recs := records(t, base, 3)
	str := func(rec map[string]json.RawMessage, k string) string {
		var s string
		json.Unmarshal(rec[k], &s)
		return s
	}
	del, dup, refused := recs[0], recs[1], recs[2]
	if str(del, "verdict") != "verified" || str(del, "tenant") != "acme" || str(del, "kind") != "connect" ||
		string(del["status"]) != "200" || str(del, "identifier") != "id-9" || str(del, "path") != "/?x=1" ||
		str(del, "event") != "jira:issue_updated" || str(del, "issue") != "PRJ-9" || string(del["seq"]) != "1" {
		t.Errorf("delivery record: %s", recs[0])
	}
	if string(del["body"]) != string(body) {
		t.Errorf("body %s, want the bytes received %s", del["body"], body)
	}
	if _, err := time.Parse(time.RFC3339Nano, str(del, "received")); err != nil || !strings.HasSuffix(str(del, "received"), "Z") {
		t.Errorf("received %q", str(del, "received"))
	}
	var auth struct {
		Scheme string
		Header map[string]any
		Claims map[string]any
	}
	json.Unmarshal(del["authorization"], &auth)
	if auth.Scheme != "JWT" || auth.Header["alg"] != "HS256" || auth.Claims["iss"] != acmeKey || auth.Claims["qsh"] == nil {
		t.Errorf("authorization %s", del["authorization"])
	}
	var headers http.Header
	json.Unmarshal(del["headers"], &headers)
	if headers.Get(listen.HeaderIdentifier) != "id-9" || headers.Get("Authorization") != "" {
		t.Errorf("headers %s", del["headers"])
	}
	if string(dup["duplicate"]) != "true" || string(dup["retry"]) != "1" || string(dup["body"]) != string(body) || string(dup["seq"]) != "2" {
		t.Errorf("duplicate record: %s", dup)
	}
	if str(refused, "verdict") != "refused" || string(refused["status"]) != "401" || str(refused, "check") != "missing" ||
		!strings.Contains(str(refused, "reason"), "no JWT") || refused["body"] != nil || refused["authorization"] != nil {
		t.Errorf("refused record: %s", refused)
	}
	// The signature of the token is nowhere in the records.
	signed, err := signer.Sign("POST", mustURL(t, "/?x=1"))
	if err != nil {
		t.Fatal(err)
	}
	sig := signed[strings.LastIndex(signed, ".")+1:]
	for _, rec := range recs {
		for k, v := range rec {
			if strings.Contains(string(v), sig) {
				t.Errorf("the token's signature is in %s", k)
			}
		}
	}

	// Replay #1 to this listener, by its address alone: the delivery goes
	// to the path it arrived on, signed afresh for it (so verified again),
	// with a new identifier (so not a duplicate), and its record names #1.
	token := pageToken(t, base)
	status, a := replayVia(t, base, token, fmt.Sprintf(`{"seq":1,"to":%q}`, r.base))
	if status != 200 || a.Status != 200 || a.Error != "" || a.Target != r.base+"/?x=1" {
		t.Fatalf("replay to the listener: %d %+v", status, a)
	}
	rep := records(t, base, 4)[3]
	if str(rep, "verdict") != "verified" || str(rep, "tenant") != "acme" || string(rep["replayOf"]) != "1" ||
		string(rep["duplicate"]) != "false" || str(rep, "identifier") == "id-9" || str(rep, "identifier") == "" ||
		str(rep, "path") != "/?x=1" || string(rep["body"]) != string(body) {
		t.Errorf("the replay's record: %s", rep)
	}
	var repHeaders http.Header
	json.Unmarshal(rep["headers"], &repHeaders)
	if repHeaders.Get("Content-Type") != "application/json" {
		t.Errorf("the replay's headers: %s", rep["headers"])
	}

	// A replay to the app, on a path of its own (with the query the
	// delivery arrived with), carries no link to the record: that is for
	// this listener only.
	var (
		mu      sync.Mutex
		got     *http.Request
		gotBody []byte
	)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		got, gotBody = req, b
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer app.Close()
	status, a = replayVia(t, base, token, fmt.Sprintf(`{"seq":1,"to":%q}`, app.URL+"/webhook"))
	if status != 200 || a.Status != 202 || a.Error != "" || a.Target != app.URL+"/webhook?x=1" {
		t.Fatalf("replay to the app: %d %+v", status, a)
	}
	mu.Lock()
	if got.Header.Get(listen.HeaderReplayOf) != "" || !strings.HasPrefix(got.Header.Get("Authorization"), "JWT ") ||
		got.URL.Path != "/webhook" || string(gotBody) != string(body) {
		t.Errorf("the app got %s %s, headers %v, body %s", got.Method, got.URL, got.Header, gotBody)
	}
	mu.Unlock()

	// A refused request is not a delivery: it is not replayed.
	status, a = replayVia(t, base, token, fmt.Sprintf(`{"seq":3,"to":%q}`, r.base))
	if status != 200 || a.Status != 0 || !strings.Contains(a.Error, "#3 was refused by the listener") {
		t.Errorf("replay of a refused request: %d %+v", status, a)
	}
}

// replayAnswer is the answer of the inspector's POST /replay.
type replayAnswer struct {
	Status  int
	Latency string
	Target  string
	Error   string
}

// replayVia asks the inspector at base for a replay, as its page does.
func replayVia(t *testing.T, base, token, body string) (int, replayAnswer) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/replay", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(inspect.TokenHeader, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a replayAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("replay %s: the answer is not JSON: %v", body, err)
	}
	return resp.StatusCode, a
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
