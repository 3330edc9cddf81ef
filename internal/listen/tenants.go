package listen

import (
	"fmt"
	"slices"
	"strings"
)

// Tenants is a fixed set of tenants and their shared secrets, looked up
// once when the listener starts. It implements Secrets. It formats without
// the secrets. The zero value is empty and ready to use; a Tenants must not
// be changed while a Server uses it.
type Tenants struct {
	byKey map[string]tenantSecret
}

type tenantSecret struct {
	name   string
	secret []byte
}

// Add adds the tenant called name whose client key (the iss of Jira's
// JWTs) is clientKey. Two tenants with the same client key are an error:
// a delivery could not tell them apart.
func (t *Tenants) Add(name, clientKey string, secret []byte) error {
	switch {
	case clientKey == "":
		return fmt.Errorf("tenant %q has no client key", name)
	case len(secret) == 0:
		return fmt.Errorf("tenant %q has no shared secret", name)
	}
	if t.byKey == nil {
		t.byKey = make(map[string]tenantSecret)
	}
	if other, ok := t.byKey[clientKey]; ok {
		return fmt.Errorf("tenants %q and %q have the same client key %q", other.name, name, clientKey)
	}
	t.byKey[clientKey] = tenantSecret{name: name, secret: slices.Clone(secret)}
	return nil
}

// Lookup implements Secrets.
func (t Tenants) Lookup(iss string) (string, []byte, error) {
	ts, ok := t.byKey[iss]
	if !ok {
		return "", nil, fmt.Errorf("%w %q: no configured tenant has this client key", ErrUnknownIssuer, iss)
	}
	return ts.name, ts.secret, nil
}

// Names returns the tenant names, sorted.
func (t Tenants) Names() []string {
	names := make([]string, 0, len(t.byKey))
	for _, ts := range t.byKey {
		names = append(names, ts.name)
	}
	slices.Sort(names)
	return names
}

// String lists the tenants by name, never their secrets.
func (t Tenants) String() string {
	return "listen.Tenants{" + strings.Join(t.Names(), ", ") + "}"
}

// GoString is String, so that %#v does not print the secrets either.
func (t Tenants) GoString() string { return t.String() }
