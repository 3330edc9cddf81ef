package cmdutil

import (
	"errors"

	"github.com/jwh-cli/jwh/internal/tenant"
)

// A TenantError is the failure of a command on one tenant. Its text names
// the tenant once, in front: "tenant acme: Jira closed the connection (3
// attempts over 7s); check the network or try again".
type TenantError struct {
	Tenant string
	Err    error
}

func (e *TenantError) Error() string { return "tenant " + e.Tenant + ": " + e.Err.Error() }

func (e *TenantError) Unwrap() error { return e.Err }

// OnTenant returns err as the failure of a command on the tenant called
// name, so that every webhook command names the tenant the same way, and
// once: an error that already names it (a *TenantError, the tenant
// package's errors about the tenant's secret, an error with a TenantName
// method such as package oauth's) is returned as it is. A nil err stays
// nil.
func OnTenant(name string, err error) error {
	if err == nil {
		return nil
	}
	var te *TenantError
	var named interface{ TenantName() string }
	if errors.As(err, &te) && te.Tenant == name ||
		errors.As(err, &named) && named.TenantName() == name ||
		errors.Is(err, tenant.ErrNoSecret) || errors.Is(err, tenant.ErrKeyringDown) {
		return err
	}
	return &TenantError{Tenant: name, Err: err}
}
