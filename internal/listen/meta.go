package listen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jwh-cli/jwh/internal/jsonscan"
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

// errNotObject is the 400 reason for JSON that is not an object.
var errNotObject = errors.New("not a JSON object: a delivery body is {...}")

// parseMeta checks that body is one JSON object and reads its Meta. A field
// of an unexpected type is left empty; only invalid JSON, or JSON that is
// not an object, is an error.
//
// The body is checked and the members Meta needs are read in one pass
// (jsonscan.Members), which costs a fraction of decoding it with
// encoding/json: this runs for every delivery. Names match exactly, as
// Jira writes them.
func parseMeta(body []byte) (Meta, error) {
	if len(bytes.TrimLeft(body, " \t\r\n")) == 0 {
		return Meta{}, errors.New("empty body: a delivery body is a JSON object")
	}
	var m Meta
	var displayName, accountID, name string
	err := jsonscan.Members(body, func(key, value []byte) error {
		switch string(key) {
		case "webhookEvent":
			m.Event, _ = jsonscan.String(value)
		case "issue_event_type_name":
			m.EventType, _ = jsonscan.String(value)
		case "timestamp":
			m.Timestamp = time.Time{}
			if ms, err := strconv.ParseInt(string(value), 10, 64); err == nil {
				m.Timestamp = time.UnixMilli(ms)
			}
		case "issue":
			jsonscan.Members(value, func(key, value []byte) error {
				if string(key) == "key" {
					m.IssueKey, _ = jsonscan.String(value)
				}
				return nil
			})
		case "user":
			jsonscan.Members(value, func(key, value []byte) error {
				switch string(key) {
				case "displayName":
					displayName, _ = jsonscan.String(value)
				case "accountId":
					accountID, _ = jsonscan.String(value)
				case "name":
					name, _ = jsonscan.String(value)
				}
				return nil
			})
		case "matchedWebhookIds":
			m.MatchedWebhookIDs = webhookIDs(value)
		}
		return nil
	})
	switch {
	case errors.Is(err, jsonscan.ErrNotObject):
		return Meta{}, errNotObject
	case err != nil:
		// Where and why, in encoding/json's words.
		return Meta{}, invalidJSON(json.Unmarshal(body, new(json.RawMessage)))
	}
	switch {
	case displayName != "":
		m.User = displayName
	case accountID != "":
		m.User = accountID
	default:
		m.User = name
	}
	return m, nil
}

// webhookIDs reads matchedWebhookIds: numbers, as Jira sends them, are
// kept as written; a string is decoded; null is ""; anything else is kept
// as written. A value that is not an array has none.
func webhookIDs(value []byte) []string {
	var ids []string
	jsonscan.Elements(value, func(v []byte) error {
		s, ok := jsonscan.String(v)
		switch {
		case ok:
		case jsonscan.IsNull(v):
			s = ""
		default:
			s = string(v)
		}
		ids = append(ids, s)
		return nil
	})
	return ids
}

// invalidJSON describes a decoding error of a body that is not JSON.
func invalidJSON(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("invalid JSON at byte %d: %v", syn.Offset, syn)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}
