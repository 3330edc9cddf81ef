package listen

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Tenants is a fixed set of tenants and their secrets, looked up once when
// the listener starts: Connect tenants with their shared secrets (it
// implements Secrets) and OAuth 2.0 tenants with their client secrets (it
// implements OAuthSecrets). It formats without the secrets. The zero value
// is empty and ready to use; a Tenants must not be changed while a Server
// uses it.
type Tenants struct {
	byKey map[string]tenantSecret
	oauth []OAuthTenant // sorted by name
	// clientSecrets are the client secrets of the OAuth tenants, by name.
	clientSecrets map[string][]byte
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

// AddOAuth adds the OAuth 2.0 tenant called name, whose app has the
// client id clientID ("" when unknown) and the client secret secret.
func (t *Tenants) AddOAuth(name, clientID string, secret []byte) error {
	switch {
	case name == "":
		return errors.New("an OAuth tenant has no name")
	case len(secret) == 0:
		return fmt.Errorf("tenant %q has no client secret", name)
	}
	if _, ok := t.clientSecrets[name]; ok {
		return fmt.Errorf("tenant %q is added twice", name)
	}
	if t.clientSecrets == nil {
		t.clientSecrets = make(map[string][]byte)
	}
	t.clientSecrets[name] = slices.Clone(secret)
	t.oauth = append(t.oauth, OAuthTenant{Name: name, ClientID: clientID})
	slices.SortFunc(t.oauth, func(a, b OAuthTenant) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

// OAuthTenants implements OAuthSecrets.
func (t Tenants) OAuthTenants() []OAuthTenant { return t.oauth }

// ClientSecret implements OAuthSecrets.
func (t Tenants) ClientSecret(name string) ([]byte, error) {
	secret, ok := t.clientSecrets[name]
	if !ok {
		return nil, fmt.Errorf("no OAuth tenant %q", name)
	}
	return secret, nil
}

// Lookup implements Secrets.
func (t Tenants) Lookup(iss string) (string, []byte, error) {
	ts, ok := t.byKey[iss]
	if !ok {
		return "", nil, fmt.Errorf("%w %q: no configured tenant has this client key", ErrUnknownIssuer, iss)
	}
	return ts.name, ts.secret, nil
}

// Names returns the names of the Connect tenants, sorted.
func (t Tenants) Names() []string {
	names := make([]string, 0, len(t.byKey))
	for _, ts := range t.byKey {
		names = append(names, ts.name)
	}
	slices.Sort(names)
	return names
}

// OAuthNames returns the names of the OAuth tenants, sorted.
func (t Tenants) OAuthNames() []string {
	names := make([]string, len(t.oauth))
	for i, o := range t.oauth {
		names[i] = o.Name
	}
	return names
}

// String lists the tenants by name, never their secrets.
func (t Tenants) String() string {
	s := "listen.Tenants{" + strings.Join(t.Names(), ", ")
	if len(t.oauth) > 0 {
		s += "; oauth: " + strings.Join(t.OAuthNames(), ", ")
	}
	return s + "}"
}

// GoString is String, so that %#v does not print the secrets either.
func (t Tenants) GoString() string { return t.String() }
