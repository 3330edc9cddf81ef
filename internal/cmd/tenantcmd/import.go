package tenantcmd

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// ImportOptions are the inputs of jwh tenant import.
type ImportOptions struct {
	IO      *iostreams.IOStreams
	Config  func() (*tenant.Config, error)
	Secrets func() tenant.SecretStore
	JSON    bool // -o json

	Name      string // empty: the tenant with the payload's client key, else the site's host name
	File      string // a path, or "-" for standard input
	NoKeyring bool
}

// NewCmdImport returns jwh tenant import. Tests pass runF to see the parsed
// Options.
func NewCmdImport(f *cmdutil.Factory, runF func(*ImportOptions) error) *cobra.Command {
	opts := &ImportOptions{}
	cmd := &cobra.Command{
		Use:   "import [<name>] --file {<path> | -}",
		Short: "Add a tenant from the app's installed payload",
		Long: `Add a tenant from the body of the Connect app's "installed" lifecycle callback
(key, clientKey, sharedSecret, baseUrl, ...), which Jira sends to the app when
it is installed on a site. The shared secret goes to the OS keyring and is
never printed.

NAME defaults to the tenant that already has the payload's client key (a
reinstall brings a new secret), else to the site's host name. Importing a
name that exists updates it. The first tenant becomes the default.

--file - reads standard input, up to the end of the JSON object, so the
output of jwh sandbox can be piped in.

With -o json, prints the tenant as 'jwh tenant list -o json' does ({"name",
"kind", "site", "baseUrl", "appKey", "clientKey", "clientId", "cloudId",
"scopes", "storage", "default"}, the oauth fields empty) with "updated" and
"secretStored".`,
		Example: `  jwh tenant import acme --file installed.json
  jwh tenant import --file - < installed.json`,
		Args: cmdutil.MaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Secrets = f.Secrets
			opts.JSON = cmdutil.GlobalsOf(cmd).JSON
			if len(args) == 1 {
				opts.Name = args[0]
				if err := tenant.ValidateName(opts.Name); err != nil {
					return cmdutil.InputError(err)
				}
			}
			if opts.File == "" {
				return cmdutil.UsageErrorf("missing --file: the path of the installed payload, or - for standard input")
			}
			if runF != nil {
				return runF(opts)
			}
			return importRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", "", "the installed payload: a `path`, or - for standard input")
	cmd.Flags().BoolVar(&opts.NoKeyring, "no-keyring", false, "store no secret; it must come from JWH_SHARED_SECRET")
	return cmd
}

func importRun(ctx context.Context, opts *ImportOptions) error {
	in, err := readInstalled(opts.IO, opts.File)
	if err != nil {
		return err
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	// Everything from here on is one change of the config and the keyring,
	// made under the config's lock against the config as it is now.
	unlock, err := cfg.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	name := opts.Name
	same, sameFound := cfg.ByClientKey(in.ClientKey)
	if name == "" {
		if sameFound {
			name = same.Name
		} else {
			u, _ := url.Parse(in.BaseURL) // checked by ParseInstalled
			name = u.Hostname()
			if err := tenant.ValidateName(name); err != nil {
				return cmdutil.InputErrorf("cannot name the tenant after the host %q: give a name, as in 'jwh tenant import NAME --file %s'", name, opts.File)
			}
		}
	} else if sameFound && same.Name != name {
		fmt.Fprintf(opts.IO.ErrOut, "%s tenant %s has the same client key: jwh listen will check deliveries with only one of their secrets; remove the other with 'jwh tenant remove NAME'\n",
			opts.IO.ErrColorScheme().WarningIcon(), same.Name)
	}
	var existing *tenant.Tenant
	if t, err := cfg.Get(name); err == nil {
		if t.IsOAuth() {
			return oauthTenantError(name)
		}
		existing = t
	}
	t := in.Tenant(name)
	var secret []byte
	if !opts.NoKeyring {
		secret = []byte(in.SharedSecret)
		defer clear(secret)
	}
	in.SharedSecret = ""

	madeDefault, err := saveTenant(cfg, opts.Secrets(), saveInput{
		tenant:    t,
		secret:    secret,
		existing:  existing,
		retryHint: "jwh tenant import " + name + " --file " + opts.File,
	})
	if err != nil {
		return err
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, savedJSON{toJSON(cfg, &t), existing != nil, secret != nil})
	}
	cs := opts.IO.ErrColorScheme()
	verb := "Imported"
	if existing != nil {
		verb = "Updated"
	}
	w := opts.IO.ErrOut
	fmt.Fprintf(w, "%s %s tenant %s\n", cs.SuccessIcon(), verb, cs.Bold(t.Name))
	fmt.Fprintf(w, "  base URL:    %s\n", t.BaseURL)
	fmt.Fprintf(w, "  app key:     %s\n", t.AppKey)
	fmt.Fprintf(w, "  client key:  %s\n", t.ClientKey)
	if secret != nil {
		fmt.Fprintf(w, "  secret:      stored in the %s\n", tenant.KeyringSource(t.Name))
	} else {
		fmt.Fprintf(w, "  secret:      not stored: set %s (the payload's sharedSecret) when running jwh for %s\n", tenant.EnvSecret, t.Name)
	}
	if madeDefault {
		fmt.Fprintf(w, "%s is the default tenant\n", t.Name)
	}
	return nil
}

// readInstalled reads and checks the payload; every problem is bad input.
func readInstalled(ios *iostreams.IOStreams, file string) (*tenant.Installed, error) {
	var r io.Reader
	what := file
	if file == "-" {
		what = "standard input"
		if ios.IsStdinTTY() {
			fmt.Fprintln(ios.ErrOut, "Paste the installed payload (JSON), then press Ctrl-D:")
		}
		r = ios.In
	} else {
		fh, err := os.Open(file)
		if err != nil {
			return nil, cmdutil.InputErrorf("cannot read the installed payload: %v", err)
		}
		defer fh.Close()
		r = fh
	}
	in, err := tenant.ParseInstalled(r)
	if err != nil {
		return nil, cmdutil.InputErrorf("%s: %v", what, err)
	}
	return in, nil
}
