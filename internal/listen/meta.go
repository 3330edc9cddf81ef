package listen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Meta is what the summary line of a delivery shows, read from its body.
// Every field may be empty: sprint and version events have no issue, and
// Jira adds fields over time.
type Meta struct {
	Event     string    // webhookEvent, e.g. jira:issue_updated
	EventType string    // issue_event_type_name, e.g. issue_generic
	IssueKey  string    // issue.key
	User      string    // user.displayName, else user.accountId
	Timestamp time.Time // timestamp (epoch milliseconds); zero when absent
	// MatchedWebhookIDs are the ids of the dynamic webhooks whose filter
	// matched, as written in the body.
	MatchedWebhookIDs []string
}

// payload is the part of a delivery body that Meta is read from. Fields
// whose JSON type is not certain are raw, so that an unexpected type never
// turns a valid delivery into a 400.
type payload struct {
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

// errNotObject is the 400 reason for JSON that is not an object.
var errNotObject = errors.New("not a JSON object: a delivery body is {...}")

// parseMeta checks that body is one JSON object and reads its Meta. A field
// of an unexpected type is left empty; only invalid JSON, or JSON that is
// not an object, is an error.
func parseMeta(body []byte) (Meta, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return Meta{}, errors.New("empty body: a delivery body is a JSON object")
	}
	if trimmed[0] != '{' {
		if err := json.Unmarshal(body, new(json.RawMessage)); err != nil {
			return Meta{}, invalidJSON(err)
		}
		return Meta{}, errNotObject
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return Meta{}, invalidJSON(err)
		}
		// A field of another type than expected: the JSON is valid and
		// json.Unmarshal has filled in the other fields.
	}
	m := Meta{
		Event:     p.WebhookEvent,
		EventType: p.IssueEventTypeName,
	}
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
	if len(p.MatchedWebhookIDs) > 0 {
		m.MatchedWebhookIDs = make([]string, len(p.MatchedWebhookIDs))
		for i, raw := range p.MatchedWebhookIDs {
			// Numbers, as Jira sends them, are kept as written; only a
			// string needs decoding.
			var s string
			switch {
			case len(raw) > 0 && raw[0] == '"':
				if json.Unmarshal(raw, &s) != nil {
					s = string(raw)
				}
			case string(raw) != "null":
				s = string(raw)
			}
			m.MatchedWebhookIDs[i] = s
		}
	}
	return m, nil
}

// invalidJSON describes a decoding error of a body that is not JSON.
func invalidJSON(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("invalid JSON at byte %d: %v", syn.Offset, syn)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}
