package cmdutil

import (
	"sync"

	"github.com/jwh-cli/jwh/internal/tenant"
)

// LoadConfigOnce returns a Factory.Config func that loads the config file
// from tenant.DefaultConfigPath(getenv) on its first call and returns the
// same *tenant.Config (or error) afterwards, so that every part of one
// command sees, and saves, the same config.
func LoadConfigOnce(getenv func(string) string) func() (*tenant.Config, error) {
	var (
		once sync.Once
		cfg  *tenant.Config
		err  error
	)
	return func() (*tenant.Config, error) {
		once.Do(func() {
			var path string
			if path, err = tenant.DefaultConfigPath(getenv); err != nil {
				return
			}
			cfg, err = tenant.LoadConfig(path)
		})
		return cfg, err
	}
}

// SelectTenant returns the tenant a command works on: name (--tenant),
// else JWH_TENANT, else the default tenant, else the only one (see
// tenant.Config.Select). Errors wrap the tenant package's sentinels.
func (f *Factory) SelectTenant(name string) (*tenant.Tenant, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	return cfg.Select(name, f.Getenv(tenant.EnvTenant))
}

// Resolver returns the tenant.Resolver, the one judge of where every
// tenant's secrets come from, for a command run with --tenant name (""
// for none, as in extend --all-tenants and listen without it).
func (f *Factory) Resolver(name string) (*tenant.Resolver, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	return cfg.Resolver(f.Secrets(), f.Getenv, name), nil
}

// Credentials returns the Connect tenant that name (--tenant) selects and
// its shared secret, from where the tenant.Resolver says. Errors wrap the
// tenant package's sentinels (ErrNotFound, ErrNoTenants, ErrAmbiguous,
// ErrNoSecret, ErrKeyringDown), which ExitCode maps to exit status 3.
func (f *Factory) Credentials(name string) (*tenant.Tenant, []byte, error) {
	t, err := f.SelectTenant(name)
	if err != nil {
		return nil, nil, err
	}
	r, err := f.Resolver(name)
	if err != nil {
		return nil, nil, err
	}
	secret, _, err := r.ConnectSecret(t)
	if err != nil {
		return nil, nil, err
	}
	return t, secret, nil
}
