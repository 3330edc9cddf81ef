// Package token implements jwh token: a Connect JWT for one request, for
// use with curl or any other HTTP client.
package token

import (
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// MaxTTL bounds --ttl: a token is for one request, now.
const MaxTTL = 24 * time.Hour

// Options are the inputs of jwh token.
type Options struct {
	IO *iostreams.IOStreams
	// Credentials returns the selected tenant and its shared secret.
	Credentials func() (*tenant.Tenant, []byte, error)
	Now         func() time.Time
	JSON        bool // -o json
	Debug       bool // --debug: show the canonical request on standard error

	Method string        // upper case
	Ref    string        // PATH or URL, without the fragment
	TTL    time.Duration // --ttl
}

// NewCmdToken returns jwh token. Tests pass runF to see the parsed
// Options.
func NewCmdToken(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "token [METHOD] PATH_OR_URL",
		Short: "Print a Connect JWT for one request, for use with curl",
		Long: `Print the Connect JWT that signs one request to the selected tenant, and
nothing else: one line on standard output.

The token's qsh covers METHOD (default GET), the path relative to the
tenant's base URL and the query parameters, so it is valid for exactly that
request: send the same method, path and parameters (their order and
encoding do not matter). PATH is relative to the tenant's base URL, e.g.
/rest/api/2/myself; a full URL must be under the base URL. A '#' starts a
fragment, which is never sent and not signed. The token expires after --ttl
(3 minutes, as Atlassian's libraries do).

With -o json, prints {"token", "method", "url", "canonicalRequest", "qsh",
"issuer", "issuedAt", "expiresAt"}. With --debug, the canonical request is
shown on standard error.`,
		Example: `  curl -H "Authorization: JWT $(jwh token GET /rest/api/2/myself)" https://acme.atlassian.net/rest/api/2/myself
  jwh token POST /rest/api/2/webhook
  jwh token --ttl 10m 'https://acme.atlassian.net/rest/api/2/webhook?startAt=0'`,
		Args: cmdutil.RangeArgs(1, 2, "PATH_OR_URL: e.g. jwh token GET /rest/api/2/myself"),
		RunE: func(cmd *cobra.Command, args []string) error {
			g := cmdutil.GlobalsOf(cmd)
			opts.IO = f.IOStreams
			opts.Credentials = func() (*tenant.Tenant, []byte, error) { return f.Credentials(g.Tenant) }
			opts.Now = f.Now
			opts.JSON = g.JSON
			opts.Debug = g.Debug
			method, ref, err := cmdutil.MethodAndPath(args, "PATH_OR_URL", "jwh token")
			if err != nil {
				return err
			}
			if method == "" {
				method = http.MethodGet
			}
			if opts.TTL <= 0 || opts.TTL > MaxTTL {
				return cmdutil.UsageErrorf("invalid --ttl %s: use a duration above 0s and at most %s, e.g. 3m", opts.TTL, MaxTTL)
			}
			if sent, frag, found := jira.SplitFragment(ref); found {
				fmt.Fprintf(f.IOStreams.ErrOut, "warning: ignoring the fragment %q: it is never sent to a server, so it is not signed\n", "#"+frag)
				ref = sent
			}
			opts.Method, opts.Ref = method, ref
			if runF != nil {
				return runF(opts)
			}
			return tokenRun(opts)
		},
	}
	cmd.Flags().DurationVar(&opts.TTL, "ttl", connectjwt.DefaultTTL, "how long the token stays valid")
	return cmd
}

func tokenRun(opts *Options) error {
	t, secret, err := opts.Credentials()
	if err != nil {
		return err
	}
	base, err := cmdutil.TenantBaseURL(t)
	if err != nil {
		return err
	}
	u, err := cmdutil.RequestURL(base, opts.Ref)
	if err != nil {
		return err
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	method, ttl := opts.Method, opts.TTL
	basePath := base.EscapedPath()
	signer := connectjwt.NewSigner(t.AppKey, secret, basePath).
		WithTTL(ttl).
		WithClock(func() time.Time { return now })
	tok, err := signer.Sign(method, u)
	if err != nil {
		return cmdutil.InputErrorf("cannot sign %s %s: %v", method, transport.RedactURL(u), err)
	}
	canonical, err := connectjwt.CanonicalRequest(method, u, basePath)
	if err != nil {
		return cmdutil.InputErrorf("cannot sign %s %s: %v", method, transport.RedactURL(u), err)
	}
	if opts.Debug {
		fmt.Fprintf(opts.IO.ErrOut, "* %s %s\n* canonical request: %s\n* qsh: %s\n* iss: %s, expires %s\n",
			method, transport.RedactURL(u), canonical, connectjwt.QSH(canonical), t.AppKey,
			now.Add(ttl).UTC().Format(time.RFC3339))
	}
	if opts.JSON {
		return output.JSON(opts.IO.Out, tokenJSON{
			Token:            tok,
			Method:           method,
			URL:              transport.RedactURL(u),
			CanonicalRequest: canonical,
			QSH:              connectjwt.QSH(canonical),
			Issuer:           t.AppKey,
			IssuedAt:         now.Unix(),
			ExpiresAt:        now.Add(ttl).Unix(),
		})
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}

// tokenJSON is the -o json form of jwh token.
type tokenJSON struct {
	Token            string `json:"token"`
	Method           string `json:"method"`
	URL              string `json:"url"`
	CanonicalRequest string `json:"canonicalRequest"`
	QSH              string `json:"qsh"`
	Issuer           string `json:"issuer"`
	IssuedAt         int64  `json:"issuedAt"`  // seconds since the epoch, the iat claim
	ExpiresAt        int64  `json:"expiresAt"` // seconds since the epoch, the exp claim
}
