package cmdutil

import (
	"fmt"
	"sync"

	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/replay"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// A ReplaySigner chooses the tenant that the replay of a record is signed
// for and reads that tenant's credentials. jwh replay and the Replay button
// of jwh listen --inspect both use it, so that a delivery is signed alike
// whichever re-sends it. It reads each tenant's secret once, and is safe for
// concurrent use.
type ReplaySigner struct {
	cfg *tenant.Config
	// resolver says where each secret comes from; its Selected is the
	// selected tenant (--tenant, JWH_TENANT, the default or the only
	// one), or "" when none is.
	resolver *tenant.Resolver
	// force is set by --tenant, which signs every replay for it.
	force bool

	mu    sync.Mutex
	creds map[string]replay.Credentials // by the name of the tenant signed for
}

// NewReplaySigner returns the signer of replays for the tenants of cfg.
// tenantFlag is --tenant: when given, every replay is signed for that
// tenant, and it is an error that no tenant has that name.
func NewReplaySigner(cfg *tenant.Config, secrets func() tenant.SecretStore, getenv func(string) string, tenantFlag string) (*ReplaySigner, error) {
	if tenantFlag != "" {
		if _, err := cfg.Get(tenantFlag); err != nil {
			return nil, err
		}
	}
	return &ReplaySigner{cfg: cfg, resolver: cfg.Resolver(secrets(), getenv, tenantFlag), force: tenantFlag != "",
		creds: make(map[string]replay.Credentials)}, nil
}

// Credentials returns what the replay of rec is signed with: the
// credentials of the tenant that verified rec, or of the selected tenant
// for a record that names none (received with --no-verify) or when
// --tenant was given. The token is the one that tenant's kind receives: a
// Connect JWT with its shared secret, or a Bearer JWT with its OAuth 2.0
// app's client secret. A tenant or secret that is missing is a
// credentials error (exit 3). Where the secret comes from is
// tenant.Resolver's rule, as in every other command.
func (s *ReplaySigner) Credentials(rec *listen.Record) (replay.Credentials, error) {
	name := rec.Tenant
	if s.force || name == "" {
		name = s.resolver.Selected
	}
	if name == "" {
		return replay.Credentials{}, CredentialsErrorf("record %d was received without verification, so it names no tenant to sign its replay for, and none is selected: choose one with --tenant", rec.Seq)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.creds[name]; ok {
		return c, nil
	}
	t, err := s.cfg.Get(name)
	if err != nil {
		if rec.Tenant != "" && !s.force {
			return replay.Credentials{}, CredentialsError(fmt.Errorf("record %d was verified with tenant %s: %w; import it again, or sign for another tenant with --tenant", rec.Seq, name, err))
		}
		return replay.Credentials{}, err
	}
	var c replay.Credentials
	if t.IsOAuth() {
		secret, _, err := s.resolver.ClientSecret(t)
		if err != nil {
			return replay.Credentials{}, OnTenant(name, err)
		}
		c = replay.Credentials{Kind: listen.KindOAuth, Secret: secret}
	} else {
		if t.ClientKey == "" {
			return replay.Credentials{}, CredentialsErrorf("tenant %s has no client key to sign replays with: re-import its installed payload with 'jwh tenant import %s --file installed.json'", name, name)
		}
		secret, _, err := s.resolver.ConnectSecret(t)
		if err != nil {
			return replay.Credentials{}, OnTenant(name, err)
		}
		c = replay.Credentials{Kind: listen.KindConnect, Issuer: t.ClientKey, Secret: secret}
	}
	s.creds[name] = c
	return c, nil
}
