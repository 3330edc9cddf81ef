package webhookspec

import (
	"fmt"
	"strings"
)

// Messages returns the problems of the webhook as a compiler prints them,
// one message each, for jwh register to print after "jwh: ". A problem in
// the filter is followed by the filter's line and a line with a caret under
// the offending token. prefix names the webhook in a request, such as
// "webhooks[1]", and then starts every message with the problem's path;
// with prefix "" a filter problem starts with its line:column and an event
// problem is its message alone:
//
//	1:19: unsupported field "priority": webhook filters can use ...
//	  project = PRJ AND priority = High
//	                    ^^^^^^^^
//	unknown event "issue_updated": did you mean "jira:issue_updated"?
func (c *WebhookCheck) Messages(prefix string) []string {
	msgs := make([]string, 0, len(c.Problems))
	for _, p := range c.Problems {
		m := c.line(prefix, p)
		if p.JQL != nil {
			m += "\n" + strings.TrimSuffix(p.JQL.Snippet(c.Filter), "\n")
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// Render returns Messages(prefix) as jwh validate prints them, each
// ending in a new line; "" for a valid webhook.
func (c *WebhookCheck) Render(prefix string) string { return render(c.Messages(prefix)) }

// line is the first line of the message of one problem.
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

// Messages returns every problem of the request, one message each: those
// of the request itself as "path: message", then each webhook's as
// WebhookCheck.Messages gives them with the prefix "webhooks[i]".
func (c *RequestCheck) Messages() []string {
	var msgs []string
	for _, p := range c.Problems {
		msgs = append(msgs, p.Path+": "+p.Msg)
	}
	for i, w := range c.Webhooks {
		msgs = append(msgs, w.Messages(fmt.Sprintf("webhooks[%d]", i))...)
	}
	return msgs
}

// Render returns Messages() as jwh validate --file prints them, each
// ending in a new line; "" for a valid request.
func (c *RequestCheck) Render() string { return render(c.Messages()) }

func render(msgs []string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(m)
		b.WriteByte('\n')
	}
	return b.String()
}

// WebhookJSON is a WebhookCheck as jwh validate -o json prints it.
type WebhookJSON struct {
	Valid     bool              `json:"valid"`
	Canonical string            `json:"canonical"` // "" when the filter is invalid
	Aliases   map[string]string `json:"aliases"`   // alias (lower case) -> field
	Errors    []ProblemJSON     `json:"errors"`
}

// RequestJSON is a RequestCheck as jwh validate --file -o json and jwh
// register -o json print it.
type RequestJSON struct {
	Valid    bool           `json:"valid"`
	Errors   []ProblemJSON  `json:"errors"` // the request's own problems, with Path
	Webhooks []*WebhookJSON `json:"webhooks"`
}

// ProblemJSON is one problem in JSON. Line, Column (in runes, 1-based) and
// Offset (in bytes, 0-based) locate a problem in the filter; they are 0 for
// a problem elsewhere, which has Event (an unknown event name, with
// Suggestion when one is close) or Path (where in the request body).
type ProblemJSON struct {
	Message    string `json:"message"`
	Line       int    `json:"line"`
	Column     int    `json:"column"`
	Offset     int    `json:"offset"`
	Event      string `json:"event,omitempty"`
	Suggestion string `json:"suggestion,omitempty"`
	Path       string `json:"path,omitempty"`
}

// JSON returns the check in its JSON form. prefix names the webhook in a
// request ("webhooks[1]"): a problem in its shape then has a Path; with
// prefix "" none has.
func (c *WebhookCheck) JSON(prefix string) *WebhookJSON {
	r := &WebhookJSON{Valid: c.Valid(), Aliases: map[string]string{}, Errors: []ProblemJSON{}}
	if c.Query != nil {
		r.Canonical = c.Query.Canonical()
		r.Aliases = c.Query.Aliases()
	}
	for _, p := range c.Problems {
		e := ProblemJSON{Message: p.Msg, Event: p.Event, Suggestion: p.Suggestion}
		switch {
		case p.JQL != nil:
			e.Line, e.Column, e.Offset = p.JQL.Line, p.JQL.Column, p.JQL.Offset
		case p.Event == "" && prefix != "":
			e.Path = prefix
			if p.Path != "" {
				e.Path += "." + p.Path
			}
		}
		r.Errors = append(r.Errors, e)
	}
	return r
}

// JSON returns the check in its JSON form.
func (c *RequestCheck) JSON() *RequestJSON {
	r := &RequestJSON{Valid: c.Valid(), Errors: []ProblemJSON{}, Webhooks: []*WebhookJSON{}}
	for _, p := range c.Problems {
		r.Errors = append(r.Errors, ProblemJSON{Message: p.Msg, Path: p.Path})
	}
	for i, w := range c.Webhooks {
		r.Webhooks = append(r.Webhooks, w.JSON(fmt.Sprintf("webhooks[%d]", i)))
	}
	return r
}
