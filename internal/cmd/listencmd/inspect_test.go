package listencmd

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

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

	// The Replay button says what it can do in this build.
	req, _ := http.NewRequest("POST", base+"/replay", strings.NewReader(`{"seq":1,"to":"`+r.base+`/"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Jwh-Token", pageToken(t, base))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "replay is not available yet") {
		t.Errorf("replay: %d %s", resp.StatusCode, b)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
