package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/urlpolicy"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// expirationLayout is the string form of dates in Jira's examples.
const expirationLayout = "2006-01-02T15:04:05.000-0700"

// apiPath returns the path of a REST API request after /rest/api/2/ or
// /rest/api/3/, which the sandbox serves alike.
func apiPath(rest string) (string, bool) {
	sub, ok := strings.CutPrefix(rest, "/rest/api/2/")
	if !ok {
		sub, ok = strings.CutPrefix(rest, "/rest/api/3/")
	}
	return sub, ok
}

// endpoint serves a request whose JWT verified; rest is its canonical path
// relative to the tenant.
func (s *Server) endpoint(r *http.Request, t *Tenant, rest string) response {
	if sub, ok := apiPath(rest); ok {
		switch sub {
		case "webhook":
			switch r.Method {
			case http.MethodPost:
				return s.register(r, t)
			case http.MethodGet:
				return s.list(r, t)
			case http.MethodDelete:
				return s.deleteWebhooks(r, t)
			}
			return methodNotAllowed(r, "DELETE, GET, POST")
		case "webhook/refresh":
			if r.Method == http.MethodPut {
				return s.refresh(r, t)
			}
			return methodNotAllowed(r, "PUT")
		case "webhook/failed":
			if r.Method == http.MethodGet {
				return s.failedDeliveries(r, t)
			}
			return methodNotAllowed(r, "GET")
		case "myself":
			if r.Method == http.MethodGet {
				return s.myself(t)
			}
			return methodNotAllowed(r, "GET")
		}
	}
	return jiraError(http.StatusNotFound, fmt.Sprintf(
		"The sandbox does not emulate %s %s: it serves /rest/api/2/webhook, /rest/api/2/webhook/refresh, /rest/api/2/webhook/failed and /rest/api/2/myself (or /rest/api/3/...).",
		r.Method, rest))
}

// jiraError is an error answer in Jira's ErrorCollection shape.
func jiraError(status int, messages ...string) response {
	return jsonResponse(status, struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}{messages, map[string]string{}})
}

func jsonResponse(status int, v any) response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sandbox: encoding a response: %v", err)) // only plain types are encoded
	}
	return response{status: status, body: b}
}

func methodNotAllowed(r *http.Request, allow string) response {
	resp := jiraError(http.StatusMethodNotAllowed, fmt.Sprintf("Method %s is not allowed here: use %s.", r.Method, allow))
	resp.header = http.Header{"Allow": {allow}}
	return resp
}

// readJSON decodes the request's JSON body into v, or returns the answer
// Jira gives to a body it cannot take.
func readJSON(r *http.Request, v any) *response {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		resp := jiraError(http.StatusUnsupportedMediaType,
			fmt.Sprintf("Unsupported Media Type %q: send the body as application/json.", r.Header.Get("Content-Type")))
		return &resp
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		resp := jiraError(http.StatusBadRequest, "Cannot read the request body: "+err.Error())
		return &resp
	}
	if len(b) > maxBody {
		resp := jiraError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", maxBody))
		return &resp
	}
	if err := json.Unmarshal(b, v); err != nil {
		resp := jiraError(http.StatusBadRequest, "Invalid request payload. Refer to the REST API documentation and try again: "+err.Error())
		return &resp
	}
	return nil
}

// intParam reads a non-negative integer query parameter.
func intParam(q url.Values, name string, def int64) (int64, *response) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return def, nil
	}
	n, err := strconv.ParseInt(v[0], 10, 64)
	if err != nil || n < 0 {
		resp := jiraError(http.StatusBadRequest, fmt.Sprintf("The value '%s' of the parameter %s is invalid: expected a non-negative integer.", v[0], name))
		return 0, &resp
	}
	return n, nil
}

func (s *Server) expiration(at time.Time) any {
	if s.opts.ExpirationAsString {
		return at.UTC().Format(expirationLayout)
	}
	return at.UnixMilli()
}

// persistFailed is the answer to a change whose state could not be saved.
func persistFailed(err error) response {
	return jiraError(http.StatusInternalServerError, "The sandbox could not save its state, so nothing changed: "+err.Error())
}

type registerResult struct {
	CreatedWebhookID *int64   `json:"createdWebhookId,omitempty"`
	Errors           []string `json:"errors,omitempty"`
}

// registerBody is a register request whose url is usable: its webhooks
// checked one by one, each with Jira's reasons for refusing it.
type registerBody struct {
	callback string
	checked  []Webhook
	errs     [][]string
}

// readRegistration reads a register request, or returns the answer Jira
// gives to a request it refuses as a whole.
func readRegistration(r *http.Request) (registerBody, *response) {
	var body struct {
		URL      *string `json:"url"`
		Webhooks []struct {
			JQLFilter               *string  `json:"jqlFilter"`
			Events                  []string `json:"events"`
			FieldIDsFilter          []string `json:"fieldIdsFilter"`
			IssuePropertyKeysFilter []string `json:"issuePropertyKeysFilter"`
		} `json:"webhooks"`
	}
	if resp := readJSON(r, &body); resp != nil {
		return registerBody{}, resp
	}
	bad := func(msg string) (registerBody, *response) {
		resp := jiraError(http.StatusBadRequest, msg)
		return registerBody{}, &resp
	}
	if body.URL == nil || *body.URL == "" {
		return bad("The url is required: the URL that receives the webhooks.")
	}
	callback := *body.URL
	if err := urlpolicy.CheckCallbackURL(callback); err != nil {
		return bad(fmt.Sprintf("The url %q is not valid: %s.", callback, urlpolicy.Reason(err)))
	}
	if len(body.Webhooks) == 0 {
		return bad("The webhooks list is required and must not be empty.")
	}

	// Check every webhook outside the lock; only the URL and the limit
	// depend on the tenant's state.
	reg := registerBody{callback: callback, checked: make([]Webhook, len(body.Webhooks)), errs: make([][]string, len(body.Webhooks))}
	for i, w := range body.Webhooks {
		reg.checked[i], reg.errs[i] = checkWebhook(w.Events, w.JQLFilter, w.FieldIDsFilter, w.IssuePropertyKeysFilter)
	}
	return reg, nil
}

func (s *Server) register(r *http.Request, t *Tenant) response {
	return s.createWebhooks(r, t, &t.callback, webhookspec.Connect,
		func() int { return len(t.webhooks) },
		func(w Webhook) { t.webhooks = append(t.webhooks, w) })
}

// createWebhooks serves a register request for one app's webhooks on t:
// callback is the app's callback URL there (a webhook for another URL is
// refused), count says how many webhooks the caller has, which lim
// bounds, and add stores a new one. All three are used with s.mu held.
// Like Jira it answers 200 with a result per webhook.
func (s *Server) createWebhooks(r *http.Request, t *Tenant, callback *string, lim webhookspec.Limits, count func() int, add func(Webhook)) response {
	reg, bad := readRegistration(r)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	undo := t.snapshotLocked(s)
	owned := count()
	expires := s.now().Add(Lifetime)
	results := make([]registerResult, len(reg.checked))
	created := false
	for i, w := range reg.checked {
		var refused []string
		switch {
		case *callback != "" && *callback != reg.callback:
			refused = []string{fmt.Sprintf(
				"Only a single URL per app is allowed to be registered: this app's webhooks on this site deliver to %s, not %s.",
				*callback, reg.callback)}
		case reg.errs[i] != nil:
			refused = reg.errs[i]
		default:
			refused = checkRoom(owned, lim)
		}
		if refused != nil {
			results[i].Errors = refused
			continue
		}
		id := s.nextID
		s.nextID++
		w.ID, w.URL, w.ExpiresAt = id, reg.callback, expires
		add(w)
		*callback = reg.callback
		results[i].CreatedWebhookID = &id
		owned++
		created = true
	}
	if created {
		if err := s.persistLocked(); err != nil {
			t.restoreLocked(s, undo)
			return persistFailed(err)
		}
	}
	return jsonResponse(http.StatusOK, struct {
		Results []registerResult `json:"webhookRegistrationResult"`
	}{results})
}

type webhookJSON struct {
	ID                      int64    `json:"id"`
	JQLFilter               string   `json:"jqlFilter"`
	Events                  []string `json:"events"`
	ExpirationDate          any      `json:"expirationDate"`
	FieldIDsFilter          []string `json:"fieldIdsFilter,omitempty"`
	IssuePropertyKeysFilter []string `json:"issuePropertyKeysFilter,omitempty"`
	URL                     string   `json:"url"`
}

func (s *Server) list(r *http.Request, t *Tenant) response {
	return s.listPage(r, func() []Webhook { return t.webhooks })
}

// listPage answers a list request with a page of the webhooks that
// visible returns, which it calls with s.mu held.
func (s *Server) listPage(r *http.Request, visible func() []Webhook) response {
	q := r.URL.Query()
	startAt, bad := intParam(q, "startAt", 0)
	if bad != nil {
		return *bad
	}
	maxResults, bad := intParam(q, "maxResults", DefaultPageCap)
	if bad != nil {
		return *bad
	}
	maxResults = min(maxResults, int64(s.pageCap))

	s.mu.Lock()
	defer s.mu.Unlock()
	hooks := visible()
	total := int64(len(hooks))
	start := min(startAt, total)
	end := min(start+maxResults, total)
	values := make([]webhookJSON, 0, end-start)
	for _, w := range hooks[start:end] {
		values = append(values, webhookJSON{
			ID: w.ID, JQLFilter: w.JQL, Events: w.Events, ExpirationDate: s.expiration(w.ExpiresAt),
			FieldIDsFilter: w.FieldIDs, IssuePropertyKeysFilter: w.PropertyKeys, URL: w.URL,
		})
	}
	return jsonResponse(http.StatusOK, struct {
		StartAt    int64         `json:"startAt"`
		MaxResults int64         `json:"maxResults"`
		Total      int64         `json:"total"`
		IsLast     bool          `json:"isLast"`
		Values     []webhookJSON `json:"values"`
	}{startAt, maxResults, total, startAt+int64(len(values)) >= total, values})
}

// readIDs reads a {"webhookIds": [...]} body.
func readIDs(r *http.Request) ([]int64, *response) {
	var body struct {
		WebhookIDs *[]int64 `json:"webhookIds"`
	}
	if resp := readJSON(r, &body); resp != nil {
		return nil, resp
	}
	if body.WebhookIDs == nil {
		resp := jiraError(http.StatusBadRequest, "The webhookIds list is required.")
		return nil, &resp
	}
	return *body.WebhookIDs, nil
}

func (s *Server) deleteWebhooks(r *http.Request, t *Tenant) response {
	return s.changeWebhooks(r, t, func(ids []int64) bool {
		kept := slices.DeleteFunc(slices.Clone(t.webhooks), func(w Webhook) bool { return slices.Contains(ids, w.ID) })
		if len(kept) == len(t.webhooks) {
			return false
		}
		t.webhooks = kept
		if len(kept) == 0 {
			t.callback = ""
		}
		return true
	}, deleted)
}

func (s *Server) refresh(r *http.Request, t *Tenant) response {
	expires := s.now().Add(Lifetime)
	return s.changeWebhooks(r, t, func(ids []int64) bool {
		changed := false
		for i := range t.webhooks {
			if slices.Contains(ids, t.webhooks[i].ID) {
				t.webhooks[i].ExpiresAt = expires
				changed = true
			}
		}
		return changed
	}, s.refreshed(expires))
}

// changeWebhooks serves a delete or refresh request of webhooks on t: it
// reads the {"webhookIds": [...]} body, calls change with the ids under
// the lock, saves the state when change reports a change (undoing it if
// that fails), and answers with answer.
func (s *Server) changeWebhooks(r *http.Request, t *Tenant, change func(ids []int64) bool, answer response) response {
	ids, bad := readIDs(r)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	undo := t.snapshotLocked(s)
	if change(ids) {
		if err := s.persistLocked(); err != nil {
			t.restoreLocked(s, undo)
			return persistFailed(err)
		}
	}
	return answer
}

// deleted is Jira's answer to a delete, whether or not the ids existed.
var deleted = response{status: http.StatusAccepted}

// refreshed is Jira's answer to a refresh: the new expiration date,
// whether or not the ids existed.
func (s *Server) refreshed(expires time.Time) response {
	return jsonResponse(http.StatusOK, struct {
		ExpirationDate any `json:"expirationDate"`
	}{s.expiration(expires)})
}

type failedJSON struct {
	ID          string `json:"id"`
	Body        string `json:"body"`
	URL         string `json:"url"`
	FailureTime int64  `json:"failureTime"`
}

func (s *Server) failedDeliveries(r *http.Request, t *Tenant) response {
	q := r.URL.Query()
	maxResults, bad := intParam(q, "maxResults", DefaultPageCap)
	if bad != nil {
		return *bad
	}
	maxResults = max(min(maxResults, int64(s.pageCap)), 1)
	after, bad := intParam(q, s.afterName, -1)
	if bad != nil {
		return *bad
	}
	oldest := s.now().Add(-FailedRetention).UnixMilli()

	s.mu.Lock()
	var all []failedJSON
	for _, f := range t.failed {
		ms := f.FailureTime.UnixMilli()
		if ms > after && ms >= oldest {
			all = append(all, failedJSON{f.ID, f.Body, f.URL, ms})
		}
	}
	s.mu.Unlock()

	// Records with the same failure time are never split across pages:
	// the cursor is a time, so a split would lose the rest of them.
	n := min(int64(len(all)), maxResults)
	for n > 0 && n < int64(len(all)) && all[n].FailureTime == all[n-1].FailureTime {
		n++
	}
	page := struct {
		Values     []failedJSON `json:"values"`
		MaxResults int64        `json:"maxResults"`
		Next       string       `json:"next,omitempty"`
	}{Values: all[:n:n], MaxResults: maxResults}
	if page.Values == nil {
		page.Values = []failedJSON{}
	}
	if n < int64(len(all)) {
		next := url.Values{}
		for k, v := range q {
			if k != "jwt" {
				next[k] = v
			}
		}
		next.Set(s.afterName, strconv.FormatInt(all[n-1].FailureTime, 10))
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		page.Next = scheme + "://" + r.Host + r.URL.EscapedPath() + "?" + next.Encode()
	}
	return jsonResponse(http.StatusOK, page)
}

func (s *Server) myself(t *Tenant) response {
	return myselfAnswer(t, t.accountID(), "app", t.appKey)
}

// myselfAnswer is GET /rest/api/2/myself for the account id on t.
func myselfAnswer(t *Tenant, id, accountType, name string) response {
	return jsonResponse(http.StatusOK, struct {
		Self        string `json:"self"`
		AccountID   string `json:"accountId"`
		AccountType string `json:"accountType"`
		DisplayName string `json:"displayName"`
		Active      bool   `json:"active"`
		TimeZone    string `json:"timeZone"`
		Locale      string `json:"locale"`
	}{t.BaseURL() + "/rest/api/2/user?accountId=" + id, id, accountType, name, true, "Etc/UTC", "en_US"})
}
