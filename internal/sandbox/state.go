package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/jwh-cli/jwh/internal/atomicfile"
	"github.com/jwh-cli/jwh/internal/lockedfile"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// ErrCorruptState is wrapped by the error of Open when the state file
// cannot be read back. The file is left as it is.
var ErrCorruptState = errors.New("corrupt sandbox state file")

// ErrStateInUse is wrapped by the error of Open when another sandbox has
// the state file open.
var ErrStateInUse = errors.New("state file in use")

// stateVersion is the version of the state file format.
const stateVersion = 1

// The state file: every tenant with its keys and shared secret (the file is
// the sandbox's own secret store, hence mode 0600), webhooks, failed
// deliveries and the next webhook id.
type stateFile struct {
	Version       int   `json:"version"`
	NextWebhookID int64 `json:"nextWebhookId"`
	// Addr is the address the sandbox last listened on, so that a
	// restart can keep its URLs (see Server.LastAddr).
	Addr    string        `json:"addr,omitempty"`
	Tenants []tenantState `json:"tenants"`
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
	if err := s.loadState(b); err != nil {
		return nil, fmt.Errorf("sandbox: %w %s: %v: fix it, or move it away to start with an empty sandbox", ErrCorruptState, path, err)
	}
	s.statePath, s.stateLock = path, unlock
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
		}
		for _, w := range t.webhooks {
			ts.Webhooks = append(ts.Webhooks, webhookState{w.ID, w.JQL, w.Events, w.FieldIDs, w.PropertyKeys, w.ExpiresAt})
		}
		for _, f := range t.failed {
			if retained(f) {
				ts.FailedDeliveries = append(ts.FailedDeliveries, failedState(f))
			}
		}
		st.Tenants = append(st.Tenants, ts)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("sandbox: encoding the state: %v", err)) // plain types only
	}
	return append(b, '\n')
}

// writeState replaces the state file at path with data, atomically.
func writeState(path string, data []byte) error {
	if err := atomicfile.WritePrivate(path, data); err != nil {
		return fmt.Errorf("sandbox: saving the state to %s: %w", path, err)
	}
	return nil
}

// loadState fills an empty server from a state file, checking everything
// that the server relies on.
func (s *Server) loadState(b []byte) error {
	var st stateFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the state")
	}
	if st.Version != stateVersion {
		return fmt.Errorf("version %d, expected %d", st.Version, stateVersion)
	}
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
		t, err := s.newTenant(TenantConfig{Name: ts.Name, AppKey: ts.AppKey, ClientKey: ts.ClientKey, Secret: ts.SharedSecret, BasePath: ts.BasePath, AppBaseURL: ts.AppBaseURL})
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
			jqlFilter := ws.JQLFilter
			w, errs := checkWebhook(ws.Events, &jqlFilter, ws.FieldIDsFilter, ws.IssuePropertyKeysFilter)
			switch {
			case errs != nil:
				return fmt.Errorf("tenant %q: webhook %d: %s", ts.Name, ws.ID, errs[0])
			case ws.ID < 1000 || ws.ID >= st.NextWebhookID:
				return fmt.Errorf("tenant %q: webhook id %d is outside [1000, nextWebhookId)", ts.Name, ws.ID)
			case i > 0 && ws.ID <= ts.Webhooks[i-1].ID:
				return fmt.Errorf("tenant %q: webhook ids are not in increasing order at %d", ts.Name, ws.ID)
			case ws.ExpirationDate.IsZero():
				return fmt.Errorf("tenant %q: webhook %d has no expirationDate", ts.Name, ws.ID)
			}
			w.ID, w.URL, w.ExpiresAt = ws.ID, t.callback, ws.ExpirationDate
			t.webhooks = append(t.webhooks, w)
		}
		for _, saved := range ts.FailedDeliveries {
			if f := FailedDelivery(saved); retained(f) {
				t.failed = append(t.failed, f)
			}
		}
		slices.SortStableFunc(t.failed, func(a, b FailedDelivery) int { return a.FailureTime.Compare(b.FailureTime) })
		s.insertLocked(t)
	}
	ids := map[int64]string{}
	for _, t := range s.tenants {
		for _, w := range t.webhooks {
			if other, dup := ids[w.ID]; dup {
				return fmt.Errorf("webhook id %d is used by tenants %q and %q", w.ID, other, t.name)
			}
			ids[w.ID] = t.name
		}
	}
	return nil
}
