package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/jwh-cli/jwh/internal/atomicfile"
	"github.com/jwh-cli/jwh/internal/lockedfile"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// ErrCorruptState is wrapped by the error of Open when the state file
// cannot be read back. The file is left as it is.
var ErrCorruptState = errors.New("corrupt sandbox state file")

// ErrStateInUse is wrapped by the error of Open when another sandbox has
// the state file open.
var ErrStateInUse = errors.New("state file in use")

// stateVersion is the version of the state file format. Version 1 had
// no OAuth side: it is read, given an OAuth app and cloud ids, and saved
// as version 2 at once.
const stateVersion = 2

// The state file: every tenant with its keys and shared secret (the file is
// the sandbox's own secret store, hence mode 0600), webhooks, failed
// deliveries and the next webhook id; the OAuth app with its client
// secret, and its logins (their tokens by SHA-256 only).
type stateFile struct {
	Version       int   `json:"version"`
	NextWebhookID int64 `json:"nextWebhookId"`
	// Addr is the address the sandbox last listened on, so that a
	// restart can keep its URLs (see Server.LastAddr).
	Addr    string        `json:"addr,omitempty"`
	Tenants []tenantState `json:"tenants"`
	OAuth   *oauthState   `json:"oauth,omitempty"` // from version 2
}

type tenantState struct {
	Name             string         `json:"name"`
	AppKey           string         `json:"appKey"`
	ClientKey        string         `json:"clientKey"`
	SharedSecret     string         `json:"sharedSecret"`
	BasePath         string         `json:"basePath"` // "/" for the root
	AppBaseURL       string         `json:"appBaseUrl,omitempty"`
	CallbackURL      string         `json:"callbackUrl,omitempty"`
	Webhooks         []webhookState `json:"webhooks"`
	FailedDeliveries []failedState  `json:"failedDeliveries,omitempty"`

	// From version 2: the site's cloud id and the OAuth app's webhooks.
	CloudID               string              `json:"cloudId,omitempty"`
	OAuthCallbackURL      string              `json:"oauthCallbackUrl,omitempty"`
	OAuthWebhooks         []oauthWebhookState `json:"oauthWebhooks,omitempty"`
	OAuthFailedDeliveries []failedState       `json:"oauthFailedDeliveries,omitempty"`
}

type oauthWebhookState struct {
	webhookState
	User string `json:"user"`
}

type oauthState struct {
	ClientID     string       `json:"clientId"`
	ClientSecret string       `json:"clientSecret"`
	CallbackURLs []string     `json:"callbackUrls"`
	Logins       []loginState `json:"logins,omitempty"`
}

// loginState is one login (token family) with its tokens' SHA-256.
type loginState struct {
	ID            string         `json:"id"`
	User          string         `json:"user"`
	Scopes        []string       `json:"scopes"`
	LoginAt       time.Time      `json:"loginAt"`
	RefreshTokens []refreshState `json:"refreshTokens,omitempty"`
	AccessTokens  []accessState  `json:"accessTokens,omitempty"`
}

type refreshState struct {
	SHA256  string    `json:"sha256"`
	Issued  time.Time `json:"issued"`
	Rotated time.Time `json:"rotated,omitzero"`
}

type accessState struct {
	SHA256  string    `json:"sha256"`
	Expires time.Time `json:"expires"`
}

type webhookState struct {
	ID                      int64     `json:"id"`
	JQLFilter               string    `json:"jqlFilter"`
	Events                  []string  `json:"events"`
	FieldIDsFilter          []string  `json:"fieldIdsFilter,omitempty"`
	IssuePropertyKeysFilter []string  `json:"issuePropertyKeysFilter,omitempty"`
	ExpirationDate          time.Time `json:"expirationDate"`
}

type failedState struct {
	ID          string    `json:"id"`
	Body        string    `json:"body"`
	URL         string    `json:"url"`
	FailureTime time.Time `json:"failureTime"`
}

// Open returns a sandbox whose state lives in the file at path: the state
// is read from it when it exists, and the file is rewritten after every
// change (a registration, deletion or refresh, a new tenant, a recorded
// failure), atomically and with mode 0600. A change that cannot be saved is
// undone and reported: as a 500 answer to a request, as the error of
// AddTenant or RecordFailedDelivery. A file that cannot be read back is an
// error wrapping ErrCorruptState and is never overwritten. Failed
// deliveries older than FailedRetention, which Jira would no longer list,
// are dropped when the state is read and when it is saved.
//
// The sandbox holds the state file's cross-process lock (path+".lock", see
// package lockedfile) until Close, or until the process ends: two
// sandboxes on one file would each overwrite the other's changes, so
// while one has it, Open fails at once with an error wrapping
// ErrStateInUse.
func Open(path string, opts Options) (_ *Server, err error) {
	m := lockedfile.MutexFor(path)
	unlock, err := m.TryLock()
	if errors.Is(err, lockedfile.ErrLocked) {
		return nil, fmt.Errorf("sandbox: %w: another sandbox has %s open (it holds %s): stop that sandbox, or use another state file", ErrStateInUse, path, m.LockPath())
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()

	s := New(opts)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.statePath, s.stateLock = path, unlock
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.persistLocked(); err != nil {
			return nil, err
		}
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("sandbox: reading the state file: %w", err)
	}
	upgraded, err := s.loadState(b)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w %s: %v: fix it, or move it away to start with an empty sandbox", ErrCorruptState, path, err)
	}
	s.statePath, s.stateLock = path, unlock
	if upgraded {
		// Save the cloud ids and the OAuth app made for an old file now,
		// so that they are the same after the next restart.
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.persistLocked(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Close releases the state file of a sandbox made by Open, so that
// another sandbox can open it; changes after Close are not saved, and fail
// as a change that cannot be saved does. Close does not stop serving: stop
// the Running first. It does nothing for a sandbox made by New.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stateLock != nil {
		s.stateLock()
		s.stateLock = nil
	}
}

// LastAddr returns the address the sandbox last listened on, such as
// "127.0.0.1:41234", as kept in its state: a restart that listens there
// again keeps every tenant's base URL, so tenants imported into jwh go on
// working. It is "" before the first Listen.
func (s *Server) LastAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// persistLocked saves the state when the server was opened on a file.
func (s *Server) persistLocked() error {
	if s.statePath == "" {
		return nil
	}
	if s.stateLock == nil {
		return fmt.Errorf("sandbox: saving the state to %s: the sandbox was closed", s.statePath)
	}
	return writeState(s.statePath, s.encodeLocked())
}

// retainedFunc returns a func that reports whether a failed delivery is
// still within Jira's retention window, as GET /rest/api/2/webhook/failed
// counts it at this moment.
func (s *Server) retainedFunc() func(FailedDelivery) bool {
	oldest := s.now().Add(-FailedRetention).UnixMilli()
	return func(f FailedDelivery) bool { return f.FailureTime.UnixMilli() >= oldest }
}

func (s *Server) encodeLocked() []byte {
	retained := s.retainedFunc()
	st := stateFile{Version: stateVersion, NextWebhookID: s.nextID, Addr: s.addr, Tenants: make([]tenantState, 0, len(s.tenants))}
	for _, t := range s.tenants {
		ts := tenantState{
			Name: t.name, AppKey: t.appKey, ClientKey: t.clientKey, SharedSecret: t.secret,
			BasePath: displayPath(t.basePath), AppBaseURL: t.appBaseURL, CallbackURL: t.callback,
			Webhooks: make([]webhookState, 0, len(t.webhooks)),
			CloudID:  t.cloudID, OAuthCallbackURL: t.oauthCallback,
		}
		for _, w := range t.webhooks {
			ts.Webhooks = append(ts.Webhooks, encodeWebhook(w))
		}
		for _, f := range t.failed {
			if retained(f) {
				ts.FailedDeliveries = append(ts.FailedDeliveries, failedState(f))
			}
		}
		for _, w := range t.oauthHooks {
			ts.OAuthWebhooks = append(ts.OAuthWebhooks, oauthWebhookState{encodeWebhook(w.Webhook), w.User})
		}
		for _, f := range t.oauthFailed {
			if retained(f) {
				ts.OAuthFailedDeliveries = append(ts.OAuthFailedDeliveries, failedState(f))
			}
		}
		st.Tenants = append(st.Tenants, ts)
	}
	st.OAuth = s.encodeOAuthLocked()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("sandbox: encoding the state: %v", err)) // plain types only
	}
	return append(b, '\n')
}

func encodeWebhook(w Webhook) webhookState {
	return webhookState{w.ID, w.JQL, w.Events, w.FieldIDs, w.PropertyKeys, w.ExpiresAt}
}

// encodeOAuthLocked is the OAuth app and its logins, in a stable order.
func (s *Server) encodeOAuthLocked() *oauthState {
	a := &s.oauth
	st := &oauthState{ClientID: a.clientID, ClientSecret: a.clientSecret, CallbackURLs: slices.Clone(a.callbacks)}
	byID := map[string]int{}
	for _, id := range slices.Sorted(maps.Keys(a.families)) {
		f := a.families[id]
		byID[id] = len(st.Logins)
		st.Logins = append(st.Logins, loginState{ID: id, User: f.user, Scopes: f.scopes, LoginAt: f.loginAt})
	}
	for _, k := range slices.Sorted(maps.Keys(a.refresh)) {
		r := a.refresh[k]
		if i, ok := byID[r.family]; ok {
			st.Logins[i].RefreshTokens = append(st.Logins[i].RefreshTokens, refreshState{k, r.issued, r.rotated})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a.access)) {
		t := a.access[k]
		if i, ok := byID[t.family]; ok && !t.revoked {
			st.Logins[i].AccessTokens = append(st.Logins[i].AccessTokens, accessState{k, t.expires})
		}
	}
	return st
}

// writeState replaces the state file at path with data, atomically.
func writeState(path string, data []byte) error {
	if err := atomicfile.WritePrivate(path, data); err != nil {
		return fmt.Errorf("sandbox: saving the state to %s: %w", path, err)
	}
	return nil
}

// loadState fills an empty server from a state file, checking everything
// that the server relies on. It reports whether the file was of an older
// version, whose missing parts (cloud ids, the OAuth app) it made up.
func (s *Server) loadState(b []byte) (upgraded bool, err error) {
	var st stateFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return false, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return false, errors.New("data after the state")
	}
	switch st.Version {
	case 1:
		if st.OAuth != nil {
			return false, errors.New("version 1 has no oauth")
		}
		upgraded = true
	case stateVersion:
		if st.OAuth == nil {
			return false, errors.New("the oauth app is missing")
		}
	default:
		return false, fmt.Errorf("version %d, expected %d (or 1)", st.Version, stateVersion)
	}
	return upgraded, s.loadTenants(st)
}

// loadTenants loads the tenants and the OAuth app of a state file.
func (s *Server) loadTenants(st stateFile) error {
	if st.NextWebhookID < 1000 {
		return fmt.Errorf("nextWebhookId %d is below 1000", st.NextWebhookID)
	}
	s.nextID = st.NextWebhookID
	s.addr = st.Addr
	retained := s.retainedFunc()
	for _, ts := range st.Tenants {
		if ts.AppKey == "" || ts.ClientKey == "" || ts.SharedSecret == "" || ts.BasePath == "" {
			return fmt.Errorf("tenant %q: appKey, clientKey, sharedSecret and basePath are required", ts.Name)
		}
		if st.Version >= 2 && ts.CloudID == "" {
			return fmt.Errorf("tenant %q: cloudId is required", ts.Name)
		}
		t, err := s.newTenant(TenantConfig{Name: ts.Name, AppKey: ts.AppKey, ClientKey: ts.ClientKey, Secret: ts.SharedSecret,
			BasePath: ts.BasePath, AppBaseURL: ts.AppBaseURL, CloudID: ts.CloudID})
		if err != nil {
			return err
		}
		if err := s.checkUniqueLocked(t); err != nil {
			return err
		}
		if limit := webhookspec.Connect.MaxWebhooks; len(ts.Webhooks) > limit {
			return fmt.Errorf("tenant %q: %d webhooks, more than %d", ts.Name, len(ts.Webhooks), limit)
		}
		if len(ts.Webhooks) > 0 && ts.CallbackURL == "" {
			return fmt.Errorf("tenant %q: webhooks but no callbackUrl", ts.Name)
		}
		if len(ts.Webhooks) > 0 {
			t.callback = ts.CallbackURL
		}
		for i, ws := range ts.Webhooks {
			var prev int64
			if i > 0 {
				prev = ts.Webhooks[i-1].ID
			}
			w, err := decodeWebhook(ws, prev, st.NextWebhookID, t.callback)
			if err != nil {
				return fmt.Errorf("tenant %q: %w", ts.Name, err)
			}
			t.webhooks = append(t.webhooks, w)
		}
		t.failed = decodeFailed(ts.FailedDeliveries, retained)

		if len(ts.OAuthWebhooks) > 0 && ts.OAuthCallbackURL == "" {
			return fmt.Errorf("tenant %q: OAuth webhooks but no oauthCallbackUrl", ts.Name)
		}
		if len(ts.OAuthWebhooks) > 0 {
			t.oauthCallback = ts.OAuthCallbackURL
		}
		owned := map[string]int{}
		for i, ws := range ts.OAuthWebhooks {
			var prev int64
			if i > 0 {
				prev = ts.OAuthWebhooks[i-1].ID
			}
			w, err := decodeWebhook(ws.webhookState, prev, st.NextWebhookID, t.oauthCallback)
			if err != nil {
				return fmt.Errorf("tenant %q: OAuth %w", ts.Name, err)
			}
			if problem := checkUser(ws.User); problem != "" {
				return fmt.Errorf("tenant %q: OAuth webhook %d: %s", ts.Name, ws.ID, problem)
			}
			if owned[ws.User]++; owned[ws.User] > webhookspec.OAuth.MaxWebhooks {
				return fmt.Errorf("tenant %q: user %q has more than %d OAuth webhooks", ts.Name, ws.User, webhookspec.OAuth.MaxWebhooks)
			}
			t.oauthHooks = append(t.oauthHooks, OAuthWebhook{w, ws.User})
		}
		t.oauthFailed = decodeFailed(ts.OAuthFailedDeliveries, retained)
		s.insertLocked(t)
	}
	ids := map[int64]string{}
	for _, t := range s.tenants {
		all := slices.Clone(t.webhooks)
		for _, w := range t.oauthHooks {
			all = append(all, w.Webhook)
		}
		for _, w := range all {
			if other, dup := ids[w.ID]; dup {
				return fmt.Errorf("webhook id %d is used twice, by tenants %q and %q", w.ID, other, t.name)
			}
			ids[w.ID] = t.name
		}
	}
	if st.OAuth != nil {
		return s.loadOAuth(st.OAuth)
	}
	return nil
}

// decodeWebhook checks and decodes a saved webhook, whose id must follow
// prev (0 for the first) and come before next.
func decodeWebhook(ws webhookState, prev, next int64, callback string) (Webhook, error) {
	jqlFilter := ws.JQLFilter
	w, errs := checkWebhook(ws.Events, &jqlFilter, ws.FieldIDsFilter, ws.IssuePropertyKeysFilter)
	switch {
	case errs != nil:
		return w, fmt.Errorf("webhook %d: %s", ws.ID, errs[0])
	case ws.ID < 1000 || ws.ID >= next:
		return w, fmt.Errorf("webhook id %d is outside [1000, nextWebhookId)", ws.ID)
	case ws.ID <= prev:
		return w, fmt.Errorf("webhook ids are not in increasing order at %d", ws.ID)
	case ws.ExpirationDate.IsZero():
		return w, fmt.Errorf("webhook %d has no expirationDate", ws.ID)
	}
	w.ID, w.URL, w.ExpiresAt = ws.ID, callback, ws.ExpirationDate
	return w, nil
}

// decodeFailed returns the saved failed deliveries still retained, oldest
// first.
func decodeFailed(saved []failedState, retained func(FailedDelivery) bool) []FailedDelivery {
	var out []FailedDelivery
	for _, fs := range saved {
		if f := FailedDelivery(fs); retained(f) {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b FailedDelivery) int { return a.FailureTime.Compare(b.FailureTime) })
	return out
}

// loadOAuth loads the OAuth app and its logins.
func (s *Server) loadOAuth(st *oauthState) error {
	if st.ClientID == "" || st.ClientSecret == "" {
		return errors.New("oauth: clientId and clientSecret are required")
	}
	a := &s.oauth
	a.clientID, a.clientSecret, a.callbacks = st.ClientID, st.ClientSecret, nil
	for _, u := range st.CallbackURLs {
		if err := urlpolicy.CheckCallbackURL(u); err != nil {
			return fmt.Errorf("oauth: %w", err)
		}
		if !slices.Contains(a.callbacks, u) {
			a.callbacks = append(a.callbacks, u)
		}
	}
	seen := map[string]bool{}
	for _, l := range st.Logins {
		switch {
		case l.ID == "" || a.families[l.ID].user != "":
			return fmt.Errorf("oauth: login id %q is empty or used twice", l.ID)
		case checkUser(l.User) != "":
			return fmt.Errorf("oauth: login %s: %s", l.ID, checkUser(l.User))
		case len(l.Scopes) == 0 || l.LoginAt.IsZero():
			return fmt.Errorf("oauth: login %s: scopes and loginAt are required", l.ID)
		}
		a.families[l.ID] = family{user: l.User, scopes: l.Scopes, loginAt: l.LoginAt}
		for _, r := range l.RefreshTokens {
			if !isTokenKey(r.SHA256) || seen[r.SHA256] || r.Issued.IsZero() {
				return fmt.Errorf("oauth: login %s: a refresh token's sha256 is not 64 hex digits, is used twice, or it has no issued time", l.ID)
			}
			seen[r.SHA256] = true
			a.refresh[r.SHA256] = refreshToken{family: l.ID, issued: r.Issued, rotated: r.Rotated}
		}
		for _, t := range l.AccessTokens {
			if !isTokenKey(t.SHA256) || seen[t.SHA256] || t.Expires.IsZero() {
				return fmt.Errorf("oauth: login %s: an access token's sha256 is not 64 hex digits, is used twice, or it has no expiry", l.ID)
			}
			seen[t.SHA256] = true
			a.access[t.SHA256] = accessToken{family: l.ID, expires: t.Expires}
		}
	}
	return nil
}

// isTokenKey reports whether k is a tokenKey: 64 lower-case hex digits.
func isTokenKey(k string) bool {
	if len(k) != 64 {
		return false
	}
	for _, c := range []byte(k) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
