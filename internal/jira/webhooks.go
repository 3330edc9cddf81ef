package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Paths of the dynamic-webhook API, relative to the base URL.
const (
	WebhookPath        = "/rest/api/2/webhook"
	WebhookRefreshPath = "/rest/api/2/webhook/refresh"
	WebhookFailedPath  = "/rest/api/2/webhook/failed"
	// MyselfPath is the app's own user: the cheapest signed request a
	// Connect app can make (jwh doctor sends it).
	MyselfPath = "/rest/api/2/myself"
)

// PageSize is the page size AllWebhooks and FailedWebhooks ask for; Jira
// may return fewer.
const PageSize = 100

// maxPages stops a pagination that does not end (Jira allows 100 webhooks
// per app, so a real listing is one or two pages).
const maxPages = 1000

// WebhookSpec is one webhook of a registration request.
type WebhookSpec struct {
	JQLFilter               string   `json:"jqlFilter"`
	Events                  []string `json:"events"`
	FieldIDsFilter          []string `json:"fieldIdsFilter,omitempty"`
	IssuePropertyKeysFilter []string `json:"issuePropertyKeysFilter,omitempty"`
}

// RegisterRequest is the body of POST /rest/api/2/webhook: one callback
// URL for all the webhooks.
type RegisterRequest struct {
	URL      string        `json:"url"`
	Webhooks []WebhookSpec `json:"webhooks"`
}

// RegistrationResult is Jira's answer for one requested webhook: the id of
// the new webhook, or why it was refused.
type RegistrationResult struct {
	ID     int64    `json:"createdWebhookId,omitempty"`
	Errors []string `json:"errors,omitempty"`
}

// Webhook is a registered webhook.
type Webhook struct {
	ID                      int64     `json:"id"`
	JQLFilter               string    `json:"jqlFilter"`
	Events                  []string  `json:"events"`
	Expiration              time.Time `json:"expirationDate,omitzero"`
	FieldIDsFilter          []string  `json:"fieldIdsFilter,omitempty"`
	IssuePropertyKeysFilter []string  `json:"issuePropertyKeysFilter,omitempty"`
	URL                     string    `json:"url,omitempty"`
}

// UnmarshalJSON decodes a webhook as Jira writes it, with expirationDate
// as epoch milliseconds or as a date string.
func (w *Webhook) UnmarshalJSON(b []byte) error {
	var wire struct {
		ID                      int64     `json:"id"`
		JQLFilter               string    `json:"jqlFilter"`
		Events                  []string  `json:"events"`
		Expiration              Timestamp `json:"expirationDate"`
		FieldIDsFilter          []string  `json:"fieldIdsFilter"`
		IssuePropertyKeysFilter []string  `json:"issuePropertyKeysFilter"`
		URL                     string    `json:"url"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	*w = Webhook{
		ID: wire.ID, JQLFilter: wire.JQLFilter, Events: wire.Events, Expiration: wire.Expiration.Time,
		FieldIDsFilter: wire.FieldIDsFilter, IssuePropertyKeysFilter: wire.IssuePropertyKeysFilter, URL: wire.URL,
	}
	return nil
}

// WebhookPage is one page of GET /rest/api/2/webhook.
type WebhookPage struct {
	StartAt    int       `json:"startAt"`
	MaxResults int       `json:"maxResults"`
	Total      int       `json:"total"`
	IsLast     bool      `json:"isLast"`
	Values     []Webhook `json:"values"`
}

// FailedWebhook is a delivery that Jira gave up on.
type FailedWebhook struct {
	ID          string    `json:"id"`
	Body        string    `json:"body,omitempty"`
	URL         string    `json:"url"`
	FailureTime time.Time `json:"failureTime,omitzero"`
}

// UnmarshalJSON decodes a failed delivery, with id as a string or a number
// and failureTime in either of Jira's date forms.
func (f *FailedWebhook) UnmarshalJSON(b []byte) error {
	var wire struct {
		ID          json.RawMessage `json:"id"`
		Body        string          `json:"body"`
		URL         string          `json:"url"`
		FailureTime Timestamp       `json:"failureTime"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	id := string(bytes.TrimSpace(wire.ID))
	if len(id) > 0 && id[0] == '"' {
		if err := json.Unmarshal(wire.ID, &id); err != nil {
			return fmt.Errorf("failed webhook id: %w", err)
		}
	} else if id == "null" {
		id = ""
	}
	*f = FailedWebhook{ID: id, Body: wire.Body, URL: wire.URL, FailureTime: wire.FailureTime.Time}
	return nil
}

// call sends in (when not nil) as JSON and decodes the answer into out
// (when not nil).
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("jira: encode the request: %w", err)
		}
	}
	resp, err := c.Do(ctx, method, path, body)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &DecodeError{Method: method, Path: path, Err: err}
	}
	return nil
}

// DecodeError is a 2xx answer that is not what the API documents.
type DecodeError struct {
	Method, Path string
	Err          error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("jira: unexpected answer to %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// RegisterWebhooks registers the webhooks of req and returns one result
// per requested webhook, in order. Jira answers 200 even when it refuses
// some webhooks: look at each result's Errors.
func (c *Client) RegisterWebhooks(ctx context.Context, req RegisterRequest) ([]RegistrationResult, error) {
	if req.Webhooks == nil {
		req.Webhooks = []WebhookSpec{}
	}
	var raw json.RawMessage
	if err := c.call(ctx, http.MethodPost, WebhookPath, req, &raw); err != nil {
		return nil, err
	}
	var results []RegistrationResult
	trimmed := bytes.TrimSpace(raw)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := json.Unmarshal(trimmed, &results); err != nil {
			return nil, &DecodeError{Method: http.MethodPost, Path: WebhookPath, Err: err}
		}
	default:
		var obj struct {
			Results *[]RegistrationResult `json:"webhookRegistrationResult"`
		}
		if err := json.Unmarshal(trimmed, &obj); err != nil {
			return nil, &DecodeError{Method: http.MethodPost, Path: WebhookPath, Err: err}
		}
		if obj.Results == nil {
			return nil, &DecodeError{Method: http.MethodPost, Path: WebhookPath, Err: errors.New("no webhookRegistrationResult")}
		}
		results = *obj.Results
	}
	if len(results) != len(req.Webhooks) {
		return results, &DecodeError{Method: http.MethodPost, Path: WebhookPath,
			Err: fmt.Errorf("%d results for %d webhooks", len(results), len(req.Webhooks))}
	}
	return results, nil
}

// ListWebhooks returns one page of the app's webhooks. A maxResults of 0
// or less leaves the page size to Jira.
func (c *Client) ListWebhooks(ctx context.Context, startAt, maxResults int) (*WebhookPage, error) {
	path := WebhookPath + "?startAt=" + strconv.Itoa(max(startAt, 0))
	if maxResults > 0 {
		path += "&maxResults=" + strconv.Itoa(maxResults)
	}
	var page WebhookPage
	if err := c.call(ctx, http.MethodGet, path, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// AllWebhooks returns all of the app's webhooks, following the pages at
// startAt + len(values) until Jira says isLast, a page is empty, or the
// total is reached. A server that keeps answering pages of webhooks
// already seen is an error rather than an endless loop.
func (c *Client) AllWebhooks(ctx context.Context) ([]Webhook, error) {
	var all []Webhook
	seen := make(map[int64]bool)
	startAt := 0
	for range maxPages {
		page, err := c.ListWebhooks(ctx, startAt, PageSize)
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, w := range page.Values {
			if seen[w.ID] {
				continue
			}
			seen[w.ID] = true
			all = append(all, w)
			fresh++
		}
		switch {
		case page.IsLast, len(page.Values) == 0, page.Total > 0 && len(all) >= page.Total:
			return all, nil
		case fresh == 0:
			return nil, fmt.Errorf("jira: listing webhooks: the page at startAt=%d repeats webhooks already listed and is not the last; stopped", startAt)
		}
		startAt += len(page.Values)
	}
	return nil, fmt.Errorf("jira: listing webhooks: no last page after %d pages; stopped", maxPages)
}

type webhookIDs struct {
	IDs []int64 `json:"webhookIds"`
}

// DeleteWebhooks deletes the webhooks with these ids. Jira ignores ids that
// are not the app's, so this cannot tell which were deleted. No ids sends
// nothing.
func (c *Client) DeleteWebhooks(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return c.call(ctx, http.MethodDelete, WebhookPath, webhookIDs{ids}, nil)
}

// RefreshWebhooks extends the life of the webhooks with these ids and
// returns their new expiration, one for all of them.
func (c *Client) RefreshWebhooks(ctx context.Context, ids []int64) (time.Time, error) {
	if len(ids) == 0 {
		return time.Time{}, errors.New("jira: no webhook ids to refresh")
	}
	var out struct {
		Expiration Timestamp `json:"expirationDate"`
	}
	if err := c.call(ctx, http.MethodPut, WebhookRefreshPath, webhookIDs{ids}, &out); err != nil {
		return time.Time{}, err
	}
	if out.Expiration.IsZero() {
		return time.Time{}, &DecodeError{Method: http.MethodPut, Path: WebhookRefreshPath, Err: errors.New("no expirationDate")}
	}
	return out.Expiration.Time, nil
}

// FailedWebhooks returns the deliveries that Jira gave up on, following
// each page's next link exactly as Jira wrote it (it must stay under the
// base URL).
func (c *Client) FailedWebhooks(ctx context.Context) ([]FailedWebhook, error) {
	var all []FailedWebhook
	next := WebhookFailedPath + "?maxResults=" + strconv.Itoa(PageSize)
	seen := make(map[string]bool)
	for range maxPages {
		seen[next] = true
		var page struct {
			Values []FailedWebhook `json:"values"`
			Next   string          `json:"next"`
		}
		if err := c.call(ctx, http.MethodGet, next, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Values...)
		if page.Next == "" || len(page.Values) == 0 {
			return all, nil
		}
		if seen[page.Next] {
			return nil, fmt.Errorf("jira: listing failed webhooks: the next link %s was already followed; stopped", page.Next)
		}
		next = page.Next
	}
	return nil, fmt.Errorf("jira: listing failed webhooks: no last page after %d pages; stopped", maxPages)
}
