package tenant

import "testing"

func TestValidateBaseURL(t *testing.T) {
	ok := []struct{ in, want string }{
		{"https://acme.atlassian.net", "https://acme.atlassian.net"},
		{"https://acme.atlassian.net/", "https://acme.atlassian.net"},
		{" HTTPS://acme.atlassian.net// ", "https://acme.atlassian.net"},
		{"https://jira.example.com:8443/jira/", "https://jira.example.com:8443/jira"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.1.2.3/", "http://127.1.2.3"},
		{"http://localhost:9000", "http://localhost:9000"},
		{"http://LOCALHOST", "http://LOCALHOST"},
		{"http://[::1]:4000", "http://[::1]:4000"},
	}
	for _, tt := range ok {
		got, err := ValidateBaseURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ValidateBaseURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, want string }{
		{"", "base URL is empty: use e.g. https://your-site.atlassian.net"},
		{"acme.atlassian.net", `base URL "acme.atlassian.net" is not an absolute http(s) URL: use e.g. https://your-site.atlassian.net`},
		{"ftp://acme.example", `base URL "ftp://acme.example" is not an absolute http(s) URL: use e.g. https://your-site.atlassian.net`},
		{"https:acme", `base URL "https:acme" is not an absolute http(s) URL: use e.g. https://your-site.atlassian.net`},
		{"https://%zz", `base URL "https://%zz" is not a URL: use e.g. https://your-site.atlassian.net`},
		{"http://acme.atlassian.net", `base URL "http://acme.atlassian.net" uses plain http: use https (http is allowed only for loopback hosts)`},
		{"http://10.0.0.1", `base URL "http://10.0.0.1" uses plain http: use https (http is allowed only for loopback hosts)`},
		{"http://localhost.example.com", `base URL "http://localhost.example.com" uses plain http: use https (http is allowed only for loopback hosts)`},
		{"https://acme.example?x=1", `base URL "https://acme.example?x=1" has a query: remove it`},
		{"https://acme.example?", `base URL "https://acme.example?" has a query: remove it`},
		{"https://acme.example#frag", `base URL "https://acme.example#frag" has a fragment: remove it`},
		{"https://user:pw@acme.example", `base URL "https://user:pw@acme.example" holds user information: remove it`},
		{"https://:443", `base URL "https://:443" has no host name`},
	}
	for _, tt := range bad {
		got, err := ValidateBaseURL(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ValidateBaseURL(%q) = %q, %v\nwant error %s", tt.in, got, err, tt.want)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, name := range []string{"acme", "acme.atlassian.net", "127.0.0.1", "a_b-c", "A1"} {
		if err := ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q): %v", name, err)
		}
	}
	bad := map[string]string{
		"":       "tenant name is empty",
		"-x":     `invalid tenant name "-x": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"a b":    `invalid tenant name "a b": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"a/b":    `invalid tenant name "a/b": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"é":      `invalid tenant name "é": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"::1":    `invalid tenant name "::1": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"a\nb":   `invalid tenant name "a\nb": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		longName: `tenant name "` + longName + `" is longer than 64 characters`,
	}
	for name, want := range bad {
		if err := ValidateName(name); err == nil || err.Error() != want {
			t.Errorf("ValidateName(%q) = %v\nwant %s", name, err, want)
		}
	}
}

const longName = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // 65
