package cmdutil

import (
	"net/http"
	"time"

	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// Factory holds the dependencies of the commands. Every field that costs
// something to build (config, keyring, HTTP client) is a func, called only
// by the commands that need it, so flag parsing and --help stay cheap. It
// holds nothing that depends on the command line: a command reads the
// global flags with GlobalsOf and passes what it needs on explicitly.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Version   string
	// Getenv reads the environment (JWH_* variables); tests replace it.
	Getenv func(string) string
	// Now is the clock.
	Now func() time.Time
	// Config returns the config file (tenants), loaded once from
	// tenant.DefaultConfigPath(Getenv); see LoadConfigOnce.
	Config func() (*tenant.Config, error)
	// Secrets returns the keyring: the OS keyring with a timeout, which
	// holds Connect shared secrets and OAuth bundles (see
	// tenant.Resolver); tests and jwh demo use tenant.NewMemoryStore.
	Secrets func() tenant.SecretStore

	// Transport, when not nil, is the innermost http.RoundTripper of the
	// Jira client (tests); nil means a clone of http.DefaultTransport.
	Transport http.RoundTripper
}
