// Package tenant owns the local record of Jira sites ("tenants"): the config
// file, which holds names, base URLs and keys but never a secret, and the
// shared secrets, which live in the OS keyring or come from
// JWH_SHARED_SECRET.
package tenant

import "errors"

// A Tenant is one Jira site on which the app is installed.
type Tenant struct {
	Name      string `json:"name"`
	BaseURL   string `json:"baseUrl"`             // e.g. https://acme.atlassian.net
	AppKey    string `json:"appKey"`              // the app descriptor's key: iss of the app's JWTs
	ClientKey string `json:"clientKey,omitempty"` // the tenant's clientKey: iss of Jira's JWTs
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

// EnvSecret overrides the keyring for the selected tenant.
const EnvSecret = "JWH_SHARED_SECRET"

// EnvTenant selects a tenant when --tenant is not given.
const EnvTenant = "JWH_TENANT"

// EnvConfig is the path of the config file.
const EnvConfig = "JWH_CONFIG"
