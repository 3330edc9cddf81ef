package listencmd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdListen(t *testing.T) {
	defaults := Options{Addr: "127.0.0.1:8080", Path: "/", BasePath: "/", Leeway: 30 * time.Second, MaxBody: 10 << 20, MaxInflight: 64 << 20, InspectKeep: 1000}
	with := func(change func(o *Options)) Options {
		o := defaults
		change(&o)
		return o
	}
	cmdtest.Flags(t, NewCmdListen, []cmdtest.Case[Options]{
		{Args: "", Want: defaults},
		{Args: "-t globex --addr 127.0.0.1:9000 --path /hook --base-path /app --no-verify --forward-to http://localhost:3000/webhook --json --leeway 5s --max-body 512KiB --max-inflight 8MiB",
			Want: Options{TenantFlag: "globex", Addr: "127.0.0.1:9000", Path: "/hook", BasePath: "/app", NoVerify: true,
				ForwardTo: "http://localhost:3000/webhook", JSON: true, Leeway: 5 * time.Second, MaxBody: 512 << 10, MaxInflight: 8 << 20, InspectKeep: 1000}},
		{Args: "--leeway 1h --unsafe-leeway", Want: with(func(o *Options) { o.Leeway = time.Hour; o.UnsafeLeeway = true })},
		{Args: "-o json", Want: with(func(o *Options) { o.JSON = true })}, // -o json implies --json
		{Args: "-q", Want: with(func(o *Options) { o.Quiet = true })},
		{Args: "--json --quiet", WantErr: "--json and --quiet cannot be used together: with --json, standard output carries only the payloads"},
		{Args: "-o json --quiet", WantErr: "--json and --quiet cannot be used together: with --json, standard output carries only the payloads"},
		{Args: "--max-body lots", WantErr: `invalid --max-body "lots": want a positive number of bytes, e.g. 10MiB`},
		{Args: "--max-body 0", WantErr: `invalid --max-body "0": want a positive number of bytes, e.g. 10MiB`},
		{Args: "extra", WantErr: `unexpected argument "extra" for "jwh listen"`},
		{Args: "--leeway soon", WantErr: `invalid value "soon" for --leeway: use a duration such as 30s, 5m or 1h`},
		{Args: "--addr 8080", WantErr: `invalid --addr "8080": use host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)`},
		{Args: "--max-inflight 0", WantErr: `invalid --max-inflight "0": want a positive number of bytes, e.g. 10MiB`},
		{Args: "--inspect", Want: with(func(o *Options) { o.Inspect = "127.0.0.1:4040" })},
		{Args: "--inspect --json", Want: with(func(o *Options) { o.Inspect = "127.0.0.1:4040"; o.JSON = true })},
		{Args: "--inspect=localhost:5000 --inspect-keep 50", Want: with(func(o *Options) { o.Inspect = "localhost:5000"; o.InspectKeep = 50 })},
		{Args: "--inspect=[::1]:0", Want: with(func(o *Options) { o.Inspect = "[::1]:0" })},
		{Args: "--inspect 127.0.0.1:5000", Want: with(func(o *Options) { o.Inspect = "127.0.0.1:5000" })},
		{Args: "--inspect 127.0.0.1:5000 extra", WantErr: `unexpected argument "127.0.0.1:5000" for "jwh listen"`},
		{Args: "--inspect 0.0.0.0:4040", WantErr: "--inspect=0.0.0.0:4040 is not a loopback address: the inspector shows every delivery and replays them, so it is for this machine only; use 127.0.0.1, [::1] or localhost"},
		{Args: "--inspect=0.0.0.0:4040", WantErr: "--inspect=0.0.0.0:4040 is not a loopback address: the inspector shows every delivery and replays them, so it is for this machine only; use 127.0.0.1, [::1] or localhost"},
		{Args: "--inspect=:4040", WantErr: "--inspect=:4040 is not a loopback address: the inspector shows every delivery and replays them, so it is for this machine only; use 127.0.0.1, [::1] or localhost"},
		{Args: "--inspect=inspector.example.com:4040", WantErr: "--inspect=inspector.example.com:4040 is not a loopback address: the inspector shows every delivery and replays them, so it is for this machine only; use 127.0.0.1, [::1] or localhost"},
		{Args: "--inspect=4040", WantErr: `invalid --inspect "4040": use host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)`},
		{Args: "--inspect=127.0.0.1:8080", WantErr: "--inspect=127.0.0.1:8080 is the listener's --addr: give the inspector an address of its own, e.g. --inspect=127.0.0.1:4040"},
		{Args: "--inspect-keep 10", WantErr: "--inspect-keep needs --inspect"},
		{Args: "--inspect --inspect-keep 0", WantErr: "invalid --inspect-keep 0: it must be positive"},

		{Args: "--save h.ndjson --respond 503 --fail-first 2 --delay 1.5s",
			Want: with(func(o *Options) {
				o.Save = "h.ndjson"
				o.Respond = 503
				o.FailFirst = 2
				o.Delay = 1500 * time.Millisecond
			})},
		{Args: "--respond 500", Want: with(func(o *Options) { o.Respond = 500 })},
		{Args: "--delay 3s", Want: with(func(o *Options) { o.Delay = 3 * time.Second })},
		{Args: "--respond 99", WantErr: "invalid --respond 99: give an HTTP status from 100 to 599, such as 503"},
		{Args: "--respond 600 --fail-first 1", WantErr: "invalid --respond 600: give an HTTP status from 100 to 599, such as 503"},
		{Args: "--fail-first 2", WantErr: "--fail-first needs --respond: the status to answer the first deliveries of each identifier with, such as --respond 503"},
		{Args: "--respond 503 --fail-first 0", WantErr: "invalid --fail-first 0: at least 1"},
		{Args: "--delay -1s", WantErr: "invalid --delay -1s: it must not be negative"},
		{Args: "--delay 50s", WantErr: "invalid --delay 50s: the listener must answer within 50s of reading a request; give less"},

		{Args: "--event jira:issue_updated,comment_created --event sprint_started --jql 'project = PRJ'",
			Want: with(func(o *Options) {
				o.Events = []string{"jira:issue_updated", "comment_created", "sprint_started"}
				o.JQL = "project = PRJ"
			})},
		{Args: "--event issue_updated", WantErr: `unknown event "issue_updated": did you mean "jira:issue_updated"?`},
		{Args: "--jql 'project = PRJ AND priority = High'", WantErr: "1:19: unsupported field \"priority\": webhook filters can use issueKey, project, issuetype, status, assignee, reporter, issue.property[...] and cf[id]\n  project = PRJ AND priority = High\n                    ^^^^^^^^"},
		{Args: "--jql ''", WantErr: "--jql needs a filter, such as 'project = PRJ'"},

		{Args: "--register --public-url https://abcd.ngrok.app --path /hook --jql 'project = PRJ' --event jira:issue_updated --field-id summary,status --property-key p --yes",
			Want: with(func(o *Options) {
				o.Register, o.PublicURL, o.SessionURL, o.Path = true, "https://abcd.ngrok.app", "https://abcd.ngrok.app/hook", "/hook"
				o.JQL, o.Events, o.FieldIDs, o.PropertyKeys, o.Yes = "project = PRJ", []string{"jira:issue_updated"}, []string{"summary", "status"}, []string{"p"}, true
			})},
		{Args: "--register --public-url https://abcd.ngrok.app/jira/hook --jql 'project = PRJ' --event jira:issue_updated",
			Want: with(func(o *Options) {
				o.Register, o.PublicURL, o.SessionURL = true, "https://abcd.ngrok.app/jira/hook", "https://abcd.ngrok.app/jira/hook"
				o.JQL, o.Events = "project = PRJ", []string{"jira:issue_updated"}
			})},
		{Args: "--register --jql 'project = PRJ' --event jira:issue_updated", WantErr: "--register needs --public-url: the public URL of the tunnel that reaches this listener, such as https://abcd.ngrok.app"},
		{Args: "--register --public-url https://abcd.ngrok.app --event jira:issue_updated", WantErr: "--register needs --jql: the filter of the session's webhook, such as 'project = PRJ'"},
		{Args: "--register --public-url https://abcd.ngrok.app --jql 'project = PRJ'", WantErr: "--register needs --event: at least one event, such as jira:issue_updated"},
		{Args: "--register --public-url abcd.ngrok.app --jql 'project = PRJ' --event jira:issue_updated", WantErr: `invalid --public-url "abcd.ngrok.app": want the tunnel's https:// URL, such as https://abcd.ngrok.app`},
		{Args: "--register --public-url http://abcd.ngrok.app --jql 'project = PRJ' --event jira:issue_updated", WantErr: `invalid --public-url "http://abcd.ngrok.app": plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https`},
		{Args: "--public-url https://abcd.ngrok.app", WantErr: "--public-url goes with --register"},
		{Args: "--yes", WantErr: "--yes goes with --register"},
	}, cmpopts.IgnoreFields(Options{}, "Filter"))
}

// TestSelectionFilter: --event and --jql become the filter of what is
// printed.
func TestSelectionFilter(t *testing.T) {
	h := newHarness(t)
	if o := h.options(t); o.Filter != nil {
		t.Errorf("no --event, no --jql: filter %+v", o.Filter)
	}
	o := h.options(t, "--event", "jira:issue_updated", "--jql", "project = PRJ")
	if o.Filter == nil || !slices.Equal(o.Filter.Events, []string{"jira:issue_updated"}) || o.Filter.JQL == nil ||
		o.Filter.JQL.Canonical() != "project = PRJ" {
		t.Errorf("filter %+v", o.Filter)
	}
}

// TestLeeway checks that a leeway above 5 minutes needs --unsafe-leeway,
// and is then used, with a warning.
func TestLeeway(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		argv    []string
		leeway  time.Duration
		warning string
	}{
		{[]string{"--leeway", "5m"}, 5 * time.Minute, ""},
		{[]string{"--leeway", "2h", "--unsafe-leeway"}, 2 * time.Hour, "--unsafe-leeway: tokens up to 2h0m0s past their expiry are accepted, replayed deliveries included"},
		{[]string{"--leeway", "1m", "--unsafe-leeway"}, time.Minute, ""},
	} {
		o := h.options(t, tt.argv...)
		cfg, warnings, err := engineConfig(o)
		if err != nil || cfg.Leeway != tt.leeway {
			t.Errorf("%v: leeway %s, %v; want %s", tt.argv, cfg.Leeway, err, tt.leeway)
		}
		// The harness's tenant beta, without a client key, is warned
		// about too.
		var got string
		for _, w := range warnings {
			if strings.Contains(w, "leeway") {
				got = w
			}
		}
		if got != tt.warning {
			t.Errorf("%v: warning %q, want %q", tt.argv, got, tt.warning)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"100": 100, "100B": 100, "1KiB": 1024, "1k": 1024, "10MiB": 10 << 20, "10M": 10 << 20, "2MB": 2e6, "1GiB": 1 << 30, " 3 KB ": 3000,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1.5MiB", "10 potatoes", "99999999999GiB"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, n)
		}
	}
}

// TestListenRefuses covers what stops jwh listen before it listens.
func TestListenRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness, o *Options)
		want  string
		exit  int
	}{
		{"path", func(h *harness, o *Options) { o.Path = "hook" }, `invalid --path "hook": it must start with /`, 2},
		{"base path", func(h *harness, o *Options) { o.BasePath = "app" }, `invalid --base-path "app": it must start with /`, 2},
		{"leeway", func(h *harness, o *Options) { o.Leeway = -time.Second }, "invalid --leeway -1s: it must not be negative", 2},
		{"unsafe leeway", func(h *harness, o *Options) { o.Leeway = 5*time.Minute + time.Second },
			"--leeway 5m1s is above 5m0s: a leeway that large accepts replayed, long-expired tokens; add --unsafe-leeway if you mean it", 2},
		{"unsafe leeway without verification", func(h *harness, o *Options) { o.Leeway = 24 * time.Hour; o.NoVerify = true },
			"--leeway 24h0m0s is above 5m0s: a leeway that large accepts replayed, long-expired tokens; add --unsafe-leeway if you mean it", 2},
		{"forward scheme", func(h *harness, o *Options) { o.ForwardTo = "localhost:3000" },
			`invalid --forward-to "localhost:3000": not an absolute URL: give one such as http://localhost:3000/webhook`, 2},
		{"forward with user information", func(h *harness, o *Options) { o.ForwardTo = "http://me:pw@localhost:3000" },
			`invalid --forward-to "http://me:xxxxx@localhost:3000": holds user information (user@ or user:password@): remove it`, 2},
		{"unknown tenant", func(h *harness, o *Options) { o.TenantFlag = "nope" },
			`no such tenant "nope": configured tenants are acme, beta, globex`, 3},
		{"tenant without client key", func(h *harness, o *Options) { o.TenantFlag = "beta" },
			`tenant "beta" has no client key, so its deliveries cannot be verified: re-import its installed payload with 'jwh tenant import beta --file installed.json' (or add it again with --client-key), or run with --no-verify`, 3},
		{"no tenants", func(h *harness, o *Options) {
			h.env[tenant.EnvConfig] = h.cfgPath + ".empty"
			o.Config = cmdutil.LoadConfigOnce(h.env.get)
		}, "no tenants configured: jwh listen verifies each delivery with its tenant's secret; import a Connect app's tenant with 'jwh tenant import --file installed.json', log in with an OAuth 2.0 app with 'jwh tenant login', or run with --no-verify", 3},
		{"no client keys", func(h *harness, o *Options) {
			cfg, _ := o.Config()
			cfg.Tenants = slices.DeleteFunc(cfg.Tenants, func(t tenant.Tenant) bool { return t.ClientKey != "" })
		}, "no tenant has a client key (beta), so no delivery can be verified: re-import their installed payloads with 'jwh tenant import' (or add them with --client-key), or run with --no-verify", 3},
		{"same client key", func(h *harness, o *Options) {
			cfg, _ := o.Config()
			cfg.Put(tenant.Tenant{Name: "acme2", BaseURL: "https://acme.atlassian.net", AppKey: "k", ClientKey: acmeKey})
		}, `tenants "acme" and "acme2" have the same client key "` + acmeKey + `": a delivery cannot tell them apart; remove one with 'jwh tenant remove' or choose one with --tenant`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			o := h.options(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			o.Listener = ln
			tt.setup(h, o)
			err = listenRun(t.Context(), o)
			if err == nil || err.Error() != tt.want || exitCode(err) != tt.exit {
				t.Errorf("got %v (exit %d)\nwant %s (exit %d)", err, exitCode(err), tt.want, tt.exit)
			}
			if h.out.String() != "" || strings.Contains(h.errOut.String(), "Ready") {
				t.Errorf("printed:\n%s%s", h.out, h.errOut)
			}
		})
	}
}

// TestListenAddressInUse: an address that cannot be listened on is a
// failure (exit 1), said in one line without Go's "listen tcp" prefix.
func TestListenAddressInUse(t *testing.T) {
	h := newHarness(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	o := h.options(t, "--addr", addr)
	err = listenRun(t.Context(), o)
	want := "cannot listen on " + addr + ": bind: address already in use; choose another address with --addr"
	if err == nil || err.Error() != want || exitCode(err) != 1 {
		t.Errorf("got %v (exit %d)\nwant %s (exit 1)", err, exitCode(err), want)
	}
	if h.out.String() != "" || strings.Contains(h.errOut.String(), "Ready") {
		t.Errorf("printed:\n%s%s", h.out, h.errOut)
	}
}

func TestListenForwardToItself(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	o := h.options(t, "--forward-to", fmt.Sprintf("http://localhost:%d/app", port))
	o.Listener = ln
	err = listenRun(t.Context(), o)
	want := fmt.Sprintf("--forward-to http://localhost:%d/app is this listener (127.0.0.1:%d): each delivery would be forwarded to itself; give the address of your app", port, port)
	if err == nil || err.Error() != want || exitCode(err) != 2 {
		t.Errorf("got %v, want %s", err, want)
	}
	for _, tt := range []struct {
		u, addr string
		want    bool
	}{
		{"http://127.0.0.1:8080/x", "127.0.0.1:8080", true},
		{"http://localhost:8080", "127.0.0.1:8080", true},
		{"http://192.0.2.1:8080", "0.0.0.0:8080", true},
		{"http://[::1]:8080", "[::1]:8080", true},
		{"http://127.0.0.1:8081", "127.0.0.1:8080", false},
		{"http://192.0.2.1:8080", "127.0.0.1:8080", false},
		{"https://localhost:8080", "127.0.0.1:8080", false},
		{"http://localhost", "127.0.0.1:80", true},
		{"http://LOCALHOST.:8080", "127.0.0.1:8080", true},
		{"http://[::ffff:127.0.0.1]:8080", "127.0.0.1:8080", true},
		{"http://app.localhost:8080", "127.0.0.1:8080", false},
	} {
		u, _ := url.Parse(tt.u)
		a, _ := net.ResolveTCPAddr("tcp", tt.addr)
		if got := forwardsToItself(u, a); got != tt.want {
			t.Errorf("forwardsToItself(%s, %s) = %v", tt.u, tt.addr, got)
		}
	}
}

// pretty is how a body is printed under its summary line.
func pretty(t *testing.T, body []byte) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("  ")
	if err := jsonIndent(&b, body); err != nil {
		t.Fatal(err)
	}
	return b.String() + "\n"
}

// unsignedToken is a token whose header says alg none.
func unsignedToken(h *harness, path string) string {
	u, _ := url.Parse(path)
	qsh, _ := connectjwt.RequestQSH("POST", u, "/")
	enc := base64.RawURLEncoding.EncodeToString
	now := h.clock().Unix()
	claims := fmt.Sprintf(`{"iss":%q,"iat":%d,"exp":%d,"qsh":%q}`, acmeKey, now, now+180, qsh)
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "."
}

// TestListenDeliveries sends deliveries signed as Jira signs them to a
// running jwh listen: what is answered and what is printed.
func TestListenDeliveries(t *testing.T) {
	h := newHarness(t)
	r := h.start(t, "--path", "/hook")
	acme := h.jira(acmeKey, "acme", "/")
	const head = "09:30:15  jira:issue_updated  PRJ-1  Alice Smith  webhooks 1000,1001  "
	// A refused delivery's body is not read: its line shows the request.
	const refused = "09:30:15  POST /hook  "
	other, _ := url.Parse("/other")
	wrongQSH, _ := acme.Sign("POST", other)

	tests := []struct {
		name   string
		d      delivery
		status int
		line   string // the summary line printed
	}{
		{"valid", delivery{body: payload("PRJ-1"), retry: 2, signer: acme}, 200,
			head + "id valid  retry 2  ✓ verified (acme)"},
		{"duplicate", delivery{body: payload("PRJ-1"), identifier: "valid", retry: 3, signer: acme}, 200,
			head + "id valid  retry 3  = duplicate of the delivery at 09:30:15, answered 200"},
		{"globex", delivery{body: payload("PRJ-1"), signer: h.jira(globexKey, "globex", "/")}, 200,
			head + "id globex  ✓ verified (globex)"},
		{"bad signature", delivery{body: payload("PRJ-1"), signer: h.jira(acmeKey, "globex", "/")}, 401,
			refused + `id bad signature  ✗ 401 signature: bad signature: the token was not signed with the shared secret of "` + acmeKey +
				`" (tenant "acme"): if the app was reinstalled, its shared secret changed; import the new installed payload with 'jwh tenant import'`},
		{"expired", delivery{body: payload("PRJ-1"), signer: acme.WithClock(func() time.Time { return h.clock().Add(-10 * time.Minute) })}, 401,
			refused + "id expired  ✗ 401 exp: expired at 2026-04-25T09:23:15Z (now 2026-04-25T09:30:15Z, leeway 30s)"},
		{"future iat", delivery{body: payload("PRJ-1"), signer: acme.WithClock(func() time.Time { return h.clock().Add(5 * time.Minute) })}, 401,
			refused + "id future iat  ✗ 401 iat: issued in the future at 2026-04-25T09:35:15Z (now 2026-04-25T09:30:15Z, leeway 30s): check the clocks"},
		{"alg none", delivery{body: payload("PRJ-1"), token: unsignedToken(h, "/hook")}, 401,
			refused + `id alg none  ✗ 401 alg: algorithm "none" refused: only HS256 is accepted`},
		{"wrong qsh", delivery{body: payload("PRJ-1"), token: wrongQSH}, 401,
			refused + "id wrong qsh  ✗ 401 qsh mismatch: expected " + connectjwt.QSH("POST&/hook&") + " for POST&/hook&, got " + connectjwt.QSH("POST&/other&")},
		{"unknown iss", delivery{body: payload("PRJ-1"), signer: h.jira("someone-else", "acme", "/")}, 401,
			refused + `id unknown iss  ✗ 401 iss: unknown issuer "someone-else": no configured tenant has this client key (listening for acme, globex); import the site's installed payload with 'jwh tenant import'`},
		{"no authorization", delivery{body: payload("PRJ-1")}, 401,
			refused + `id no authorization  ✗ 401 missing: no JWT: expected an "Authorization: JWT <token>" header`},
		{"garbage", delivery{body: []byte(`{"webhookEvent": nope}`), signer: acme}, 400,
			"09:30:15  POST /hook  id garbage  ✗ 400 body: invalid JSON at byte 19: invalid character 'o' in literal null (expecting 'u')"},
		{"20 MiB", delivery{body: bytes.Repeat([]byte(" "), 20<<20), signer: acme}, 413,
			"09:30:15  POST /hook  id 20 MiB  ✗ 413 size: body larger than the limit of 10485760 bytes (--max-body)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.d.path = "/hook"
			if tt.d.identifier == "" {
				tt.d.identifier = tt.name
			}
			status, _ := r.send(t, tt.d)
			if status != tt.status {
				t.Errorf("status %d, want %d", status, tt.status)
			}
			var found []string
			for _, line := range strings.Split(h.out.String(), "\n") {
				if strings.Contains(line, "  id "+tt.d.identifier+"  ") && strings.Contains(line, fmt.Sprintf("retry %d", tt.d.retry)) == (tt.d.retry > 0) {
					found = append(found, line)
				}
			}
			if len(found) != 1 || found[0] != tt.line {
				t.Errorf("printed %q\nwant     %q", found, tt.line)
			}
		})
	}
	// The valid delivery is followed by its body; nothing else is.
	out := h.out.String()
	if want := tests[0].line + "\n" + pretty(t, payload("PRJ-1")) + tests[1].line + "\n"; !strings.HasPrefix(out, want) {
		t.Errorf("stdout begins\n%s\nwant\n%s", out[:min(len(out), len(want))], want)
	}
	if n := strings.Count(out, "\n  {\n"); n != 2 {
		t.Errorf("%d bodies printed, want 2 (acme's and globex's)", n)
	}
	if err := r.stop(); exitCode(err) != 130 || !cmdutil.IsSilent(err) {
		t.Errorf("stopped: %v, want a silent exit 130", err)
	}
	wantErr := "! deliveries of tenant beta will be refused: no client key; re-import the installed payload with 'jwh tenant import' (or add the tenant with --client-key)\n" +
		"Ready! Listening for Jira's deliveries on " + r.base + "/hook (Ctrl-C to stop)\n" +
		"  verifying the JWT of each delivery: HS256, signed by tenants acme, globex; qsh relative to base path /\n" +
		"Stopped after 0s: 2 deliveries, 1 duplicate, 7 rejected, 2 invalid requests, 0 errors\n"
	if h.errOut.String() != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", h.errOut, wantErr)
	}
}

// TestListenJSON checks that --json prints each accepted delivery's bytes
// as received, one per line, and nothing else on standard output.
func TestListenJSON(t *testing.T) {
	h := newHarness(t)
	r := h.start(t, "--json")
	acme := h.jira(acmeKey, "acme", "/")
	// Key order, spacing and escapes as sent: never re-encoded.
	first := []byte(`{ "webhookEvent":"jira:issue_created",  "issue":{"key":"PRJ-1","fields":{"summary":"caf\u00e9 \"quoted\" </tag>","n":1.50}},"z":1,"a":2}`)
	multiLine := []byte("{\n  \"webhookEvent\": \"comment_created\",\n  \"comment\": {\"body\": \"two\\nlines\"}\n}\n")
	bodies := [][]byte{first, payload("PRJ-2"), multiLine}
	for i, b := range bodies {
		if status, _ := r.send(t, delivery{body: b, identifier: fmt.Sprint("json-", i), signer: acme}); status != 200 {
			t.Fatalf("delivery %d: status %d", i, status)
		}
	}
	// A duplicate, a refused one and an invalid one print nothing on stdout.
	r.send(t, delivery{body: first, identifier: "json-0", retry: 1, signer: acme})
	r.send(t, delivery{body: payload("PRJ-3"), identifier: "bad", signer: h.jira(acmeKey, "globex", "/")})
	r.send(t, delivery{body: []byte("[]"), identifier: "array", signer: acme})
	r.stop()

	want := string(first) + "\n" + string(payload("PRJ-2")) + "\n" +
		`{"webhookEvent":"comment_created","comment":{"body":"two\nlines"}}` + "\n"
	if got := h.out.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	errOut := h.errOut.String()
	for _, s := range []string{
		"09:30:15  jira:issue_created  PRJ-1  id json-0  retry 1  = duplicate of the delivery at 09:30:15, answered 200\n",
		"id bad  ✗ 401 signature: bad signature",
		"09:30:15  POST /  id array  ✗ 400 body: not a JSON object: a delivery body is {...}\n",
		"Ready! ", "Stopped after 0s: 3 deliveries, 1 duplicate, 1 rejected, 1 invalid request, 0 errors\n",
	} {
		if !strings.Contains(errOut, s) {
			t.Errorf("stderr does not say %q:\n%s", s, errOut)
		}
	}
	// An accepted delivery is said once, on stdout.
	if strings.Contains(errOut, "✓ verified") {
		t.Errorf("stderr repeats the accepted deliveries:\n%s", errOut)
	}
}

func TestListenQuietAndColour(t *testing.T) {
	h := newHarness(t)
	h.ios.SetStdoutTTY(true)
	h.ios.SetColorEnabled(true)
	r := h.start(t, "--quiet")
	r.send(t, delivery{body: payload("PRJ-1"), identifier: "q", signer: h.jira(acmeKey, "acme", "/")})
	r.send(t, delivery{body: payload("PRJ-1"), identifier: "q2", signer: h.jira(acmeKey, "globex", "/")})
	r.stop()
	want := "\x1b[90m09:30:15\x1b[0m  \x1b[1mjira:issue_updated\x1b[0m  \x1b[36mPRJ-1\x1b[0m  Alice Smith  webhooks 1000,1001  id q  \x1b[32m✓ verified (acme)\x1b[0m\n" +
		"\x1b[90m09:30:15\x1b[0m  POST /  id q2  \x1b[31m✗ 401 signature: bad signature"
	if got := h.out.String(); !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 2 {
		t.Errorf("stdout:\n%q\nwant two lines beginning\n%q", got, want)
	}
}

func TestListenNoVerify(t *testing.T) {
	h := newHarness(t)
	h.env[tenant.EnvConfig] = h.cfgPath + ".none" // no tenants needed
	h.f.Config = cmdutil.LoadConfigOnce(h.env.get)
	r := h.start(t, "--no-verify", "--quiet")
	if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "nv"}); status != 200 {
		t.Fatalf("status %d", status)
	}
	r.stop()
	if want := "09:30:15  jira:issue_updated  PRJ-1  Alice Smith  webhooks 1000,1001  id nv  ! not verified (--no-verify)\n"; h.out.String() != want {
		t.Errorf("stdout %q, want %q", h.out, want)
	}
	if want := "! --no-verify: deliveries are accepted without checking their JWT, and marked unverified\n"; !strings.Contains(h.errOut.String(), want) {
		t.Errorf("stderr has no warning:\n%s", h.errOut)
	}
}

func TestListenBasePath(t *testing.T) {
	// The app's base URL is https://tunnel.example/app, the webhook's URL
	// https://tunnel.example/app/hook: Jira signs POST&/hook&.
	h := newHarness(t)
	r := h.start(t, "--path", "/app/hook", "--base-path", "/app", "--quiet")
	if status, body := r.send(t, delivery{path: "/app/hook", body: payload("PRJ-1"), identifier: "bp", signer: h.jira(acmeKey, "acme", "/app")}); status != 200 {
		t.Fatalf("status %d %s", status, body)
	}
	r.stop()

	// Without --base-path, the listener hashes POST&/app/hook&.
	h2 := newHarness(t)
	r2 := h2.start(t, "--path", "/app/hook", "--quiet")
	status, _ := r2.send(t, delivery{path: "/app/hook", body: payload("PRJ-1"), identifier: "bp", signer: h2.jira(acmeKey, "acme", "/app")})
	r2.stop()
	want := "✗ 401 qsh mismatch: expected " + connectjwt.QSH("POST&/app/hook&") + " for POST&/app/hook&, got " + connectjwt.QSH("POST&/hook&") + "\n"
	if status != 401 || !strings.HasSuffix(h2.out.String(), want) {
		t.Errorf("status %d, stdout %s", status, h2.out)
	}

	// A path outside the base path is likely a mistake: warned about.
	h3 := newHarness(t)
	h3.start(t, "--path", "/hook", "--base-path", "/app").stop()
	if want := "! --path /hook is not under --base-path /app: Jira computes the qsh of a delivery over its path relative to the app's base URL, so check both\n"; !strings.HasPrefix(h3.errOut.String(), want) {
		t.Errorf("stderr has no warning:\n%s", h3.errOut)
	}
}

func TestListenTenantFlag(t *testing.T) {
	h := newHarness(t)
	r := h.start(t, "--quiet", "-t", "globex")
	if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "g", signer: h.jira(globexKey, "globex", "/")}); status != 200 {
		t.Errorf("globex: status %d", status)
	}
	if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "a", signer: h.jira(acmeKey, "acme", "/")}); status != 401 {
		t.Errorf("acme: status %d", status)
	}
	r.stop()
	for _, want := range []string{
		"id g  ✓ verified (globex)\n",
		`id a  ✗ 401 iss: unknown issuer "` + acmeKey + `": it is the client key of tenant "acme", but only tenant "globex" is listened for (--tenant)` + "\n",
	} {
		if !strings.Contains(h.out.String(), want) {
			t.Errorf("stdout does not say %q:\n%s", want, h.out)
		}
	}
	if want := "signed by tenant globex; qsh"; !strings.Contains(h.errOut.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, h.errOut)
	}
}

// TestListenSharedSecretEnv checks that JWH_SHARED_SECRET stands for the
// secret of the selected tenant (the default, acme) and of no other.
func TestListenSharedSecretEnv(t *testing.T) {
	h := newHarness(t)
	h.env[tenant.EnvSecret] = "from-the-environment"
	r := h.start(t, "--quiet")
	env := connectjwt.NewSigner(acmeKey, []byte("from-the-environment"), "/").WithClock(h.clock)
	if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "env", signer: env}); status != 200 {
		t.Errorf("acme signed with the environment's secret: status %d", status)
	}
	if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "kr", signer: h.jira(globexKey, "globex", "/")}); status != 200 {
		t.Errorf("globex signed with its keyring secret: status %d", status)
	}
	r.stop()
}

// downStore is a keyring that cannot be reached, until it can.
type downStore struct {
	tenant.SecretStore
	down  atomic.Bool
	calls atomic.Int64
}

func (s *downStore) Get(name string) ([]byte, error) {
	s.calls.Add(1)
	if s.down.Load() {
		return nil, &tenant.KeyringError{Op: "read", Name: name, Err: errors.New("dbus: no session bus")}
	}
	return s.SecretStore.Get(name)
}

// TestListenKeyringDown checks that a delivery whose tenant's secret
// cannot be read is answered 503 with Retry-After, which Jira retries, and
// that the keyring is asked again after a while.
func TestListenKeyringDown(t *testing.T) {
	h := newHarness(t)
	store := &downStore{SecretStore: h.store}
	store.down.Store(true)
	h.store = store
	r := h.start(t, "--quiet")
	send := func(id string) (int, string) {
		resp, body, err := r.do(delivery{body: payload("PRJ-1"), identifier: id, signer: h.jira(acmeKey, "acme", "/")})
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Retry-After") + " " + body
	}
	for _, id := range []string{"down-1", "down-2"} {
		if status, answer := send(id); status != 503 || answer != "10 cannot verify the JWT now: try again later\n" {
			t.Errorf("keyring down: %d %q, want 503 with Retry-After 10", status, answer)
		}
	}
	if n := store.calls.Load(); n != 1 {
		t.Errorf("the keyring was asked %d times within %s, want once", n, retryFailedSecret)
	}
	store.down.Store(false)
	h.advance(retryFailedSecret)
	if s, _ := send("up-1"); s != 200 {
		t.Errorf("keyring back: status %d", s)
	}
	send("up-2")
	if n := store.calls.Load(); n != 2 {
		t.Errorf("the keyring was asked %d times, want twice (the secret is kept once read)", n)
	}
	r.stop()
	want := `09:30:15  POST /  id down-1  ✗ 503 secret: keyring unavailable: cannot read the secret of tenant "acme": dbus: no session bus; start or unlock a Secret Service (e.g. gnome-keyring), or set JWH_SHARED_SECRET` + "\n"
	if !strings.Contains(h.out.String(), want) {
		t.Errorf("stdout does not say %q:\n%s", want, h.out)
	}
	if want := "Stopped after 10s: 2 deliveries, 0 duplicates, 0 rejected, 0 invalid requests, 2 answered 503, 0 errors\n"; !strings.HasSuffix(h.errOut.String(), want) {
		t.Errorf("summary: %s\nwant %s", h.errOut, want)
	}
}

// TestListenNoSecret checks that a tenant with no secret stored is a
// configuration problem: 401, and a reason that says how to store one.
func TestListenNoSecret(t *testing.T) {
	h := newHarness(t)
	if err := h.store.Delete("acme"); err != nil {
		t.Fatal(err)
	}
	r := h.start(t, "--quiet")
	if status, body := r.send(t, delivery{body: payload("PRJ-1"), identifier: "nosecret", signer: h.jira(acmeKey, "acme", "/")}); status != 401 || body != "cannot verify the JWT\n" {
		t.Errorf("no secret: %d %q, want 401", status, body)
	}
	r.stop()
	want := `09:30:15  POST /  id nosecret  ✗ 401 secret: no shared secret for tenant "acme": store one with 'jwh tenant add acme' (needs a Secret Service) or set JWH_SHARED_SECRET` + "\n"
	if !strings.Contains(h.out.String(), want) {
		t.Errorf("stdout does not say %q:\n%s", want, h.out)
	}
}

// TestListenAnswersNameNothing sends every kind of refused request and
// checks that no answer names a tenant, a client key, the keyring, a file,
// the app's address or a flag: anyone can send requests through a tunnel.
// The lines printed locally say everything.
func TestListenAnswersNameNothing(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadApp := dead.Addr().String() // nothing listens here once closed
	dead.Close()
	const deltaKey = "0b7e55aa-delta-client-key"
	h := newHarness(t)
	// delta has a client key and no secret; globex's keyring is down.
	cfg, err := h.f.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Put(tenant.Tenant{Name: "delta", BaseURL: "https://delta.atlassian.net", AppKey: "com.example.app", ClientKey: deltaKey})
	h.store = &downFor{SecretStore: h.store, name: "globex"}
	forbidden := []string{"acme", "globex", "beta", "delta", acmeKey, globexKey, deltaKey,
		"keyring", "secret service", "dbus", "jwh_shared_secret", "tenant", "jwh ", "--",
		h.cfgPath, filepath.Dir(h.cfgPath), deadApp}
	acme := h.jira(acmeKey, "acme", "/")
	other, _ := url.Parse("/other")
	wrongQSH, _ := acme.Sign("POST", other)
	// check sends each request and checks the status and the answer.
	check := func(r *running, requests []delivery, statuses []int) {
		t.Helper()
		for i, d := range requests {
			if d.path == "" {
				d.path = "/hook"
			}
			if d.body == nil {
				d.body = payload("PRJ-1")
			}
			d.identifier = fmt.Sprint("answer-", i)
			resp, body, err := r.do(d)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if resp.StatusCode != statuses[i] {
				t.Errorf("request %d: status %d, want %d", i, resp.StatusCode, statuses[i])
			}
			for _, f := range forbidden {
				if strings.Contains(strings.ToLower(body), strings.ToLower(f)) {
					t.Errorf("request %d: %d answer %q names %q", i, resp.StatusCode, body, f)
				}
			}
		}
	}

	r := h.start(t, "--path", "/hook", "--max-body", "1KiB", "--forward-to", "http://"+deadApp+"/webhook")
	check(r, []delivery{
		{path: "/elsewhere", signer: acme},
		{method: "PUT", signer: acme},
		{},
		{token: "not.a.jwt"},
		{token: unsignedToken(h, "/hook")},
		{signer: h.jira("someone-else", "acme", "/")},
		{signer: h.jira(acmeKey, "globex", "/")},
		{signer: acme.WithClock(func() time.Time { return h.clock().Add(-time.Hour) })},
		{token: wrongQSH},
		{signer: h.jira(globexKey, "globex", "/")},
		{signer: h.jira(deltaKey, "delta", "/")},
		{signer: acme, body: bytes.Repeat([]byte(" "), 2<<10)},
		{signer: acme, body: bytes.Repeat([]byte(" "), 2<<10), chunked: true},
		{signer: acme, body: []byte(`{"webhookEvent": nope}`)},
		{signer: acme, body: []byte(`[]`)},
		{signer: acme},
	}, []int{404, 405, 401, 401, 401, 401, 401, 401, 401, 503, 401, 413, 413, 400, 400, 502})
	r.stop()
	// The local lines say what the answers do not.
	for _, want := range []string{
		`keyring unavailable: cannot read the secret of tenant "globex"`,
		`(tenant "acme"): if the app was reinstalled`,
		`no shared secret for tenant "delta"`,
		"(listening for acme, delta, globex)",
		"--> POST http://" + deadApp + "/webhook",
	} {
		if !strings.Contains(h.out.String(), want) {
			t.Errorf("stdout does not say %q:\n%s", want, h.out)
		}
	}

	// Listening for one tenant, the others' deliveries are refused with
	// their names in the reason, not in the answer.
	r = h.start(t, "-t", "globex", "--path", "/hook")
	check(r, []delivery{{signer: acme}, {signer: h.jira(deltaKey, "delta", "/")}}, []int{401, 401})
	r.stop()
	if want := `it is the client key of tenant "delta", but only tenant "globex" is listened for (--tenant)`; !strings.Contains(h.out.String(), want) {
		t.Errorf("stdout does not say %q:\n%s", want, h.out)
	}
}

// downFor is a keyring that cannot be reached for one tenant.
type downFor struct {
	tenant.SecretStore
	name string
}

func (s *downFor) Get(name string) ([]byte, error) {
	if name == s.name {
		return nil, &tenant.KeyringError{Op: "read", Name: name, Err: errors.New("dbus: no session bus")}
	}
	return s.SecretStore.Get(name)
}

func TestListenForward(t *testing.T) {
	var mu sync.Mutex
	var got [][]byte
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "boom: the app fell over\nstack...")
	}))
	defer app.Close()
	h := newHarness(t)
	r := h.start(t, "--quiet", "--forward-to", app.URL+"/webhook")
	status, body := r.send(t, delivery{body: payload("PRJ-1"), identifier: "fw", signer: h.jira(acmeKey, "acme", "/")})
	if status != 500 || body != "boom: the app fell over\nstack..." {
		t.Errorf("Jira got %d %q, want the app's 500", status, body)
	}
	r.stop()
	mu.Lock()
	if len(got) != 1 || !bytes.Equal(got[0], payload("PRJ-1")) {
		t.Errorf("the app got %q", got)
	}
	mu.Unlock()
	lines := strings.Split(strings.TrimSuffix(h.out.String(), "\n"), "\n")
	if len(lines) != 3 || lines[1] != "09:30:15  --> POST "+app.URL+"/webhook  id fw" ||
		!strings.HasPrefix(lines[2], "09:30:15  <-- 500 Internal Server Error  ") ||
		!strings.HasSuffix(lines[2], `ms  id fw  "boom: the app fell over"`) {
		t.Errorf("stdout:\n%s", h.out)
	}
	if want := "  forwarding each delivery to " + app.URL + "/webhook\n"; !strings.Contains(h.errOut.String(), want) {
		t.Errorf("stderr does not say %q:\n%s", want, h.errOut)
	}
	if want := ", 1 forwarded (1 failed), 0 errors\n"; !strings.HasSuffix(h.errOut.String(), want) {
		t.Errorf("summary does not end with %q:\n%s", want, h.errOut)
	}
}

// TestListenConcurrentOutput sends deliveries from many senders at once
// and checks that stdout is whole blocks, each summary line followed by
// its own body, every delivery exactly once.
func TestListenConcurrentOutput(t *testing.T) {
	const total, concurrency = 1000, 32
	h := newHarness(t)
	r := h.start(t)
	u, _ := url.Parse("/")
	tok, err := h.jira(acmeKey, "acme", "/").Sign("POST", u)
	if err != nil {
		t.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < total; i = next.Add(1) - 1 {
				status, _, err := r.trySend(delivery{body: payload(fmt.Sprintf("C-%d", i)), identifier: fmt.Sprint("c-", i), token: tok})
				if err != nil || status != 200 {
					t.Errorf("delivery %d: %d %v", i, status, err)
					return
				}
			}
		})
	}
	wg.Wait()
	r.stop()
	blocks := strings.Split(h.out.String(), "09:30:15  jira:issue_updated  ")[1:]
	seen := map[string]bool{}
	for _, b := range blocks {
		key, _, _ := strings.Cut(b, "  ")
		want := key + "  Alice Smith  webhooks 1000,1001  id c-" + strings.TrimPrefix(key, "C-") + "  ✓ verified (acme)\n" + pretty(t, payload(key))
		if b != want || seen[key] {
			t.Fatalf("block %q\nwant  %q (seen before: %v)", b, want, seen[key])
		}
		seen[key] = true
	}
	if len(seen) != total {
		t.Errorf("%d deliveries printed, want %d", len(seen), total)
	}
}

// TestSecretsLookupConcurrent reads one tenant's secret from many
// goroutines: the keyring is asked once.
func TestSecretsLookupConcurrent(t *testing.T) {
	h := newHarness(t)
	store := &downStore{SecretStore: h.store}
	cfg, err := h.f.Config()
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := newTenantSecrets(secretsOptions{cfg: cfg, store: func() tenant.SecretStore { return store }, getenv: h.env.get, now: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			name, secret, err := s.Lookup(globexKey)
			if err != nil || name != "globex" || !bytes.Equal(secret, secretOf("globex")) {
				t.Errorf("Lookup: %q %v", name, err)
			}
		})
	}
	wg.Wait()
	if n := store.calls.Load(); n != 1 {
		t.Errorf("the keyring was asked %d times, want once", n)
	}
	if _, _, err := s.Lookup("nobody"); !errors.Is(err, listen.ErrUnknownIssuer) {
		t.Errorf("unknown issuer: %v", err)
	}
}

func jsonIndent(b *bytes.Buffer, body []byte) error { return json.Indent(b, body, "  ", "  ") }
