package listen

import (
	"slices"
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
		if err == nil && !strings.HasPrefix(trimmed, "{") {
			t.Errorf("accepted %q", body)
		}
	})
}
