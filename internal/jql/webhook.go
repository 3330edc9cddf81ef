package jql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jwh-cli/jwh/internal/events"
)

// MaxWebhooks is Jira's limit of dynamic webhooks per app and tenant: a
// register body with more can never be registered whole.
const MaxWebhooks = 100

// Problem is one thing wrong with a webhook or a register request body.
type Problem struct {
	// Path says where the problem is: relative to the webhook for a
	// WebhookCheck ("jqlFilter", "events", "events[1]", "fieldIdsFilter",
	// or "" for the webhook object itself), relative to the body for a
	// BodyCheck ("url", "webhooks", or an unknown key).
	Path string
	// Msg says what is wrong and what to do instead.
	Msg string
	// JQL is set for a problem in the text of the filter: the error with
	// its position. Msg is then JQL.Msg.
	JQL *Error
	// Event is set for an unknown event name: the name as given, and the
	// documented name it is probably a typo of ("" when none is close).
	Event, Suggestion string
}

// WebhookCheck is the offline check of one webhook: its JQL filter against
// the webhook subset and its events against the documented list. jwh
// validate prints it, and jwh register prints the same text before it
// refuses to send anything.
type WebhookCheck struct {
	Filter string   // the filter as checked
	Events []string // the event names as given
	// Query is the valid filter, ready to print or match; nil when the
	// filter is invalid or missing.
	Query *Query
	// Problems lists everything wrong, in order: the filter's problems in
	// source order, then the unknown events in the order given.
	Problems []Problem
}

// CheckWebhook checks a filter and event names. An empty list of events
// is not a problem here: jwh validate may check a filter alone, and a
// command that needs events says so itself.
func CheckWebhook(filter string, eventNames []string) *WebhookCheck {
	c := &WebhookCheck{Events: eventNames}
	c.checkFilter(filter)
	c.checkEvents(eventNames)
	return c
}

func (c *WebhookCheck) checkFilter(filter string) {
	c.Filter = filter
	q, list := Validate(filter)
	c.Query = q
	for _, e := range list {
		c.Problems = append(c.Problems, Problem{Path: "jqlFilter", Msg: e.Msg, JQL: e})
	}
}

func (c *WebhookCheck) checkEvents(names []string) {
	for i, name := range names {
		err := events.Check(name)
		if err == nil {
			continue
		}
		p := Problem{Path: fmt.Sprintf("events[%d]", i), Msg: err.Error(), Event: name}
		var u *events.UnknownError
		if errors.As(err, &u) {
			p.Suggestion = u.Suggestion
		}
		c.Problems = append(c.Problems, p)
	}
}

// Valid reports whether the webhook has no problem.
func (c *WebhookCheck) Valid() bool { return len(c.Problems) == 0 }

// Render returns the problems as a compiler prints them, for a terminal:
// each problem on a line, and under a problem in the filter the filter's
// line with a caret under the offending token. prefix names the webhook in
// a body, such as "webhooks[1]", and then starts every line with the
// problem's path; with prefix "" a filter problem starts with its
// line:column and an event problem is its message alone:
//
//	1:19: unsupported field "priority": webhook filters can use ...
//	  project = PRJ AND priority = High
//	                    ^^^^^^^^
//	unknown event "issue_updated": did you mean "jira:issue_updated"?
//
// Render returns "" for a valid webhook.
func (c *WebhookCheck) Render(prefix string) string {
	var b strings.Builder
	for _, p := range c.Problems {
		b.WriteString(c.line(prefix, p))
		b.WriteByte('\n')
		if p.JQL != nil {
			b.WriteString(p.JQL.Snippet(c.Filter))
		}
	}
	return b.String()
}

// line is the first line of Render for one problem.
func (c *WebhookCheck) line(prefix string, p Problem) string {
	msg := p.Msg
	if p.JQL != nil {
		msg = p.JQL.Error()
	}
	switch {
	case prefix != "" && p.Path != "":
		return prefix + "." + p.Path + ": " + msg
	case prefix != "":
		return prefix + ": " + msg
	case p.JQL != nil || p.Event != "" || p.Path == "":
		return msg
	}
	return p.Path + ": " + msg
}

// BodyCheck is the offline check of a register request body,
// {"url": ..., "webhooks": [{"jqlFilter": ..., "events": [...]}, ...]}.
type BodyCheck struct {
	URL string // the url member, "" when missing or not a string
	// Problems are those outside any one webhook, in a fixed order: url,
	// unknown members, webhooks.
	Problems []Problem
	// Webhooks holds one check per element of "webhooks", in order.
	Webhooks []*WebhookCheck
}

// CheckBody checks every webhook of a register request body: the filter
// and events as CheckWebhook does, the url as CheckURL does, and the shape
// that Jira's API expects (url, webhooks, jqlFilter and events required;
// fieldIdsFilter and issuePropertyKeysFilter lists of strings; no other
// members). The error
// is for data that is not a JSON object at all: invalid JSON (with its
// line and column) or another JSON value.
func CheckBody(data []byte) (*BodyCheck, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil || body == nil {
		return nil, bodyError(data, err)
	}
	bc := &BodyCheck{Webhooks: []*WebhookCheck{}}
	problem := func(path, msg string) { bc.Problems = append(bc.Problems, Problem{Path: path, Msg: msg}) }

	if raw, ok := body["url"]; !ok {
		problem("url", "missing: the body needs the URL that Jira delivers to")
	} else if s, ok := jsonString(raw); !ok {
		problem("url", "must be a string")
	} else if err := CheckURL(s); err != nil {
		problem("url", err.Error())
	} else {
		bc.URL = s
	}
	for _, k := range unknownKeys(body, "url", "webhooks") {
		problem(k, "unknown field: a register body has url and webhooks")
	}

	raw, ok := body["webhooks"]
	var hooks []json.RawMessage
	switch {
	case !ok:
		problem("webhooks", "missing: the body needs a list of webhooks")
	case json.Unmarshal(raw, &hooks) != nil || hooks == nil:
		problem("webhooks", "must be a list of webhook objects")
	case len(hooks) == 0:
		problem("webhooks", "empty: list at least one webhook")
	case len(hooks) > MaxWebhooks:
		problem("webhooks", fmt.Sprintf("%d webhooks: Jira allows at most %d per app", len(hooks), MaxWebhooks))
	}
	for _, h := range hooks {
		bc.Webhooks = append(bc.Webhooks, checkWebhookJSON(h))
	}
	return bc, nil
}

// Valid reports whether the body and all its webhooks have no problem.
func (bc *BodyCheck) Valid() bool {
	if len(bc.Problems) > 0 {
		return false
	}
	for _, w := range bc.Webhooks {
		if !w.Valid() {
			return false
		}
	}
	return true
}

// Render returns every problem of the body for a terminal: those of the
// body itself as "path: message", then each webhook's as
// WebhookCheck.Render does with the prefix "webhooks[i]".
func (bc *BodyCheck) Render() string {
	var b strings.Builder
	for _, p := range bc.Problems {
		b.WriteString(p.Path + ": " + p.Msg + "\n")
	}
	for i, w := range bc.Webhooks {
		b.WriteString(w.Render(fmt.Sprintf("webhooks[%d]", i)))
	}
	return b.String()
}

// checkWebhookJSON checks one element of "webhooks".
func checkWebhookJSON(raw json.RawMessage) *WebhookCheck {
	c := &WebhookCheck{}
	problem := func(path, msg string) { c.Problems = append(c.Problems, Problem{Path: path, Msg: msg}) }
	var w map[string]json.RawMessage
	if err := json.Unmarshal(raw, &w); err != nil || w == nil {
		problem("", `must be a webhook object, such as {"jqlFilter": "project = PRJ", "events": ["jira:issue_updated"]}`)
		return c
	}

	if rawJQL, ok := w["jqlFilter"]; !ok {
		problem("jqlFilter", "missing: every webhook needs a JQL filter, such as project = PRJ")
	} else if src, ok := jsonString(rawJQL); !ok {
		problem("jqlFilter", "must be a string")
	} else {
		c.checkFilter(src)
	}

	var names []string
	if rawEvents, ok := w["events"]; !ok {
		problem("events", "missing: every webhook needs at least one event, such as jira:issue_updated")
	} else if err := json.Unmarshal(rawEvents, &names); err != nil || names == nil {
		problem("events", "must be a list of event names")
	} else if len(names) == 0 {
		problem("events", "empty: list at least one event, such as jira:issue_updated")
	}
	c.Events = names
	c.checkEvents(names)

	for _, key := range []string{"fieldIdsFilter", "issuePropertyKeysFilter"} {
		if v, ok := w[key]; ok {
			var list []string
			if json.Unmarshal(v, &list) != nil {
				problem(key, "must be a list of strings")
			}
		}
	}
	for _, k := range unknownKeys(w, "jqlFilter", "events", "fieldIdsFilter", "issuePropertyKeysFilter") {
		problem(k, "unknown field: a webhook has jqlFilter, events, fieldIdsFilter and issuePropertyKeysFilter")
	}
	return c
}

// CheckURL checks the callback URL of a registration: absolute, https (or
// http on a loopback host, for local testing), without user information
// or a fragment. The error says what to do.
func CheckURL(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty: give the URL that Jira delivers to, such as https://app.example.com/hook")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("not an absolute URL: use https://HOST/PATH")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return errors.New("plain http is allowed only for loopback hosts (localhost, 127.0.0.1): use https")
		}
	default:
		return fmt.Errorf("scheme %q is not supported: use https", u.Scheme)
	}
	if u.User != nil {
		return errors.New("must not hold user information")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return errors.New("must not have a fragment (#...)")
	}
	return nil
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// jsonString decodes a JSON string; null is not one.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// unknownKeys returns the keys of m not in known, sorted.
func unknownKeys(m map[string]json.RawMessage, known ...string) []string {
	var out []string
	for k := range m {
		if !slices.Contains(known, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// bodyError explains data that is not a JSON object: where the JSON is
// broken, or what was expected instead.
func bodyError(data []byte, err error) error {
	const want = `want a JSON object {"url": ..., "webhooks": [...]}`
	var syn *json.SyntaxError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return errors.New("empty: " + want)
	case errors.As(err, &syn):
		line, col := lineCol(data, int(syn.Offset))
		return fmt.Errorf("invalid JSON at %d:%d: %v", line, col, err)
	}
	return errors.New("not a register request body: " + want)
}

// lineCol returns the 1-based line and column (in runes) of the byte just
// before offset, where encoding/json reports a syntax error.
func lineCol(data []byte, offset int) (line, col int) {
	offset = min(max(offset-1, 0), len(data))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}
