package webhookspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// RequestCheck is the offline check of a register request,
// {"url": ..., "webhooks": [{"jqlFilter": ..., "events": [...]}, ...]}.
type RequestCheck struct {
	// Problems are those outside any one webhook, in a fixed order: url,
	// unknown members, webhooks.
	Problems []Problem
	// Webhooks holds one check per element of "webhooks", in order.
	Webhooks []*WebhookCheck
}

// Valid reports whether the request and all its webhooks have no problem.
func (c *RequestCheck) Valid() bool {
	if len(c.Problems) > 0 {
		return false
	}
	for _, w := range c.Webhooks {
		if !w.Valid() {
			return false
		}
	}
	return true
}

func (c *RequestCheck) problem(path, msg string) {
	c.Problems = append(c.Problems, Problem{Path: path, Msg: msg})
}

// CheckRequest checks a register request built in Go, as jwh register
// builds one from its flags, with the rules of ParseRequest: the callback
// URL, at least one and at most lim.MaxWebhooks webhooks, and in each the
// filter and at least one event, all valid.
func CheckRequest(req *jira.RegisterRequest, lim Limits) *RequestCheck {
	c := &RequestCheck{Webhooks: []*WebhookCheck{}}
	c.checkURL(req.URL)
	c.checkCount(len(req.Webhooks), lim)
	for _, w := range req.Webhooks {
		c.Webhooks = append(c.Webhooks, CheckSpec(w))
	}
	return c
}

// ParseRequest decodes a register request body and checks it in the same
// pass: the rules of CheckRequest, and the shape that Jira's API expects
// (url, webhooks, jqlFilter and events required; fieldIdsFilter and
// issuePropertyKeysFilter lists of strings; no other members). req is the
// request decoded, to be sent as it is, when the check is valid; nil
// otherwise. The error is for data that is not a JSON object at all:
// invalid JSON (with its line and column) or another JSON value.
func ParseRequest(data []byte, lim Limits) (req *jira.RegisterRequest, c *RequestCheck, err error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil || body == nil {
		return nil, nil, bodyError(data, err)
	}
	req = &jira.RegisterRequest{}
	c = &RequestCheck{Webhooks: []*WebhookCheck{}}

	if s, ok := stringMember(body, "url", "the body needs the URL that Jira delivers to", c.problem); ok {
		req.URL = s
		c.checkURL(s)
	}
	for _, k := range unknownKeys(body, "url", "webhooks") {
		c.problem(k, "unknown field: a register body has url and webhooks")
	}

	raw, ok := body["webhooks"]
	var hooks []json.RawMessage
	switch {
	case !ok:
		c.problem("webhooks", "missing: the body needs a list of webhooks")
	case json.Unmarshal(raw, &hooks) != nil || hooks == nil:
		c.problem("webhooks", "must be a list of webhook objects")
	default:
		c.checkCount(len(hooks), lim)
	}
	for _, h := range hooks {
		w, wc := parseWebhook(h)
		req.Webhooks = append(req.Webhooks, w)
		c.Webhooks = append(c.Webhooks, wc)
	}
	if !c.Valid() {
		return nil, c, nil
	}
	return req, c, nil
}

// checkURL checks the callback URL with urlpolicy.CheckCallbackURL.
func (c *RequestCheck) checkURL(s string) {
	if err := urlpolicy.CheckCallbackURL(s); err != nil {
		c.problem("url", urlpolicy.Reason(err))
	}
}

// checkCount checks the number of webhooks, n, against lim.
func (c *RequestCheck) checkCount(n int, lim Limits) {
	switch {
	case n == 0:
		c.problem("webhooks", "empty: list at least one webhook")
	case n > lim.MaxWebhooks:
		c.problem("webhooks", fmt.Sprintf("%d webhooks: Jira allows at most %d per %s on a site", n, lim.MaxWebhooks, lim.Owner))
	}
}

// parseWebhook decodes and checks one element of "webhooks".
func parseWebhook(raw json.RawMessage) (jira.WebhookSpec, *WebhookCheck) {
	var w jira.WebhookSpec
	c := &WebhookCheck{}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		c.problem("", `must be a webhook object, such as {"jqlFilter": "project = PRJ", "events": ["jira:issue_updated"]}`)
		return w, c
	}

	if src, ok := stringMember(m, "jqlFilter", "every webhook needs a JQL filter, such as project = PRJ", c.problem); ok {
		w.JQLFilter = src
		c.checkFilter(src)
	}

	if raw, ok := m["events"]; !ok {
		c.problem("events", "missing: every webhook needs at least one event, such as jira:issue_updated")
	} else if err := json.Unmarshal(raw, &w.Events); err != nil || w.Events == nil {
		w.Events = nil
		c.problem("events", "must be a list of event names")
	} else {
		c.requireEvents(w.Events)
	}

	for _, f := range []struct {
		key  string
		list *[]string
	}{{"fieldIdsFilter", &w.FieldIDsFilter}, {"issuePropertyKeysFilter", &w.IssuePropertyKeysFilter}} {
		if raw, ok := m[f.key]; ok && json.Unmarshal(raw, f.list) != nil {
			c.problem(f.key, "must be a list of strings")
		}
	}
	for _, k := range unknownKeys(m, "jqlFilter", "events", "fieldIdsFilter", "issuePropertyKeysFilter") {
		c.problem(k, "unknown field: a webhook has jqlFilter, events, fieldIdsFilter and issuePropertyKeysFilter")
	}
	return w, c
}

// stringMember decodes the member key of m, which must be there and be a
// string (null is not one); otherwise it reports the problem, saying for a
// missing member what to give.
func stringMember(m map[string]json.RawMessage, key, missing string, problem func(path, msg string)) (string, bool) {
	raw, ok := m[key]
	if !ok {
		problem(key, "missing: "+missing)
		return "", false
	}
	var s string
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) || json.Unmarshal(raw, &s) != nil {
		problem(key, "must be a string")
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
