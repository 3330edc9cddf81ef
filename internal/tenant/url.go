package tenant

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/jwh-cli/jwh/internal/transport"
)

// ValidateBaseURL checks a site's base URL and returns it normalised: an
// absolute http or https URL with a host, no user info, query or fragment,
// and no trailing slash. Plain http is refused unless the host is loopback
// (localhost, 127.0.0.0/8, ::1), which the sandbox uses.
func ValidateBaseURL(s string) (string, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		return "", fmt.Errorf("base URL is empty: use e.g. https://your-site.atlassian.net")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("base URL %q is not a URL: use e.g. https://your-site.atlassian.net", s)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("base URL %q is not an absolute http(s) URL: use e.g. https://your-site.atlassian.net", s)
	}
	if u.User != nil {
		return "", fmt.Errorf("base URL %q holds user information: remove it", s)
	}
	if u.RawQuery != "" || u.ForceQuery {
		return "", fmt.Errorf("base URL %q has a query: remove it", s)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", fmt.Errorf("base URL %q has a fragment: remove it", s)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("base URL %q has no host name", s)
	}
	if u.Scheme == "http" && !transport.IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("base URL %q uses plain http: use https (http is allowed only for loopback hosts)", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String(), nil
}

// ValidateName checks a tenant name: 1 to 64 letters, digits, '.', '-' or
// '_', starting with a letter or digit. Names are keyring user names and
// appear in messages and commands, so they stay plain.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("tenant name is empty")
	}
	if len(name) > 64 {
		return fmt.Errorf("tenant name %q is longer than 64 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			i > 0 && (r == '.' || r == '-' || r == '_')
		if !ok {
			return fmt.Errorf("invalid tenant name %q: use letters, digits, '.', '-' and '_', starting with a letter or digit", name)
		}
	}
	return nil
}
