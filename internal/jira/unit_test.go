package jira_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/jira"
)

func TestTimestamp(t *testing.T) {
	want := time.Date(2019, 6, 1, 12, 42, 30, 0, time.UTC)
	for _, in := range []string{
		`1559392950000`,
		`1559392950000.0`,
		`"1559392950000"`,
		`"2019-06-01T12:42:30.000+0000"`,
		`"2019-06-01T14:42:30.000+0200"`,
		`"2019-06-01T12:42:30+0000"`,
		`"2019-06-01T12:42:30Z"`,
		`"2019-06-01T12:42:30.000Z"`,
		`"2019-06-01T07:42:30-05:00"`,
	} {
		var ts jira.Timestamp
		if err := json.Unmarshal([]byte(in), &ts); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !ts.Equal(want) || ts.Location() != time.UTC {
			t.Errorf("%s = %s, want %s", in, ts.Time, want)
		}
	}
	for _, in := range []string{`null`, `""`} {
		ts := jira.Timestamp{Time: want}
		if err := json.Unmarshal([]byte(in), &ts); err != nil || !ts.IsZero() {
			t.Errorf("%s = %s, %v; want the zero time", in, ts.Time, err)
		}
	}
	for _, in := range []string{`"tomorrow"`, `"2019-06-01"`, `true`, `{}`, `"12:42"`} {
		var ts jira.Timestamp
		if err := json.Unmarshal([]byte(in), &ts); err == nil {
			t.Errorf("%s accepted as %s", in, ts.Time)
		}
	}
}

func TestWebhookJSON(t *testing.T) {
	for _, exp := range []string{`1559392950000`, `"2019-06-01T12:42:30.000+0000"`} {
		var w jira.Webhook
		in := `{"id":10000,"jqlFilter":"project = PRJ","events":["jira:issue_updated"],"expirationDate":` + exp + `,"url":"https://a.example/h"}`
		if err := json.Unmarshal([]byte(in), &w); err != nil {
			t.Fatal(err)
		}
		if w.ID != 10000 || w.JQLFilter != "project = PRJ" || w.URL != "https://a.example/h" ||
			!w.Expiration.Equal(time.Date(2019, 6, 1, 12, 42, 30, 0, time.UTC)) {
			t.Errorf("%s decoded as %+v", in, w)
		}
		out, _ := json.Marshal(w)
		if want := `{"id":10000,"jqlFilter":"project = PRJ","events":["jira:issue_updated"],"expirationDate":"2019-06-01T12:42:30Z","url":"https://a.example/h"}`; string(out) != want {
			t.Errorf("encoded\n got %s\nwant %s", out, want)
		}
	}
	var f jira.FailedWebhook
	if err := json.Unmarshal([]byte(`{"id":42,"body":"{}","url":"u","failureTime":1559392950000}`), &f); err != nil || f.ID != "42" {
		t.Errorf("failed webhook %+v, %v", f, err)
	}
}

func TestResolveURL(t *testing.T) {
	for _, tc := range []struct{ base, ref, want string }{
		{"https://acme.atlassian.net", "/rest/api/2/webhook", "https://acme.atlassian.net/rest/api/2/webhook"},
		{"https://acme.atlassian.net", "rest/api/2/webhook", "https://acme.atlassian.net/rest/api/2/webhook"},
		{"http://127.0.0.1:8080/jira", "/rest/api/2/webhook?startAt=0&maxResults=7", "http://127.0.0.1:8080/jira/rest/api/2/webhook?startAt=0&maxResults=7"},
		{"http://127.0.0.1:8080/jira/", "rest/api/2/x", "http://127.0.0.1:8080/jira/rest/api/2/x"},
		{"https://a.example/jira", `/rest/api/2/search?jql=project = "A B"&fields=summary,key`, "https://a.example/jira/rest/api/2/search?jql=project%20=%20%22A%20B%22&fields=summary,key"},
		{"https://a.example", "/rest/api/2/search?jql=a+b&q=%41%zz&e=é", "https://a.example/rest/api/2/search?jql=a+b&q=%41%25zz&e=%C3%A9"},
		{"https://a.example", "/rest/api/2/a&b/c d", "https://a.example/rest/api/2/a&b/c%20d"},
		{"https://a.example", "/rest/api/2/issue/A%2FB", "https://a.example/rest/api/2/issue/A%2FB"},
		// '#' starts a fragment, which is never sent (as curl and gh api do);
		// a literal '#' is written %23.
		{"https://a.example", "/x?q=#frag", "https://a.example/x?q="},
		{"https://a.example", "/x#frag?q=1", "https://a.example/x"},
		{"https://a.example", "/x?q=%23frag", "https://a.example/x?q=%23frag"},
		{"https://a.example/jira", "https://a.example/jira/x?a=1#b=2", "https://a.example/jira/x?a=1"},
		{"http://127.0.0.1:9/jira", "http://127.0.0.1:9/jira/rest/api/2/webhook/failed?after=1&maxResults=2", "http://127.0.0.1:9/jira/rest/api/2/webhook/failed?after=1&maxResults=2"},
		{"https://ACME.atlassian.net", "HTTPS://acme.atlassian.net/rest/api/2/myself#top", "https://ACME.atlassian.net/rest/api/2/myself"},
	} {
		base, _ := url.Parse(tc.base)
		got, err := jira.ResolveURL(base, tc.ref)
		if err != nil {
			t.Errorf("ResolveURL(%s, %s): %v", tc.base, tc.ref, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("ResolveURL(%s, %s)\n got %s\nwant %s", tc.base, tc.ref, got, tc.want)
		}
	}
	for _, tc := range []struct{ base, ref, msg string }{
		{"https://a.example/jira", "https://b.example/jira/rest", "is not under the tenant's base URL https://a.example/jira"},
		{"https://a.example/jira", "https://a.example/jirafoo/rest", "is not under the tenant's base URL"},
		{"https://a.example/jira", "http://a.example/jira/rest", "is not under the tenant's base URL"},
		{"https://a.example", "", "empty path"},
		{"https://a.example", "#top", "empty path"},
		{"https://a.example/jira", "https://a.example/jirafoo#/jira/x", "is not under the tenant's base URL"},
		{"https://a.example", "/x\n", "control characters"},
	} {
		base, _ := url.Parse(tc.base)
		_, err := jira.ResolveURL(base, tc.ref)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ResolveURL(%s, %q) error %v, want %q", tc.base, tc.ref, err, tc.msg)
		}
	}
}

func TestSplitFragment(t *testing.T) {
	for _, tc := range []struct {
		ref, sent, frag string
		found           bool
	}{
		{"/x", "/x", "", false},
		{"/x#", "/x", "", true},
		{"/x?q=#a#b", "/x?q=", "a#b", true},
	} {
		sent, frag, found := jira.SplitFragment(tc.ref)
		if sent != tc.sent || frag != tc.frag || found != tc.found {
			t.Errorf("SplitFragment(%q) = %q, %q, %v; want %q, %q, %v", tc.ref, sent, frag, found, tc.sent, tc.frag, tc.found)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		ctype, body string
		want        []string
	}{
		{"", ``, nil},
		{"application/json", `{"errorMessages":["The clause watchCount is unsupported"],"errors":{}}`, []string{"The clause watchCount is unsupported"}},
		{"application/json", `{"errorMessages":[],"errors":{"url":"bad","jqlFilter":"unsupported"}}`, []string{"jqlFilter: unsupported", "url: bad"}},
		{"application/json", `{"message":"Client must be\nauthenticated","status-code":401}`, []string{"Client must be authenticated"}},
		{"application/json", `{"foo": [1, 2]}`, []string{`{"foo":[1,2]}`}},
		{"text/html", "<!DOCTYPE html>\n<html><head><title>Oops, you&#39;ve found a dead link\n</title></head></html>", []string{"Oops, you&#39;ve found a dead link"}},
		{"text/plain", "\n\n  Service down  \nmore", []string{"Service down"}},
		{"text/plain", long, []string{long[:200] + "..."}},
		{"application/octet-stream", "\xff\xfe\x00", []string{"[3 bytes of binary data]"}},
	} {
		got := jira.ErrorMessages(tc.ctype, []byte(tc.body))
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("ErrorMessages(%q)\n got %q\nwant %q", tc.body, got, tc.want)
		}
	}
}

func TestAPIErrorWithoutMessages(t *testing.T) {
	e := &jira.APIError{Method: "DELETE", URL: "https://a.example/rest/api/2/webhook", Status: 404}
	if want := "jira: 404 Not Found for DELETE https://a.example/rest/api/2/webhook"; e.Error() != want {
		t.Errorf("got %s, want %s", e, want)
	}
}

func TestAPIErrorRetryAfterHint(t *testing.T) {
	e := &jira.APIError{Method: "GET", URL: "https://a.example/x", Status: 429, Messages: []string{"Rate limit exceeded."}, RetryAfter: time.Hour}
	if want := "jira: 429 Too Many Requests: Rate limit exceeded.: still rate limited: Jira asks to wait 1h0m0s (Retry-After) before trying again"; e.Error() != want {
		t.Errorf("got  %s\nwant %s", e, want)
	}
	e = &jira.APIError{Method: "GET", URL: "https://a.example/x", Status: 503, RetryAfter: 90 * time.Second}
	if want := "jira: 503 Service Unavailable for GET https://a.example/x: Jira is unavailable: it asks to wait 1m30s (Retry-After) before trying again"; e.Error() != want {
		t.Errorf("got  %s\nwant %s", e, want)
	}
	e.RetryAfter = 0
	if !strings.HasSuffix(e.Error(), "Jira is unavailable; still so after retrying: try again later") {
		t.Errorf("got %s", e)
	}
}

// TestAPIErrorAuthHint: a client's auth hint replaces the Connect advice
// for 401 and 403 only; other statuses keep their own.
func TestAPIErrorAuthHint(t *testing.T) {
	for status, want := range map[int]string{
		401: "jira: 401 Unauthorized for GET https://a.example/x: log in again",
		403: "jira: 403 Forbidden for GET https://a.example/x: log in again",
		404: "jira: 404 Not Found for GET https://a.example/x",
		503: "jira: 503 Service Unavailable for GET https://a.example/x: Jira is unavailable; still so after retrying: try again later",
	} {
		e := &jira.APIError{Method: "GET", URL: "https://a.example/x", Status: status, AuthHint: "log in again"}
		if e.Error() != want {
			t.Errorf("%d: got  %s\nwant %s", status, e, want)
		}
	}
}
