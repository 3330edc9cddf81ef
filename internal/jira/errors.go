package jira

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jwh-cli/jwh/internal/transport"
)

// APIError is an answer from Jira with a status of 400 or more. Its text is
// one line: the status, Jira's messages, and for some statuses what to
// check, e.g. "jira: 400 Bad Request: The clause watchCount is
// unsupported".
type APIError struct {
	Method   string
	URL      string // credentials redacted
	Status   int
	Messages []string // from errorMessages and errors, or a summary of a non-JSON body
	// RetryAfter is what the Retry-After header of a 429 or 503 answer
	// asked for (0 when absent): the transport did not wait that long.
	RetryAfter time.Duration
	// AuthHint, when set, is what to check after a 401 or 403 instead of
	// the Connect advice (see Client.WithAuthHint).
	AuthHint string
}

// Hints appended to the messages of some statuses.
const (
	hintAuth = "check the shared secret, the app key (iss) and this machine's clock (exp/iat; Jira allows about 30 s of skew): jwh doctor finds which"
	hint403  = "check the app's scopes, the shared secret, the app key (iss) and this machine's clock (exp/iat; Jira allows about 30 s of skew): jwh doctor finds which"
	hint429  = "still rate limited after retrying: try again later"
	hint503  = "Jira is unavailable; still so after retrying: try again later"
)

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "jira: %d", e.Status)
	if text := http.StatusText(e.Status); text != "" {
		b.WriteString(" " + text)
	}
	if len(e.Messages) > 0 {
		b.WriteString(": " + strings.Join(e.Messages, "; "))
	} else {
		fmt.Fprintf(&b, " for %s %s", e.Method, e.URL)
	}
	if h := e.Hint(); h != "" {
		b.WriteString(": " + h)
	}
	return b.String()
}

// Hint returns what to check for this status, or "".
func (e *APIError) Hint() string {
	if e.AuthHint != "" && e.Credentials() {
		return e.AuthHint
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return hintAuth
	case http.StatusForbidden:
		return hint403
	case http.StatusTooManyRequests:
		if e.RetryAfter > 0 {
			return fmt.Sprintf("still rate limited: Jira asks to wait %s (Retry-After) before trying again", e.RetryAfter)
		}
		return hint429
	case http.StatusServiceUnavailable:
		if e.RetryAfter > 0 {
			return fmt.Sprintf("Jira is unavailable: it asks to wait %s (Retry-After) before trying again", e.RetryAfter)
		}
		return hint503
	}
	return ""
}

// Credentials reports whether Jira refused the app's credentials (401 or
// 403).
func (e *APIError) Credentials() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

func newAPIError(method, url string, r *Response) *APIError {
	e := &APIError{Method: method, URL: url, Status: r.Status, Messages: ErrorMessages(r.Header.Get("Content-Type"), r.Body)}
	if r.Status == http.StatusTooManyRequests || r.Status == http.StatusServiceUnavailable {
		if d, ok := transport.ParseRetryAfter(r.Header.Get("Retry-After"), time.Now()); ok {
			e.RetryAfter = d.Round(time.Second)
		}
	}
	return e
}

// maxMessage bounds the length of one summarised message.
const maxMessage = 200

// ErrorMessages extracts the messages of a Jira error body:
// errorMessages, then the errors map as "field: message" sorted by field
// (or a top-level message). Other JSON bodies are shown compacted, HTML
// bodies by their title, anything else by its first non-empty line; all
// truncated.
func ErrorMessages(contentType string, body []byte) []string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] == '{' || body[0] == '[' {
		var e struct {
			ErrorMessages []string       `json:"errorMessages"`
			Errors        map[string]any `json:"errors"`
			Message       string         `json:"message"`
			ErrorMessage  string         `json:"errorMessage"`
		}
		if json.Unmarshal(body, &e) == nil {
			var msgs []string
			for _, m := range e.ErrorMessages {
				if m = strings.TrimSpace(m); m != "" {
					msgs = append(msgs, truncate(oneLine(m)))
				}
			}
			keys := make([]string, 0, len(e.Errors))
			for k := range e.Errors {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v, ok := e.Errors[k].(string)
				if !ok {
					raw, _ := json.Marshal(e.Errors[k])
					v = string(raw)
				}
				msgs = append(msgs, truncate(oneLine(k+": "+v)))
			}
			for _, m := range []string{e.Message, e.ErrorMessage} {
				if m = strings.TrimSpace(m); m != "" {
					msgs = append(msgs, truncate(oneLine(m)))
				}
			}
			if len(msgs) > 0 {
				return msgs
			}
		}
		var compact bytes.Buffer
		if json.Compact(&compact, body) == nil {
			return []string{truncate(compact.String())}
		}
	}
	if strings.Contains(strings.ToLower(contentType), "html") || bytes.HasPrefix(bytes.ToLower(body), []byte("<!doctype html")) || bytes.HasPrefix(bytes.ToLower(body), []byte("<html")) {
		if m := htmlTitle().FindSubmatch(body); m != nil {
			if t := strings.TrimSpace(oneLine(string(m[1]))); t != "" {
				return []string{truncate(t)}
			}
		}
	}
	if !utf8.Valid(body) {
		return []string{fmt.Sprintf("[%d bytes of binary data]", len(body))}
	}
	for _, line := range strings.Split(string(body), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return []string{truncate(line)}
		}
	}
	return nil
}

// htmlTitle finds the title of an HTML error page. It is compiled on first
// use, not when jwh starts: few runs meet an HTML page.
var htmlTitle = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
})

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= maxMessage {
		return s
	}
	r := []rune(s)
	return string(r[:maxMessage]) + "..."
}
