package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/events"
)

// Jira's delivery behaviour, as the sandbox reproduces it.
const (
	// MaxRetries is how many times a failed delivery is retried.
	MaxRetries = 5
	// FirstRetryDelay is the shortest wait before the first retry, at
	// RetryScale 1. The n-th retry waits FirstRetryDelay × 3^(n-1) × a
	// random factor in [1, 1.45), so that the last one comes 20 to 30
	// minutes after the first failure, as Jira's do (15 to 30).
	FirstRetryDelay = 10 * time.Second
	// DefaultRetryScale is the RetryScale of the zero Options: a delivery
	// that always fails gives up after 1.2 to 1.8 seconds.
	DefaultRetryScale = 0.001
	// DefaultDeliveryTimeout bounds one delivery attempt.
	DefaultDeliveryTimeout = 10 * time.Second
	// UserAgent is the User-Agent of deliveries, Jira's.
	UserAgent = "Atlassian Webhook HTTP Client"
	// HeaderIdentifier and HeaderRetry are the headers Jira sets on
	// deliveries: the delivery's identifier, the same on every attempt,
	// and the number of the retry (absent on the first attempt).
	HeaderIdentifier = "X-Atlassian-Webhook-Identifier"
	HeaderRetry      = "X-Atlassian-Webhook-Retry"
	// BearerDeliveryTTL is the lifetime (exp - iat) of the Bearer JWT on a
	// delivery to the OAuth app.
	BearerDeliveryTTL = 3 * time.Minute
)

// The outcomes of a delivery.
const (
	OutcomePending   = "pending"   // still being attempted or retried
	OutcomeDelivered = "delivered" // a 2xx answer
	OutcomeFailed    = "failed"    // given up on, and listed as failed
	OutcomeCanceled  = "canceled"  // the sandbox stopped before it ended
)

// Attempt is one attempt of a delivery.
type Attempt struct {
	Retry  int       `json:"retry"` // 0 for the first attempt
	Time   time.Time `json:"time"`  // on the server's clock, in UTC
	Status int       `json:"status,omitempty"`
	// Error says why there was no answer (connection refused, time-out);
	// "" when the receiver answered.
	Error string `json:"error,omitempty"`
}

// DeliveryResult is a delivery of an event to one callback URL: one
// payload naming every webhook that matched.
type DeliveryResult struct {
	WebhookIDs []int64 `json:"webhookIds"`
	URL        string  `json:"url"`
	// App is the app whose webhooks these are: KindConnect or KindOAuth.
	App string `json:"app"`
	// AccountID is the owner of the OAuth app's webhooks (the sub of the
	// delivery's Bearer JWT); "" for the Connect app.
	AccountID  string `json:"accountId,omitempty"`
	Identifier string `json:"identifier"`
	Outcome    string `json:"outcome"` // one of the Outcome* constants
	// Status is the status of the last answer, 0 when there was none.
	Status int `json:"status,omitempty"`
	// Error says what went wrong when the outcome is not delivered.
	Error    string    `json:"error,omitempty"`
	Attempts []Attempt `json:"attempts"`
	// Payload is the body, byte for byte as sent.
	Payload json.RawMessage `json:"payload"`
}

// Skipped is a webhook subscribed to the event that was not delivered to,
// and why.
type Skipped struct {
	WebhookID int64  `json:"webhookId"`
	Reason    string `json:"reason"`
}

// TriggerResult is what became of a triggered event: which webhooks
// matched and how each delivery went. It is the trigger endpoint's answer.
type TriggerResult struct {
	Event    string `json:"event"`
	IssueKey string `json:"issueKey,omitempty"`
	// MatchedWebhookIDs are the webhooks delivered to, in order.
	MatchedWebhookIDs []int64 `json:"matchedWebhookIds"`
	// Skipped are the webhooks subscribed to the event that did not
	// match, in order of id.
	Skipped    []Skipped        `json:"skipped"`
	Deliveries []DeliveryResult `json:"deliveries"`
	// Complete reports whether every delivery has ended.
	Complete bool `json:"complete"`
}

// AttemptReport tells Options.OnAttempt about an attempt that has ended.
type AttemptReport struct {
	Tenant string
	// App and AccountID are those of the delivery (see DeliveryResult).
	App        string
	AccountID  string
	Event      string
	IssueKey   string
	URL        string
	Identifier string
	WebhookIDs []int64
	Attempt    Attempt
	// Outcome is OutcomePending while the delivery will be retried, after
	// Next; otherwise how it ended.
	Outcome string
	Next    time.Duration
}

// Triggered is an event whose deliveries are under way.
type Triggered struct {
	done   chan struct{}
	cancel context.CancelFunc

	mu  sync.Mutex
	res TriggerResult
}

// Done is closed when every delivery has ended.
func (tr *Triggered) Done() <-chan struct{} { return tr.done }

// Result returns what has become of the event so far.
func (tr *Triggered) Result() TriggerResult {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	r := tr.res
	r.MatchedWebhookIDs = slices.Clone(r.MatchedWebhookIDs)
	r.Skipped = slices.Clone(r.Skipped)
	r.Deliveries = slices.Clone(r.Deliveries)
	for i := range r.Deliveries {
		r.Deliveries[i].Attempts = slices.Clone(r.Deliveries[i].Attempts)
	}
	return r
}

// Wait waits until every delivery has ended, or ctx is done, and returns
// the result. When ctx ends first, the error is ctx's and the result shows
// the deliveries still pending; they go on.
func (tr *Triggered) Wait(ctx context.Context) (TriggerResult, error) {
	select {
	case <-tr.done:
		return tr.Result(), nil
	case <-ctx.Done():
		select {
		case <-tr.done:
			return tr.Result(), nil
		default:
		}
		return tr.Result(), ctx.Err()
	}
}

// Cancel stops the event's deliveries that are still pending; they end
// as canceled and are not listed as failed. Wait tells when they stopped.
func (tr *Triggered) Cancel() { tr.cancel() }

func (tr *Triggered) update(i int, fn func(*DeliveryResult)) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	fn(&tr.res.Deliveries[i])
}

// Trigger delivers ev to the tenant's webhooks, those of the Connect app
// and those of the OAuth app, as Jira would, and returns at once: the
// result says which webhooks matched, and Wait when the deliveries have
// ended.
//
// A webhook is delivered to when it subscribes to the event, has not
// expired, its JQL filter matches the issue (issue, comment and issue
// property events; sprint and version events are not filtered), a
// jira:issue_updated changed a field of its fieldIdsFilter (when it has
// one), and an issue property event is about a key of its
// issuePropertyKeysFilter (when it has one). Jira sends one payload per
// event and callback URL, whose matchedWebhookIds name every webhook that
// matched; for the OAuth app, one per event, callback URL and owner of
// the webhooks.
//
// Each delivery is a POST of the JSON payload, signed as Jira signs. For
// the Connect app: a Connect JWT whose iss is the tenant's client key,
// with the shared secret, and whose qsh is computed relative to the app's
// base URL (TenantConfig.AppBaseURL, else the callback URL's origin). For
// the OAuth app: Authorization: Bearer and a JWT signed HS256 with the
// client secret, whose claims Jira does not document; the sandbox's are
// iss "jira:" + the cloud id, aud the client id, sub the account id of
// the webhooks' owner, iat, exp (iat + 3 minutes) and context.cloudId.
// Answers other than 2xx are
// failures; 408, 409, 425, 429, 5xx, connection failures and time-outs are
// retried up to MaxRetries times (see FirstRetryDelay and
// Options.RetryScale) with X-Atlassian-Webhook-Retry set, and the
// X-Atlassian-Webhook-Identifier of the first attempt. A delivery that
// fails for good is recorded as failed, its id being the identifier: with
// RecordFailedDelivery for the Connect app, in OAuthFailedDeliveries for
// the OAuth app.
//
// The error is for an unknown event name.
func (t *Tenant) Trigger(ev Event) (*Triggered, error) {
	if err := events.Check(ev.Name); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s := t.s
	now := s.now()
	// The webhooks of both apps, the Connect app's first; each delivery
	// goes to one app (and, for the OAuth app, one owner) and URL.
	type target struct {
		app, owner string
		w          Webhook
	}
	s.mu.Lock()
	s.seq++
	seq := s.seq
	hooks := make([]target, 0, len(t.webhooks)+len(t.oauthHooks))
	for _, w := range t.webhooks {
		hooks = append(hooks, target{KindConnect, "", w.clone()})
	}
	for _, w := range t.oauthHooks {
		hooks = append(hooks, target{KindOAuth, AccountID(w.User), w.Webhook.clone()})
	}
	s.mu.Unlock()

	p := t.prepare(ev, now, seq)
	res := TriggerResult{Event: ev.Name, MatchedWebhookIDs: []int64{}, Skipped: []Skipped{}, Deliveries: []DeliveryResult{}}
	if p.issue != nil {
		res.IssueKey = p.issue.match.Key
	}
	type group struct{ app, owner, url string }
	var groups []group
	ids := map[group][]int64{}
	for _, h := range hooks {
		w := h.w
		if !slices.Contains(w.Events, ev.Name) {
			continue
		}
		if reason := p.skip(w, now); reason != "" {
			res.Skipped = append(res.Skipped, Skipped{w.ID, reason})
			continue
		}
		res.MatchedWebhookIDs = append(res.MatchedWebhookIDs, w.ID)
		g := group{h.app, h.owner, w.URL}
		if _, ok := ids[g]; !ok {
			groups = append(groups, g)
		}
		ids[g] = append(ids[g], w.ID)
	}
	slices.Sort(res.MatchedWebhookIDs)
	slices.SortFunc(res.Skipped, func(a, b Skipped) int { return cmp.Compare(a.WebhookID, b.WebhookID) })
	for _, g := range groups {
		body := p.body
		body.MatchedWebhookIDs = ids[g]
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("sandbox: encoding the payload: %w", err)
		}
		res.Deliveries = append(res.Deliveries, DeliveryResult{
			WebhookIDs: ids[g], URL: g.url, App: g.app, AccountID: g.owner, Identifier: newUUID(), Outcome: OutcomePending,
			Attempts: []Attempt{}, Payload: b,
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	tr := &Triggered{done: make(chan struct{}), cancel: cancel, res: res}
	if len(res.Deliveries) == 0 {
		tr.res.Complete = true
		close(tr.done)
		cancel()
		return tr, nil
	}
	s.mu.Lock()
	if s.pending == nil {
		s.pending = map[*Triggered]struct{}{}
	}
	if len(s.pending) == 0 {
		s.idle = make(chan struct{})
	}
	s.pending[tr] = struct{}{}
	s.mu.Unlock()

	deliveries := slices.Clone(res.Deliveries)
	go func() {
		var wg sync.WaitGroup
		for i, d := range deliveries {
			wg.Go(func() { t.deliver(ctx, tr, i, d, ev.Name, res.IssueKey) })
		}
		wg.Wait()
		cancel()
		tr.mu.Lock()
		tr.res.Complete = true
		tr.mu.Unlock()
		s.mu.Lock()
		delete(s.pending, tr)
		if len(s.pending) == 0 {
			close(s.idle)
		}
		s.mu.Unlock()
		close(tr.done)
	}()
	return tr, nil
}

// skip returns why the webhook w, subscribed to the event, is not
// delivered to, or "" when it is.
func (p *prepared) skip(w Webhook, now time.Time) string {
	if w.Expired(now) {
		return "expired at " + w.ExpiresAt.UTC().Format(time.RFC3339) + ": extend it"
	}
	if p.issue != nil && !w.Filter.Match(p.issue.match) {
		return "the issue does not match the filter: " + w.JQL
	}
	switch p.ev.Name {
	case "jira:issue_updated":
		if len(w.FieldIDs) > 0 && !slices.ContainsFunc(p.changed, func(id string) bool { return slices.Contains(w.FieldIDs, id) }) {
			changed := "no field"
			if len(p.changed) > 0 {
				changed = strings.Join(p.changed, ", ")
			}
			return fmt.Sprintf("the update changed %s, none of fieldIdsFilter [%s]", changed, strings.Join(w.FieldIDs, ", "))
		}
	case "issue_property_set", "issue_property_deleted":
		if key := p.body.Property.Key; len(w.PropertyKeys) > 0 && !slices.Contains(w.PropertyKeys, key) {
			return fmt.Sprintf("the property %q is not in issuePropertyKeysFilter [%s]", key, strings.Join(w.PropertyKeys, ", "))
		}
	}
	return ""
}

// deliver makes the attempts of delivery i of tr.
func (t *Tenant) deliver(ctx context.Context, tr *Triggered, i int, d DeliveryResult, event, issueKey string) {
	s := t.s
	authorize := t.deliveryAuthorizer(d)
	report := func(a Attempt, outcome string, next time.Duration) {
		if s.opts.OnAttempt != nil {
			s.opts.OnAttempt(AttemptReport{
				Tenant: t.name, App: d.App, AccountID: d.AccountID, Event: event, IssueKey: issueKey, URL: d.URL, Identifier: d.Identifier,
				WebhookIDs: slices.Clone(d.WebhookIDs), Attempt: a, Outcome: outcome, Next: next,
			})
		}
	}
	canceled := func(retry int) {
		tr.update(i, func(r *DeliveryResult) {
			r.Outcome = OutcomeCanceled
			r.Error = fmt.Sprintf("canceled before attempt %d ended: the sandbox stopped", retry+1)
		})
	}
	var last Attempt
	var retried bool // whether Jira retries an attempt that ends as last did
	for retry := 0; retry <= MaxRetries; retry++ {
		a := Attempt{Retry: retry, Time: s.now().UTC()}
		status, err := s.post(ctx, authorize, d, retry)
		if ctx.Err() != nil {
			canceled(retry)
			return
		}
		a.Status = status
		if err != nil {
			a.Error = err.Error()
		}
		last, retried = a, retryable(status, err)
		tr.update(i, func(r *DeliveryResult) {
			r.Attempts = append(r.Attempts, a)
			r.Status = status
		})
		if err == nil && status >= 200 && status <= 299 {
			tr.update(i, func(r *DeliveryResult) { r.Outcome = OutcomeDelivered })
			report(a, OutcomeDelivered, 0)
			return
		}
		if !retried || retry == MaxRetries {
			break
		}
		wait := s.retryDelay(retry + 1)
		report(a, OutcomePending, wait)
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			canceled(retry + 1)
			return
		}
	}

	why := last.Error
	if why == "" {
		why = fmt.Sprintf("answered %d %s", last.Status, http.StatusText(last.Status))
	}
	if retried {
		why = fmt.Sprintf("%s after %d retries", why, MaxRetries)
	} else {
		why += ", which Jira does not retry"
	}
	failed := FailedDelivery{ID: d.Identifier, Body: string(d.Payload), URL: d.URL, FailureTime: s.now()}
	list := &t.failed
	if d.App == KindOAuth {
		list = &t.oauthFailed
	}
	if err := t.recordFailed(list, failed); err != nil {
		why += "; not listed as failed: " + err.Error()
	}
	tr.update(i, func(r *DeliveryResult) {
		r.Outcome = OutcomeFailed
		r.Error = why
	})
	report(last, OutcomeFailed, 0)
}

// retryable reports whether Jira retries an attempt that ended so.
func retryable(status int, err error) bool {
	if err != nil {
		return true
	}
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

// retryDelay is the wait before retry n (1 to MaxRetries), scaled.
func (s *Server) retryDelay(n int) time.Duration {
	s.mu.Lock()
	r := s.jitter.Float64()
	s.mu.Unlock()
	d := float64(FirstRetryDelay) * math.Pow(3, float64(n-1)) * (1 + 0.45*r) * s.retryScale
	return time.Duration(d)
}

// deliveryAuthorizer returns what sets the Authorization header of each
// attempt of d, freshly signed: a Connect JWT for the Connect app, a
// Bearer JWT for the OAuth app.
func (t *Tenant) deliveryAuthorizer(d DeliveryResult) func(*http.Request) error {
	s := t.s
	if d.App != KindOAuth {
		return connectjwt.NewSigner(t.clientKey, []byte(t.secret), t.appPath).WithClock(s.now).Authorize
	}
	s.mu.Lock()
	clientID, secret := s.oauth.clientID, []byte(s.oauth.clientSecret)
	s.mu.Unlock()
	return func(req *http.Request) error {
		now := s.now()
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss":     "jira:" + t.cloudID,
			"aud":     clientID,
			"sub":     d.AccountID,
			"iat":     now.Unix(),
			"exp":     now.Add(BearerDeliveryTTL).Unix(),
			"context": map[string]string{"cloudId": t.cloudID},
		}).SignedString(secret)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

// post sends one attempt of d and returns the status of the answer, or
// why there was none.
func (s *Server) post(ctx context.Context, authorize func(*http.Request) error, d DeliveryResult, retry int) (int, error) {
	actx, cancel := context.WithTimeout(ctx, s.deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderIdentifier, d.Identifier)
	if retry > 0 {
		req.Header.Set(HeaderRetry, strconv.Itoa(retry))
	}
	if err := authorize(req); err != nil {
		return 0, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return 0, fmt.Errorf("no answer within %s", s.deliveryTimeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// PendingDeliveries returns how many triggered events have deliveries
// that have not ended.
func (s *Server) PendingDeliveries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Drain waits until no delivery is pending, or ctx is done.
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return nil
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CancelDeliveries cancels every pending delivery and waits until they
// have stopped. They end as canceled, and are not listed as failed.
func (s *Server) CancelDeliveries() {
	s.mu.Lock()
	var all []*Triggered
	for tr := range s.pending {
		all = append(all, tr)
	}
	s.mu.Unlock()
	for _, tr := range all {
		tr.Cancel()
	}
	for _, tr := range all {
		<-tr.done
	}
}
