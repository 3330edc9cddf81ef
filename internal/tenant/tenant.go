// Package tenant owns the local record of Jira sites ("tenants") and every
// rule about their secrets: the config file, which holds names, URLs, keys
// and ids but never a secret; the secrets themselves, in the OS keyring or
// (for OAuth 2.0 tenants logged in with --no-keyring) in credentials.json
// next to the config; and the Resolver, the one place that decides where a
// tenant's secret comes from, environment variables included.
//
// A tenant is of one of two kinds. A Connect tenant is a site on which a
// Connect app is installed: base URL, app key, client key, and the shared
// secret. An OAuth tenant is one site reached through Atlassian's API
// gateway for one OAuth 2.0 (3LO) app and the user who logged in: cloud id,
// site URL, client id, and a bundle of secrets (client secret, refresh
// token, access token) that is stored and replaced as a whole.
package tenant

import "errors"

// The kinds of tenant, as the config file and -o json write them.
const (
	KindConnect = "connect"
	KindOAuth   = "oauth"
)

// Where the secrets of an OAuth tenant are stored (Tenant.Storage).
const (
	StorageKeyring = "keyring"
	StorageFile    = "file"
)

// A Tenant is one Jira site that jwh works on.
type Tenant struct {
	Name string `json:"name"`
	// Kind is KindConnect or KindOAuth. Configs written before OAuth
	// tenants existed have none, which means Connect (and is kept so).
	Kind string `json:"kind,omitempty"`

	// Connect.
	BaseURL   string `json:"baseUrl,omitempty"`   // e.g. https://acme.atlassian.net
	AppKey    string `json:"appKey,omitempty"`    // the app descriptor's key: iss of the app's JWTs
	ClientKey string `json:"clientKey,omitempty"` // the tenant's clientKey: iss of Jira's JWTs

	// OAuth 2.0 (3LO); none of these is secret.
	ClientID string   `json:"clientId,omitempty"`
	CloudID  string   `json:"cloudId,omitempty"`
	SiteURL  string   `json:"siteUrl,omitempty"` // e.g. https://acme.atlassian.net; requests go through APIURL
	Scopes   []string `json:"scopes,omitempty"`  // as granted at login
	AuthURL  string   `json:"authUrl,omitempty"` // the authorization server, e.g. https://auth.atlassian.com
	APIURL   string   `json:"apiUrl,omitempty"`  // the API gateway, e.g. https://api.atlassian.com
	Storage  string   `json:"storage,omitempty"` // StorageKeyring or StorageFile: where its secrets are
}

// KindOf returns the tenant's kind: KindConnect when none is recorded.
func (t *Tenant) KindOf() string {
	if t.Kind == "" {
		return KindConnect
	}
	return t.Kind
}

// IsOAuth reports whether t is an OAuth 2.0 tenant.
func (t *Tenant) IsOAuth() bool { return t.Kind == KindOAuth }

// Site returns the URL of the tenant's site, whatever its kind: the base
// URL of a Connect tenant, the site URL of an OAuth one.
func (t *Tenant) Site() string {
	if t.IsOAuth() {
		return t.SiteURL
	}
	return t.BaseURL
}

// StorageOf returns where the secrets of an OAuth tenant are stored:
// StorageKeyring unless the tenant records StorageFile.
func (t *Tenant) StorageOf() string {
	if t.Storage == StorageFile {
		return StorageFile
	}
	return StorageKeyring
}

// Errors of tenant selection and secret lookup. The command layer maps them
// to the credentials exit status.
var (
	ErrNotFound    = errors.New("no such tenant")
	ErrNoTenants   = errors.New("no tenants configured")
	ErrAmbiguous   = errors.New("several tenants and none selected")
	ErrNoSecret    = errors.New("no shared secret")
	ErrKeyringDown = errors.New("keyring unavailable")
)

// AddTenantHint says how to add a tenant, of either kind: every error and
// message about a config without tenants ends with it.
const AddTenantHint = "add one with 'jwh tenant import --file installed.json', 'jwh tenant add NAME --base-url URL --app-key KEY' or 'jwh tenant login --client-id ID'"

// EnvSecret stands for the keyring's shared secret of the selected Connect
// tenant (see Resolver).
const EnvSecret = "JWH_SHARED_SECRET"

// EnvClientSecret stands for the stored client secret of the selected
// OAuth tenant (see Resolver), and gives jwh tenant login its client
// secret.
const EnvClientSecret = "JWH_CLIENT_SECRET"

// EnvTenant selects a tenant when --tenant is not given.
const EnvTenant = "JWH_TENANT"

// EnvConfig is the path of the config file.
const EnvConfig = "JWH_CONFIG"
