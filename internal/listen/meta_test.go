package listen

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseMeta(t *testing.T) {
	tests := []struct {
		name, body string
		want       Meta
	}{
		{"issue updated", string(samplePayload("PRJ-1")), Meta{
			Event: "jira:issue_updated", EventType: "issue_generic", IssueKey: "PRJ-1", User: "Alice Smith",
			Timestamp: time.UnixMilli(1714000000123), MatchedWebhookIDs: []string{"1000", "1001"}}},
		{"account id only", `{"webhookEvent":"comment_created","user":{"accountId":"abc"},"issue":{"key":"K-1"},"comment":{"id":"1"}}`,
			Meta{Event: "comment_created", User: "abc", IssueKey: "K-1"}},
		{"sprint event", `{"webhookEvent":"sprint_started","sprint":{"id":5}}`, Meta{Event: "sprint_started"}},
		{"unexpected types", `{"webhookEvent":"jira:issue_created","timestamp":"soon","user":"bob","issue":{"key":"K-2"},"matchedWebhookIds":["7",8]}`,
			Meta{Event: "jira:issue_created", IssueKey: "K-2", MatchedWebhookIDs: []string{"7", "8"}}},
		{"odd webhook ids", `{"matchedWebhookIds":[null,"a\u0062",{"x": 1},-1.5e3,"\"q\""]}`,
			Meta{MatchedWebhookIDs: []string{"", "ab", `{"x": 1}`, "-1.5e3", `"q"`}}},
		{"empty object", ` {} `, Meta{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMeta([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got.Event != tt.want.Event || got.EventType != tt.want.EventType || got.IssueKey != tt.want.IssueKey ||
				got.User != tt.want.User || !got.Timestamp.Equal(tt.want.Timestamp) ||
				!slices.Equal(got.MatchedWebhookIDs, tt.want.MatchedWebhookIDs) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseMetaRefuses(t *testing.T) {
	tests := []struct{ body, want string }{
		{``, "empty body: a delivery body is a JSON object"},
		{"  \n", "empty body: a delivery body is a JSON object"},
		{`[1]`, "not a JSON object: a delivery body is {...}"},
		{`"text"`, "not a JSON object: a delivery body is {...}"},
		{`garbage`, "invalid JSON at byte 1: invalid character 'g' looking for beginning of value"},
		{`{"a":1,}`, "invalid JSON at byte 8: invalid character '}' looking for beginning of object key string"},
		{`{"a":1} {}`, "invalid JSON at byte 9: invalid character '{' after top-level value"},
		{`{"a":`, "invalid JSON at byte 5: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		_, err := parseMeta([]byte(tt.body))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: %v, want %q", tt.body, err, tt.want)
		}
	}
}

func FuzzParseMeta(f *testing.F) {
	f.Add(samplePayload("PRJ-1"))
	f.Add([]byte(`{"matchedWebhookIds":[1,"2",{}]}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := parseMeta(body)
		trimmed := strings.TrimLeft(string(body), " \t\r\n")
		if want := json.Valid(body) && strings.HasPrefix(trimmed, "{"); (err == nil) != want {
			t.Errorf("%q: %v; a JSON object: %v", body, err, want)
		}
	})
}

// parseMetaDecoded is how parseMeta read a body before it scanned for the
// fields (encoding/json into a struct): FuzzParseMetaAgrees holds the two
// to the same answers.
func parseMetaDecoded(body []byte) (Meta, error) {
	var p struct {
		Timestamp          json.RawMessage `json:"timestamp"`
		WebhookEvent       string          `json:"webhookEvent"`
		IssueEventTypeName string          `json:"issue_event_type_name"`
		User               *struct {
			DisplayName string `json:"displayName"`
			AccountID   string `json:"accountId"`
			Name        string `json:"name"`
		} `json:"user"`
		Issue *struct {
			Key string `json:"key"`
		} `json:"issue"`
		MatchedWebhookIDs []json.RawMessage `json:"matchedWebhookIds"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return Meta{}, err
		}
	}
	m := Meta{Event: p.WebhookEvent, EventType: p.IssueEventTypeName}
	if p.Issue != nil {
		m.IssueKey = p.Issue.Key
	}
	if u := p.User; u != nil {
		switch {
		case u.DisplayName != "":
			m.User = u.DisplayName
		case u.AccountID != "":
			m.User = u.AccountID
		default:
			m.User = u.Name
		}
	}
	if ms, err := strconv.ParseInt(string(p.Timestamp), 10, 64); err == nil {
		m.Timestamp = time.UnixMilli(ms)
	}
	for _, raw := range p.MatchedWebhookIDs {
		var s string
		switch {
		case len(raw) > 0 && raw[0] == '"':
			if json.Unmarshal(raw, &s) != nil {
				s = string(raw)
			}
		case string(raw) != "null":
			s = string(raw)
		}
		m.MatchedWebhookIDs = append(m.MatchedWebhookIDs, s)
	}
	return m, nil
}

// FuzzParseMetaAgrees checks parseMeta against parseMetaDecoded on valid
// JSON objects whose names are written as Jira writes them
// (encoding/json also matched names in another case) and that name each
// object once (encoding/json merged a second "user" into the first, but
// for null).
func FuzzParseMetaAgrees(f *testing.F) {
	f.Add(samplePayload("PRJ-1"))
	f.Add([]byte(`{"webhookEvent":"a","user":{"accountId":"x","name":"n"},"issue":{"key":1},"timestamp":1.5,"matchedWebhookIds":[1,"2",null,{}]}`))
	f.Add([]byte(`{"user":"bob","issue":[],"matchedWebhookIds":"1","timestamp":"1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) || !strings.HasPrefix(strings.TrimLeft(string(body), " \t\r\n"), "{") {
			return
		}
		if strings.Contains(string(body), `\u`) || caseVariant(string(body)) ||
			strings.Count(string(body), `"user"`) > 1 || strings.Count(string(body), `"issue"`) > 1 {
			return // an escaped name, one in another case, or a repeated object
		}
		got, err := parseMeta(body)
		want, wantErr := parseMetaDecoded(body)
		if err != nil || wantErr != nil {
			t.Fatalf("%s: parseMeta %v, encoding/json %v", body, err, wantErr)
		}
		if got.Event != want.Event || got.EventType != want.EventType || got.IssueKey != want.IssueKey ||
			got.User != want.User || !got.Timestamp.Equal(want.Timestamp) || !slices.Equal(got.MatchedWebhookIDs, want.MatchedWebhookIDs) {
			t.Fatalf("%s:\n got %+v\nwant %+v", body, got, want)
		}
	})
}

// metaNames are the names parseMeta reads, as Jira writes them.
var metaNames = []string{"webhookEvent", "issue_event_type_name", "user", "issue", "key", "displayName", "accountId", "name", "matchedWebhookIds", "timestamp"}

// caseVariant reports whether body holds one of metaNames in another case.
func caseVariant(body string) bool {
	lower := strings.ToLower(body)
	for _, name := range metaNames {
		if strings.Count(lower, `"`+strings.ToLower(name)+`"`) != strings.Count(body, `"`+name+`"`) {
			return true
		}
	}
	return false
}
