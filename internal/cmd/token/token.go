// Package token implements jwh token: the credentials of one request, for
// use with curl or any other HTTP client: a Connect JWT for that request,
// or the OAuth 2.0 tenant's access token.
package token

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// MaxTTL bounds --ttl: a token is for one request, now, and Jira refuses
// a token whose exp is more than an hour after its iat.
const MaxTTL = time.Hour

// Options are the inputs of jwh token.
type Options struct {
	IO *iostreams.IOStreams
	// Tenant returns the selected tenant, whose kind decides what is
	// printed.
	Tenant func() (*tenant.Tenant, error)
	// Credentials returns the selected Connect tenant and its shared
	// secret.
	Credentials func() (*tenant.Tenant, []byte, error)
	// OAuthSource returns the token source of the selected OAuth tenant.
	OAuthSource func() (*oauth.Source, *tenant.Tenant, error)
	Now         func() time.Time
	JSON        bool // -o json
	Debug       bool // --debug: show the canonical request on standard error

	Method string        // upper case; "" when not given
	Ref    string        // PATH or URL, without the fragment; "" when not given
	TTL    time.Duration // --ttl
	// TTLGiven is set when --ttl was given, which an OAuth access token
	// cannot honour.
	TTLGiven bool
}

// NewCmdToken returns jwh token. Tests pass runF to see the parsed
// Options.
func NewCmdToken(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "token [METHOD] PATH_OR_URL",
		Short: "Print the credentials of a request, for use with curl",
		Long: `Print the credentials of a request to the selected tenant, and nothing else:
one line on standard output.

For a Connect tenant, that is the Connect JWT that signs one request. Its qsh
covers METHOD (default GET), the path relative to the tenant's base URL and
the query parameters, so it is valid for exactly that request: send the same
method, path and parameters (their order and encoding do not matter). PATH is
relative to the tenant's base URL, e.g. /rest/api/2/myself; a full URL must be
under the base URL. A '#' starts a fragment, which is never sent and not
signed. The token expires after --ttl (3 minutes, as Atlassian's libraries
do; at most an hour, the longest Jira accepts).

For an OAuth 2.0 tenant, that is its access token, for the header
"Authorization: Bearer TOKEN": valid for every request to the site through
Atlassian's API gateway (API_URL/ex/jira/CLOUD_ID followed by the site's path),
until it expires (an hour after it was issued; jwh refreshes it first when
less than a minute is left). METHOD and PATH are not needed; given, they are
accepted, and PATH is checked as for Connect. --ttl does not apply: the
authorization server decides how long a token lives.

With -o json, prints for a Connect tenant {"token", "method", "url",
"canonicalRequest", "qsh", "issuer", "issuedAt", "expiresAt"}, and for an
OAuth 2.0 tenant {"token", "type" ("Bearer"), "baseUrl" (the gateway's URL of
the site), "url" (with PATH, the request's URL), "expiresAt"}; times in seconds
since 1970. With --debug, the canonical request (Connect) or where the token
comes from and when it expires (OAuth) is shown on standard error.

Exit status: 0 on success, 2 for bad input, 3 for credentials problems (no
secret, or an OAuth login that has expired or was revoked), 1 when a refresh
failed otherwise.`,
		Example: `  curl -H "Authorization: JWT $(jwh token GET /rest/api/2/myself)" https://acme.atlassian.net/rest/api/2/myself
  jwh token POST /rest/api/2/webhook
  jwh token --ttl 10m 'https://acme.atlassian.net/rest/api/2/webhook?startAt=0'
  curl -H "Authorization: Bearer $(jwh -t work token)" "$(jwh -t work token -o json | jq -r .baseUrl)/rest/api/2/myself"`,
		Args: cmdutil.MaxArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			g := cmdutil.GlobalsOf(cmd)
			opts.IO = f.IOStreams
			opts.Tenant = func() (*tenant.Tenant, error) { return f.SelectTenant(g.Tenant) }
			opts.Credentials = func() (*tenant.Tenant, []byte, error) { return f.Credentials(g.Tenant) }
			opts.OAuthSource = func() (*oauth.Source, *tenant.Tenant, error) { return f.OAuthSource(g.Tenant, g.Debug) }
			opts.Now = f.Now
			opts.JSON = g.JSON
			opts.Debug = g.Debug
			opts.TTLGiven = cmd.Flags().Changed("ttl")
			// A Connect tenant needs PATH_OR_URL, an OAuth one does
			// not: which one this is is known when the command runs.
			switch len(args) {
			case 1:
				if m, err := jira.ParseMethod(args[0]); err == nil {
					opts.Method = m
				} else {
					opts.Ref = args[0]
				}
			case 2:
				method, ref, err := cmdutil.MethodAndPath(args, "PATH_OR_URL", "jwh token")
				if err != nil {
					return err
				}
				opts.Method, opts.Ref = method, ref
			}
			if opts.Ref != "" && opts.Method == "" {
				opts.Method = http.MethodGet
			}
			if opts.TTL <= 0 || opts.TTL > MaxTTL {
				return cmdutil.UsageErrorf("invalid --ttl %s: use a duration above 0s and at most %s, e.g. 3m", opts.TTL, MaxTTL)
			}
			if sent, frag, found := jira.SplitFragment(opts.Ref); found {
				fmt.Fprintf(f.IOStreams.ErrOut, "warning: ignoring the fragment %q: it is never sent to a server, so it is not signed\n", "#"+frag)
				opts.Ref = sent
			}
			if runF != nil {
				return runF(opts)
			}
			return tokenRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.TTL, "ttl", connectjwt.DefaultTTL, "how long a Connect token stays valid")
	return cmd
}

func tokenRun(ctx context.Context, opts *Options) error {
	t, err := opts.Tenant()
	if err != nil {
		return err
	}
	if t.IsOAuth() {
		return bearerRun(ctx, opts)
	}
	switch {
	case opts.Ref == "" && opts.Method != "":
		return cmdutil.UsageErrorf("missing PATH_OR_URL after %s: e.g. jwh token %s /rest/api/2/myself", opts.Method, opts.Method)
	case opts.Ref == "":
		return cmdutil.UsageErrorf("missing PATH_OR_URL: e.g. jwh token GET /rest/api/2/myself")
	}
	return jwtRun(opts)
}

// jwtRun prints the Connect JWT of one request.
func jwtRun(opts *Options) error {
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

// bearerRun prints the access token of an OAuth tenant, refreshed first
// when it is about to expire. A PATH given is checked as for Connect,
// against the gateway's URL of the site, before a token is read.
func bearerRun(ctx context.Context, opts *Options) error {
	if opts.TTLGiven {
		return cmdutil.UsageErrorf("--ttl applies to Connect tokens: an OAuth 2.0 access token lives as long as the authorization server says (an hour)")
	}
	src, t, err := opts.OAuthSource()
	if err != nil {
		return err
	}
	base, err := cmdutil.GatewayURL(t)
	if err != nil {
		return err
	}
	var u *url.URL
	if opts.Ref != "" {
		if u, err = cmdutil.RequestURL(base, opts.Ref); err != nil {
			return err
		}
	}
	tok, expiry, err := src.Token(ctx)
	if err != nil {
		return cmdutil.OnTenant(t.Name, err)
	}
	if opts.Debug {
		fmt.Fprintf(opts.IO.ErrOut, "* access token of OAuth 2.0 tenant %s, for %s/...; expires %s\n",
			t.Name, transport.RedactURL(base), expiry.UTC().Format(time.RFC3339))
	}
	if opts.JSON {
		j := bearerJSON{Token: tok, Type: "Bearer", BaseURL: transport.RedactURL(base), ExpiresAt: expiry.Unix()}
		if u != nil {
			j.URL = transport.RedactURL(u)
		}
		return output.JSON(opts.IO.Out, j)
	}
	_, err = fmt.Fprintln(opts.IO.Out, tok)
	return err
}

// tokenJSON is the -o json form of jwh token for a Connect tenant.
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

// bearerJSON is the -o json form of jwh token for an OAuth tenant.
type bearerJSON struct {
	Token     string `json:"token"`
	Type      string `json:"type"`          // Bearer
	BaseURL   string `json:"baseUrl"`       // API_URL/ex/jira/CLOUD_ID
	URL       string `json:"url,omitempty"` // the request's, when PATH was given
	ExpiresAt int64  `json:"expiresAt"`     // seconds since the epoch
}
