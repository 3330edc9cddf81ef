package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// TenantConfig describes a tenant to add. Every field but Name has a
// generated default.
type TenantConfig struct {
	// Name identifies the tenant in the sandbox and is the default last
	// segment of its context path: letters, digits, '.', '_' and '-'.
	Name string
	// AppKey is the key of the app installed on the tenant: the iss of the
	// JWTs the tenant accepts. Default DefaultAppKey.
	AppKey string
	// ClientKey is the tenant's clientKey, the iss of the JWTs Jira sends
	// to the app; unique in a sandbox. Default: a random UUID.
	ClientKey string
	// Secret is the shared secret. Default: 32 random bytes, hex-encoded.
	Secret string
	// BasePath is the tenant's context path, such as "/jira"; "/" puts the
	// tenant at the root, serving every path that no other tenant claims.
	// Segments hold letters, digits, '.', '_', '~' and '-'. Default
	// "/t/" + Name.
	BasePath string
	// AppBaseURL is the base URL of the app (its descriptor's baseUrl):
	// the qsh of a delivery is computed relative to its path. Default:
	// the callback URL's origin, so the qsh covers the callback's whole
	// path.
	AppBaseURL string
	// CloudID is the id of the tenant as a site of the OAuth side
	// (accessible-resources, gateway paths); unique in a sandbox.
	// Default: a random UUID.
	CloudID string
}

// String describes c without its secret.
func (c TenantConfig) String() string {
	return fmt.Sprintf("sandbox.TenantConfig{Name:%q, AppKey:%q, ClientKey:%q, BasePath:%q, AppBaseURL:%q, CloudID:%q, Secret:[redacted]}",
		c.Name, c.AppKey, c.ClientKey, c.BasePath, c.AppBaseURL, c.CloudID)
}

// GoString is String, so that %#v does not print the secret either.
func (c TenantConfig) GoString() string { return c.String() }

// Tenant is one Jira site in the sandbox with one Connect app installed;
// the sandbox's OAuth app reaches it too, as the site with its cloud id.
// Its methods are safe for concurrent use.
type Tenant struct {
	s *Server

	name, appKey, clientKey, secret, basePath string
	appBaseURL                                string // "" for the callback's origin
	appPath                                   string // appBaseURL's path, which deliveries' qsh is relative to
	cloudID                                   string

	// Guarded by s.mu.
	callback string    // the app's callback URL; "" when it has no webhooks
	webhooks []Webhook // sorted by ID
	failed   []FailedDelivery
	denied   int // 0, or the status that answers every request
	verified int // requests whose credentials verified, for Options.Leading429

	// The OAuth app's webhooks on the site, every user's (guarded by s.mu).
	oauthCallback string         // "" when it has no webhooks
	oauthHooks    []OAuthWebhook // sorted by ID
	oauthFailed   []FailedDelivery
}

// Name returns the tenant's name.
func (t *Tenant) Name() string { return t.name }

// AppKey returns the key of the app installed on the tenant.
func (t *Tenant) AppKey() string { return t.appKey }

// ClientKey returns the tenant's clientKey.
func (t *Tenant) ClientKey() string { return t.clientKey }

// Secret returns the shared secret of the tenant and its app.
func (t *Tenant) Secret() string { return t.secret }

// BasePath returns the tenant's context path: "" for the root, else a path
// such as "/jira" with no trailing slash. It is the basePath to sign with.
func (t *Tenant) BasePath() string { return t.basePath }

// AppBaseURL returns the app's base URL that deliveries are signed
// relative to, "" when it is each callback URL's origin.
func (t *Tenant) AppBaseURL() string { return t.appBaseURL }

// BaseURL returns the tenant's base URL, such as
// "http://127.0.0.1:41234/jira", while the server listens, and "" otherwise.
func (t *Tenant) BaseURL() string {
	u := t.s.URL()
	if u == "" {
		return ""
	}
	return u + t.basePath
}

// String describes t without its secret.
func (t *Tenant) String() string {
	return fmt.Sprintf("sandbox.Tenant{Name:%q, AppKey:%q, ClientKey:%q, BasePath:%q, CloudID:%q, Secret:[redacted]}",
		t.name, t.appKey, t.clientKey, t.basePath, t.cloudID)
}

// GoString is String, so that %#v does not print the secret either.
func (t *Tenant) GoString() string { return t.String() }

// Installed returns the Connect "installed" lifecycle payload that Jira
// sends when the app is installed on the tenant, as jwh tenant import reads
// it. It holds the shared secret. baseUrl is "" unless the server listens.
func (t *Tenant) Installed() []byte {
	base := t.BaseURL()
	b, err := json.MarshalIndent(struct {
		Key          string `json:"key"`
		ClientKey    string `json:"clientKey"`
		SharedSecret string `json:"sharedSecret"`
		BaseURL      string `json:"baseUrl"`
		DisplayURL   string `json:"displayUrl"`
		ProductType  string `json:"productType"`
		Description  string `json:"description"`
		EventType    string `json:"eventType"`
	}{t.appKey, t.clientKey, t.secret, base, base, "jira", "jwh sandbox tenant " + t.name, "installed"}, "", "  ")
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return append(b, '\n')
}

// accountID is the account id of the app's user on the tenant, derived
// from the keys so that it is stable across restarts.
func (t *Tenant) accountID() string {
	sum := sha256.Sum256([]byte(t.appKey + "\x00" + t.clientKey))
	return hex.EncodeToString(sum[:12])
}

// Callback returns the URL the app's webhooks deliver to: the url of the
// registration that created them, "" while the app has no webhooks.
func (t *Tenant) Callback() string {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.callback
}

// Webhooks returns copies of the app's webhooks on the tenant, by id,
// expired ones included.
func (t *Tenant) Webhooks() []Webhook {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	out := make([]Webhook, len(t.webhooks))
	for i, w := range t.webhooks {
		out[i] = w.clone()
	}
	return out
}

// Deny makes the tenant answer every request whose credentials verified
// with status, which must be 401 (as for an app that is no longer
// installed, or a token Jira no longer takes) or 403 (an app without the
// scope); 0 lifts the denial. It applies to both apps: the Connect API and
// the gateway. Requests whose credentials fail still get 401 with the
// reason.
func (t *Tenant) Deny(status int) {
	if status != 0 && status != http.StatusUnauthorized && status != http.StatusForbidden {
		panic(fmt.Sprintf("sandbox: Deny(%d): the status must be 0, 401 or 403", status))
	}
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	t.denied = status
}

// SetExpiration makes the webhooks with the given ids (every webhook of
// the tenant, of both apps, when none is given) expire at at, as if they
// had been registered or refreshed 30 days before it: a sandbox whose
// webhooks are about to expire, or expired while no cron job refreshed
// them, without waiting a month. It reports how many webhooks it changed;
// the error is from saving the state (see Open).
func (t *Tenant) SetExpiration(at time.Time, ids ...int64) (int, error) {
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	undo := t.snapshotLocked(s)
	n := 0
	for i := range t.webhooks {
		if len(ids) == 0 || slices.Contains(ids, t.webhooks[i].ID) {
			t.webhooks[i].ExpiresAt = at
			n++
		}
	}
	for i := range t.oauthHooks {
		if len(ids) == 0 || slices.Contains(ids, t.oauthHooks[i].ID) {
			t.oauthHooks[i].ExpiresAt = at
			n++
		}
	}
	if n > 0 {
		if err := s.persistLocked(); err != nil {
			t.restoreLocked(s, undo)
			return 0, err
		}
	}
	return n, nil
}

// FailedDelivery is a delivery that Jira gave up on after its retries, as
// GET /rest/api/2/webhook/failed lists it.
type FailedDelivery struct {
	ID          string // "" in RecordFailedDelivery means a generated one
	Body        string // the payload that was not delivered
	URL         string // where it was sent
	FailureTime time.Time
}

// RecordFailedDelivery adds f to the tenant's failed deliveries. Entries
// are listed oldest first, and only for FailedRetention after their
// FailureTime. The error is from saving the state (see Open).
func (t *Tenant) RecordFailedDelivery(f FailedDelivery) error {
	if f.ID == "" {
		f.ID = newUUID()
	}
	return t.recordFailed(&t.failed, f)
}

// recordFailed adds f to the failed deliveries of one app on the tenant,
// list: &t.failed (the Connect app's) or &t.oauthFailed.
func (t *Tenant) recordFailed(list *[]FailedDelivery, f FailedDelivery) error {
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	undo := t.snapshotLocked(s)
	*list = insertFailed(*list, f)
	if err := s.persistLocked(); err != nil {
		t.restoreLocked(s, undo)
		return err
	}
	return nil
}

// insertFailed inserts f into list, sorted by failure time, after those
// that failed at the same time.
func insertFailed(list []FailedDelivery, f FailedDelivery) []FailedDelivery {
	i, _ := slices.BinarySearchFunc(list, f.FailureTime, func(e FailedDelivery, at time.Time) int {
		if e.FailureTime.After(at) {
			return 1
		}
		return -1 // equal times keep the order of recording
	})
	return slices.Insert(list, i, f)
}

// tenantUndo is what a mutation of one tenant may change.
type tenantUndo struct {
	callback      string
	webhooks      []Webhook
	failed        []FailedDelivery
	oauthCallback string
	oauthHooks    []OAuthWebhook
	oauthFailed   []FailedDelivery
	nextID        int64
}

func (t *Tenant) snapshotLocked(s *Server) tenantUndo {
	return tenantUndo{
		t.callback, slices.Clone(t.webhooks), slices.Clone(t.failed),
		t.oauthCallback, slices.Clone(t.oauthHooks), slices.Clone(t.oauthFailed), s.nextID,
	}
}

func (t *Tenant) restoreLocked(s *Server, u tenantUndo) {
	t.callback, t.webhooks, t.failed = u.callback, u.webhooks, u.failed
	t.oauthCallback, t.oauthHooks, t.oauthFailed = u.oauthCallback, u.oauthHooks, u.oauthFailed
	s.nextID = u.nextID
}

// AddTenant adds a tenant with cfg's settings and generated defaults for
// those left empty. Names, client keys and context paths are unique in a
// server.
func (s *Server) AddTenant(cfg TenantConfig) (*Tenant, error) {
	t, err := s.newTenant(cfg)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkUniqueLocked(t); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	old := s.tenants
	s.insertLocked(t)
	if err := s.persistLocked(); err != nil {
		s.tenants = old
		delete(s.byPath, t.basePath)
		delete(s.byCloudID, t.cloudID)
		return nil, err
	}
	return t, nil
}

// newTenant validates cfg and fills in its defaults.
func (s *Server) newTenant(cfg TenantConfig) (*Tenant, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	t := &Tenant{s: s, name: cfg.Name, appKey: cfg.AppKey, clientKey: cfg.ClientKey, secret: cfg.Secret, cloudID: cfg.CloudID}
	if t.cloudID == "" {
		t.cloudID = newUUID()
	} else if strings.ContainsFunc(t.cloudID, func(c rune) bool { return c > 0x7f || !isNameByte(byte(c)) }) {
		return nil, fmt.Errorf("tenant %q: the cloud id %q may hold only letters, digits, '.', '_' and '-'", cfg.Name, cfg.CloudID)
	}
	if t.appKey == "" {
		t.appKey = DefaultAppKey
	}
	if t.clientKey == "" {
		t.clientKey = newUUID()
	}
	if t.secret == "" {
		t.secret = hex.EncodeToString(randomBytes(32))
	}
	base := cfg.BasePath
	if base == "" {
		base = "/t/" + cfg.Name
	}
	base, err := cleanBasePath(base)
	if err != nil {
		return nil, fmt.Errorf("tenant %q: %w", cfg.Name, err)
	}
	t.basePath = base
	if cfg.AppBaseURL != "" {
		u, err := urlpolicy.ParseBaseURL(cfg.AppBaseURL)
		if err != nil {
			return nil, fmt.Errorf("tenant %q: the app base URL %q: %s", cfg.Name, cfg.AppBaseURL, urlpolicy.Reason(err))
		}
		t.appBaseURL, t.appPath = u.String(), u.EscapedPath()
	}
	return t, nil
}

func (s *Server) checkUniqueLocked(t *Tenant) error {
	for _, o := range s.tenants {
		switch {
		case o.name == t.name:
			return fmt.Errorf("a tenant called %q already exists", t.name)
		case o.clientKey == t.clientKey:
			return fmt.Errorf("tenant %q already has the client key %q", o.name, t.clientKey)
		case o.basePath == t.basePath:
			return fmt.Errorf("tenant %q already serves the context path %q", o.name, displayPath(t.basePath))
		case o.cloudID == t.cloudID:
			return fmt.Errorf("tenant %q already has the cloud id %q", o.name, t.cloudID)
		}
	}
	return nil
}

func (s *Server) insertLocked(t *Tenant) {
	i, _ := slices.BinarySearchFunc(s.tenants, t.name, func(o *Tenant, name string) int { return strings.Compare(o.name, name) })
	s.tenants = slices.Insert(slices.Clone(s.tenants), i, t)
	if s.byPath == nil {
		s.byPath, s.byCloudID = make(map[string]*Tenant), make(map[string]*Tenant)
	}
	s.byPath[t.basePath] = t
	s.byCloudID[t.cloudID] = t
}

func displayPath(base string) string {
	if base == "" {
		return "/"
	}
	return base
}

func checkName(name string) error {
	if name == "" {
		return errors.New("a tenant needs a name")
	}
	if len(name) > 64 {
		return fmt.Errorf("tenant name %q is longer than 64 characters", name)
	}
	for _, c := range []byte(name) {
		if !isNameByte(c) {
			return fmt.Errorf("tenant name %q: use only letters, digits, '.', '_' and '-'", name)
		}
	}
	if name == "." || name == ".." {
		return fmt.Errorf("tenant name %q is not a usable path segment", name)
	}
	return nil
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// cleanBasePath returns p as a context path: "" for the root, else a
// leading "/" and no trailing one, with segments that need no escaping.
func cleanBasePath(p string) (string, error) {
	trimmed := strings.TrimSuffix(p, "/")
	if trimmed == "" {
		return "", nil
	}
	if !strings.HasPrefix(trimmed, "/") {
		return "", fmt.Errorf("context path %q must start with /", p)
	}
	for _, seg := range strings.Split(trimmed[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("context path %q has an empty, . or .. segment", p)
		}
		for _, c := range []byte(seg) {
			if !isNameByte(c) && c != '~' {
				return "", fmt.Errorf("context path %q: segments may hold only letters, digits, '.', '_', '~' and '-'", p)
			}
		}
	}
	return trimmed, nil
}

// randomBytes returns n bytes from crypto/rand, which since Go 1.24 never
// returns an error (it crashes the program instead).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
