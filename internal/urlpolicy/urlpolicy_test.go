package urlpolicy

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// Reasons used by several rows.
const (
	insecure     = insecureReason
	userInfo     = "holds user information (user@ or user:password@): remove it"
	fragment     = "has a fragment (#...), which is never sent: remove it"
	query        = "has a query (?...): remove it"
	noHost       = "has no host name"
	spaces       = "contains white space or a control character: write a space as %20"
	idn          = `the host name "bücher.example" is not ASCII: write it in its ASCII form (xn--...), as jwh does not convert international domain names`
	ftpHTTPS     = `scheme "ftp" is not supported: use https`
	ftpHTTP      = `scheme "ftp" is not supported: use http or https`
	ok           = ""
	notParseable = "-" // url.Parse fails: there is no *url.URL to check as a request
)

func notAbsolute(role string) string {
	ex := map[string]string{
		RoleBase:     "https://your-site.atlassian.net",
		RoleCallback: "https://app.example.com/hook",
		RoleRequest:  "https://your-site.atlassian.net/rest/api/2/myself",
		RoleTarget:   "http://localhost:3000/webhook",
	}[role]
	return "not an absolute URL: give one such as " + ex
}

func empty(role string) string {
	return strings.Replace(notAbsolute(role), "not an absolute URL: give one", "empty: give one", 1)
}

// urlTests pins every kind of URL on the same inputs. base is the normal
// form ParseBaseURL returns, or "!" and the reason it refuses; the others
// are "" when accepted, else the reason.
var urlTests = []struct {
	in                              string
	base, callback, target, request string
}{
	// Paths: a context path is kept, trailing slashes go from base URLs only.
	{"https://acme.atlassian.net", "https://acme.atlassian.net", ok, ok, ok},
	{"https://acme.atlassian.net/", "https://acme.atlassian.net", ok, ok, ok},
	{"https://jira.example.com/jira", "https://jira.example.com/jira", ok, ok, ok},
	{"https://jira.example.com/jira/", "https://jira.example.com/jira", ok, ok, ok},
	{"https://jira.example.com/jira//", "https://jira.example.com/jira", ok, ok, ok},
	{"https://jira.example.com/my%2Fjira/", "https://jira.example.com/my%2Fjira", ok, ok, ok},
	{"https://app.example.com/hook?tenant=a", "!" + query, ok, ok, ok},
	{"https://app.example.com/hook?", "!" + query, ok, ok, ok},

	// Case: schemes and host names are case-insensitive; base URLs are
	// written in lower case.
	{"HTTPS://ACME.atlassian.net/Jira", "https://acme.atlassian.net/Jira", ok, ok, ok},
	{"Http://LocalHost:8080", "http://localhost:8080", ok, ok, ok},

	// Ports.
	{"https://jira.example.com:8443/jira", "https://jira.example.com:8443/jira", ok, ok, ok},
	{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ok, ok, ok},
	{"https://x.example:65535", "https://x.example:65535", ok, ok, ok},
	{"https://x.example:0", "!port 0 is out of range: use 1 to 65535", "port 0 is out of range: use 1 to 65535", "port 0 is out of range: use 1 to 65535", "port 0 is out of range: use 1 to 65535"},
	{"https://x.example:99999", "!port 99999 is out of range: use 1 to 65535", "port 99999 is out of range: use 1 to 65535", "port 99999 is out of range: use 1 to 65535", "port 99999 is out of range: use 1 to 65535"},
	{"https://x.example:", `!the port after "x.example" is empty: remove the colon or give a port`, `the port after "x.example" is empty: remove the colon or give a port`, `the port after "x.example" is empty: remove the colon or give a port`, `the port after "x.example" is empty: remove the colon or give a port`},
	{"https://x.example:https", `!not a URL: invalid port ":https" after host`, `not a URL: invalid port ":https" after host`, `not a URL: invalid port ":https" after host`, notParseable},

	// Loopback: plain http is allowed to these hosts only.
	{"http://localhost", "http://localhost", ok, ok, ok},
	{"http://localhost.:8080", "http://localhost:8080", ok, ok, ok},
	{"http://LOCALHOST./hook", "http://localhost/hook", ok, ok, ok},
	{"http://127.0.0.1/hook", "http://127.0.0.1/hook", ok, ok, ok},
	{"http://127.1.2.3/", "http://127.1.2.3", ok, ok, ok},
	{"http://127.255.255.255:9", "http://127.255.255.255:9", ok, ok, ok},
	{"http://[::1]:4000/", "http://[::1]:4000", ok, ok, ok},
	{"http://[::1]", "http://[::1]", ok, ok, ok},
	{"http://[::ffff:127.0.0.1]:80/", "http://[::ffff:127.0.0.1]:80", ok, ok, ok},
	{"http://[0:0:0:0:0:0:0:1]/", "http://[0:0:0:0:0:0:0:1]", ok, ok, ok},
	{"http://::1/", `!not a URL: invalid port "::1" after host`, `not a URL: invalid port "::1" after host`, `not a URL: invalid port "::1" after host`, notParseable},

	// Not loopback: plain http is refused, except to the user's own app.
	{"http://acme.atlassian.net", "!" + insecure, insecure, ok, insecure},
	{"http://10.0.0.1", "!" + insecure, insecure, ok, insecure},
	{"http://128.0.0.1", "!" + insecure, insecure, ok, insecure},
	{"http://0.0.0.0:8080", "!" + insecure, insecure, ok, insecure},
	{"http://[::]:8080", "!" + insecure, insecure, ok, insecure},
	{"http://[::2]/", "!" + insecure, insecure, ok, insecure},
	{"http://[::ffff:10.0.0.1]/", "!" + insecure, insecure, ok, insecure},
	{"http://app.localhost/hook", "!" + insecure, insecure, ok, insecure},
	{"http://localhost.example.com", "!" + insecure, insecure, ok, insecure},
	{"http://127.0.0.1.example.com/x", "!" + insecure, insecure, ok, insecure},
	{"http://127.1/", "!" + insecure, insecure, ok, insecure},
	{"http://2130706433/", "!" + insecure, insecure, ok, insecure},
	{"http://0177.0.0.1/", "!" + insecure, insecure, ok, insecure},

	// Trailing dots on other hosts: the same host; base URLs drop the dot.
	{"https://acme.atlassian.net./", "https://acme.atlassian.net", ok, ok, ok},
	{"https://./", "!" + noHost, noHost, noHost, noHost},

	// User information.
	{"https://user:pw@acme.atlassian.net", "!" + userInfo, userInfo, userInfo, userInfo},
	{"https://user@acme.atlassian.net", "!" + userInfo, userInfo, userInfo, userInfo},
	{"http://user@localhost:3000/", "!" + userInfo, userInfo, userInfo, userInfo},

	// Fragments are never sent: refused where a URL is given, ignored on a
	// request (the client drops them).
	{"https://app.example.com/hook#x", "!" + fragment, fragment, fragment, ok},
	{"https://app.example.com/hook#", "!" + fragment, fragment, fragment, ok},

	// International domain names.
	{"https://bücher.example/hook", "!" + idn, idn, idn, idn},
	{"https://b%C3%BCcher.example/hook", "!" + idn, idn, idn, idn},
	{"https://xn--bcher-kva.example/hook", "https://xn--bcher-kva.example/hook", ok, ok, ok},
	{"https://acme.example/bücher", "https://acme.example/b%C3%BCcher", ok, ok, ok},

	// Empty, relative, other schemes.
	{"", "!" + empty(RoleBase), empty(RoleCallback), empty(RoleTarget), notAbsolute(RoleRequest)},
	{"/rest/api/2/webhook", "!" + notAbsolute(RoleBase), notAbsolute(RoleCallback), notAbsolute(RoleTarget), notAbsolute(RoleRequest)},
	{"acme.atlassian.net", "!" + notAbsolute(RoleBase), notAbsolute(RoleCallback), notAbsolute(RoleTarget), notAbsolute(RoleRequest)},
	{"//acme.atlassian.net/jira", "!" + notAbsolute(RoleBase), notAbsolute(RoleCallback), notAbsolute(RoleTarget), notAbsolute(RoleRequest)},
	{"localhost:8080", "!" + notAbsolute(RoleBase), notAbsolute(RoleCallback), notAbsolute(RoleTarget), `scheme "localhost" is not supported: use https`},
	{"app.example.com:8443/hook", "!" + notAbsolute(RoleBase), notAbsolute(RoleCallback), notAbsolute(RoleTarget), `scheme "app.example.com" is not supported: use https`},
	{"127.0.0.1:8080", "!" + notAbsolute(RoleBase), notAbsolute(RoleCallback), notAbsolute(RoleTarget), notParseable},
	{"https:acme", "!" + notAbsolute(RoleBase), notAbsolute(RoleCallback), notAbsolute(RoleTarget), notAbsolute(RoleRequest)},
	{"https://", "!" + notAbsolute(RoleBase), notAbsolute(RoleCallback), notAbsolute(RoleTarget), notAbsolute(RoleRequest)},
	{"https:///rest", "!" + notAbsolute(RoleBase), notAbsolute(RoleCallback), notAbsolute(RoleTarget), notAbsolute(RoleRequest)},
	{"https://:443", "!" + noHost, noHost, noHost, noHost},
	{"ftp://acme.example", "!" + ftpHTTPS, ftpHTTPS, ftpHTTP, ftpHTTPS},
	{"ws://127.0.0.1/socket", `!scheme "ws" is not supported: use https`, `scheme "ws" is not supported: use https`, `scheme "ws" is not supported: use http or https`, `scheme "ws" is not supported: use https`},
	{"javascript:alert(1)", `!scheme "javascript" is not supported: use https`, `scheme "javascript" is not supported: use https`, `scheme "javascript" is not supported: use http or https`, `scheme "javascript" is not supported: use https`},
	{"mailto:me@example.com", `!scheme "mailto" is not supported: use https`, `scheme "mailto" is not supported: use https`, `scheme "mailto" is not supported: use http or https`, `scheme "mailto" is not supported: use https`},
	{"https://%zz", `!not a URL: invalid URL escape "%zz"`, `not a URL: invalid URL escape "%zz"`, `not a URL: invalid URL escape "%zz"`, notParseable},

	// Spaces: around a URL, ignored where jwh parses it and keeps the
	// result; refused on a callback, which Jira gets as written.
	{" https://acme.atlassian.net/ \n", "https://acme.atlassian.net", "white space around it: remove it", ok, notParseable},
	{"   ", "!" + empty(RoleBase), empty(RoleCallback), empty(RoleTarget), notAbsolute(RoleRequest)},
	{"https://app.example.com/a hook", "!" + spaces, spaces, spaces, ok},
	{"https://app example.com/", "!" + spaces, spaces, spaces, notParseable},
	{"https://app.example.com/\thook", "!" + spaces, spaces, spaces, notParseable},
}

func TestRules(t *testing.T) {
	for _, tt := range urlTests {
		u, err := ParseBaseURL(tt.in)
		if want, refused := strings.CutPrefix(tt.base, "!"); refused {
			checkRefusal(t, "ParseBaseURL", tt.in, err, RoleBase, want)
		} else if err != nil || u.String() != tt.base {
			t.Errorf("ParseBaseURL(%q) = %v, %v; want %s", tt.in, u, err, tt.base)
		}

		checkRefusal(t, "CheckCallbackURL", tt.in, CheckCallbackURL(tt.in), RoleCallback, tt.callback)

		_, err = ParseTargetURL(tt.in)
		checkRefusal(t, "ParseTargetURL", tt.in, err, RoleTarget, tt.target)

		pu, perr := url.Parse(tt.in)
		if (perr != nil) != (tt.request == notParseable) {
			t.Errorf("url.Parse(%q): %v; the row says parseable=%v", tt.in, perr, tt.request != notParseable)
		}
		if perr == nil {
			checkRefusal(t, "CheckRequestURL", tt.in, CheckRequestURL(pu), RoleRequest, tt.request)
		}
	}
}

// checkRefusal checks that err is nil when want is "", and otherwise an
// *Error for role with the reason want.
func checkRefusal(t *testing.T, fn, in string, err error, role, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%s(%q): %v; want it accepted", fn, in, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s(%q) = %v; want an *Error: %s", fn, in, err, want)
		return
	}
	if e.Role != role || e.Reason != want {
		t.Errorf("%s(%q) = %s %q\n got  %s\n want %s", fn, in, e.Role, e.URL, e.Reason, want)
	}
}

func TestErrorText(t *testing.T) {
	_, err := ParseBaseURL("http://acme.example")
	if want := `base URL "http://acme.example": ` + insecure; err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	// A password is never shown.
	err = CheckCallbackURL("https://me:pa55word@app.example.com/hook")
	if want := `callback URL "https://me:xxxxx@app.example.com/hook": ` + userInfo; err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	// A request is shown without its user information and query, which
	// may hold a token.
	u, _ := url.Parse("http://me:pw@jira.example.com/rest/api/2/myself?jwt=secret.token.value")
	err = CheckRequestURL(u)
	if want := `request URL "http://jira.example.com/rest/api/2/myself": ` + userInfo; err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "localhost.": true, "LOCALHOST.": true,
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "[::1]": true, "::ffff:127.0.0.2": true,
		"[::ffff:7f00:1]": true, "::1%lo": true,
		"": false, "localhost..": false, ".localhost": false, "app.localhost": false, "localhost.localdomain": false,
		"0.0.0.0": false, "::": false, "[::]": false, "::2": false, "[::1": false, "127.1": false,
		"128.0.0.1": false, "::ffff:10.0.0.1": false, "127.0.0.1.": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestOneLoopbackRule pins the old disagreement: a base URL and a callback
// URL on the same host are both accepted or both refused.
func TestOneLoopbackRule(t *testing.T) {
	for _, host := range []string{"localhost.", "LOCALHOST", "127.9.9.9", "[::1]", "[::ffff:127.0.0.1]", "app.localhost", "0.0.0.0", "example.com"} {
		_, baseErr := ParseBaseURL("http://" + host + ":8080")
		cbErr := CheckCallbackURL("http://" + host + "/hook")
		if (baseErr == nil) != (cbErr == nil) {
			t.Errorf("host %s: base URL %v, callback %v: want the same verdict", host, baseErr, cbErr)
		}
	}
}
