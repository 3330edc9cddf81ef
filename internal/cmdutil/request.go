package cmdutil

import (
	"fmt"
	"net/url"

	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// MethodAndPath splits the "[METHOD] PATH" arguments of jwh api and jwh
// token (one or two; see RangeArgs): method is upper case, or "" when only
// the path is given. A lone argument that is a method is a usage error
// naming what is missing: what is the path's name in the usage line
// ("PATH"), command the command ("jwh api").
func MethodAndPath(args []string, what, command string) (method, path string, err error) {
	path = args[len(args)-1]
	if len(args) == 2 {
		if method, err = jira.ParseMethod(args[0]); err != nil {
			return "", "", UsageErrorf("%v", err)
		}
		return method, path, nil
	}
	if m, err := jira.ParseMethod(path); err == nil {
		return "", "", UsageErrorf("missing %s after %s: e.g. %s %s /rest/api/2/myself", what, m, command, m)
	}
	return "", path, nil
}

// TenantBaseURL parses the base URL of tenant t with
// urlpolicy.ParseBaseURL. A command does this once and passes the result
// down (to the signer, the Jira client, a token). A config file edited by
// hand can hold a bad one, which is bad input (the error wraps a
// *urlpolicy.Error); the error names the tenant (see OnTenant) and the fix.
func TenantBaseURL(t *tenant.Tenant) (*url.URL, error) {
	u, err := urlpolicy.ParseBaseURL(t.BaseURL)
	if err != nil {
		return nil, &TenantError{Tenant: t.Name,
			Err: fmt.Errorf("%w: fix it with 'jwh tenant add %s --base-url URL'", err, t.Name)}
	}
	return u, nil
}

// RequestURL resolves ref against a tenant's base URL (jira.ResolveURL)
// and applies the rule every signed request must pass
// (urlpolicy.CheckRequestURL), so that a bad path or URL is bad input
// found before anything is sent.
func RequestURL(base *url.URL, ref string) (*url.URL, error) {
	u, err := jira.ResolveURL(base, ref)
	if err != nil {
		return nil, InputError(err)
	}
	if err := urlpolicy.CheckRequestURL(u); err != nil {
		return nil, err
	}
	return u, nil
}
