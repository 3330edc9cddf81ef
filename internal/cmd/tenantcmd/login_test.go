package tenantcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// The tests of jwh tenant login run it in-process against the sandbox,
// which plays Atlassian's authorization server and gateway; the test plays
// the browser.

const (
	loginClientID     = "login-test-client"
	loginClientSecret = "login-test-client-secret-41c7"
)

type loginWorld struct {
	h        *harness
	srv      *sandbox.Server
	run      *sandbox.Running
	port     int // of the registered redirect URI
	debug    *lockedBuffer
	mu       sync.Mutex
	issued   []string    // every token the sandbox issued
	pages    chan string // what the browser was answered
	browsers sync.WaitGroup
}

// lockedBuffer is a buffer that goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newLoginWorld(t *testing.T, sites ...string) *loginWorld {
	t.Helper()
	if len(sites) == 0 {
		sites = []string{"acme"}
	}
	w := &loginWorld{h: newHarness(t), debug: &lockedBuffer{}, pages: make(chan string, 4)}
	w.srv = sandbox.New(sandbox.Options{OAuth: sandbox.OAuthOptions{
		ClientID: loginClientID, ClientSecret: loginClientSecret,
		OnIssue: func(access, refresh string) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.issued = append(w.issued, access)
			if refresh != "" {
				w.issued = append(w.issued, refresh)
			}
		},
	}})
	for _, s := range sites {
		if _, err := w.srv.AddTenant(sandbox.TenantConfig{Name: s}); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.run, err = w.srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.port = freePort(t)
	if err := w.srv.AddCallbackURL(w.redirect()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.browsers.Wait()
		w.run.Close()
		w.checkNoSecrets(t)
	})
	return w
}

func (w *loginWorld) redirect() string { return oauth.RedirectURIForPort(w.port) }

func (w *loginWorld) site(name string) *sandbox.Tenant {
	t, _ := w.srv.Tenant(name)
	return t
}

// opts returns the Options of "jwh tenant login NAME --client-id ... --auth-url
// SANDBOX --api-url SANDBOX --callback-port PORT --debug", with the
// client secret on standard input and a browser that approves as alice.
func (w *loginWorld) opts(name string) *LoginOptions {
	h := w.h
	h.in.WriteString(loginClientSecret + "\n")
	return &LoginOptions{
		IO: h.ios, Config: h.config, Secrets: func() tenant.SecretStore { return h.store }, Getenv: h.env.get, Now: time.Now,
		HTTPClient: func() (*http.Client, error) {
			return transport.New(transport.Options{Peer: oauth.Peer, Debug: w.debug})
		},
		Browser: w.browser(func(u string) (*url.URL, error) { return sandbox.Approve(nil, u, "alice") }),
		Name:    name, ClientID: loginClientID, Scopes: oauth.DefaultScopes, RedirectURI: w.redirect(),
		AuthURL: w.run.URL(), APIURL: w.run.URL(), Timeout: time.Minute,
	}
}

// browser returns a Browser that gets where the authorization server
// sends it (answer) and follows that to jwh's callback server.
func (w *loginWorld) browser(answer func(authURL string) (*url.URL, error)) func(string) error {
	return func(u string) error {
		w.browsers.Add(1)
		defer w.browsers.Done()
		loc, err := answer(u)
		if err != nil {
			return err
		}
		resp, err := http.Get(loc.String())
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		w.pages <- fmt.Sprintf("%d %s", resp.StatusCode, body)
		return nil
	}
}

func deny(u string) (*url.URL, error) {
	q, _ := url.Parse(u)
	v := q.Query()
	v.Set("deny", "1")
	q.RawQuery = v.Encode()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(q.String())
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp.Location()
}

// checkNoSecrets fails the test if the client secret or a token the
// sandbox issued shows in the output, the --debug dump or the config file.
func (w *loginWorld) checkNoSecrets(t *testing.T) {
	t.Helper()
	cfg, _ := os.ReadFile(w.h.cfgPath)
	w.mu.Lock()
	defer w.mu.Unlock()
	for where, s := range map[string]string{
		"stdout": w.h.out.String(), "stderr": w.h.errOut.String(), "--debug": w.debug.String(), "config.json": string(cfg),
	} {
		for _, secret := range append([]string{loginClientSecret}, w.issued...) {
			if strings.Contains(s, secret) {
				t.Errorf("a secret appears in %s:\n%s", where, s)
			}
		}
	}
}

func (w *loginWorld) bundle(t *testing.T, name string) *tenant.OAuthSecrets {
	t.Helper()
	cfg := w.h.saved(t)
	tn, err := cfg.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	l, err := cfg.Resolver(w.h.store, w.h.env.get, "").OAuth(tn)
	if err != nil {
		t.Fatal(err)
	}
	return l.Secrets
}

func TestLoginRunBrowser(t *testing.T) {
	w := newLoginWorld(t)
	if err := loginRun(context.Background(), w.opts("")); err != nil {
		t.Fatal(err)
	}
	acme := w.site("acme")
	page := <-w.pages
	if !strings.HasPrefix(page, "200 ") || !strings.Contains(page, "jwh: logged in") || !strings.Contains(page, "Logged in to "+acme.BaseURL()+" as tenant 127.0.0.1.") {
		t.Errorf("the browser got %s", page)
	}
	cfg := w.h.saved(t)
	got, err := cfg.Get("127.0.0.1") // the site's host name
	if err != nil {
		t.Fatal(err)
	}
	want := tenant.Tenant{Name: "127.0.0.1", Kind: tenant.KindOAuth, ClientID: loginClientID, CloudID: acme.CloudID(), SiteURL: acme.BaseURL(),
		Scopes: oauth.DefaultScopes, AuthURL: w.run.URL(), APIURL: w.run.URL(), Storage: tenant.StorageKeyring}
	if fmt.Sprintf("%#v", *got) != fmt.Sprintf("%#v", want) {
		t.Errorf("tenant\n %#v\nwant\n %#v", *got, want)
	}
	if cfg.Default != "127.0.0.1" {
		t.Errorf("default %q", cfg.Default)
	}
	b := w.bundle(t, "127.0.0.1")
	if b.ClientSecret != loginClientSecret || b.RefreshToken == "" || b.AccessToken == "" || time.Until(b.AccessExpiry) < 59*time.Minute ||
		time.Since(b.LoginAt) > time.Minute || !b.RefreshIssued.Equal(b.LoginAt) {
		t.Errorf("bundle %v", b)
	}
	errOut := w.h.errOut.String()
	for _, re := range []string{
		`(?m)^Opening the authorization page in your browser; if it does not open, open this address:\n  ` + regexp.QuoteMeta(w.run.URL()) + `/authorize\?`,
		`(?m)^Waiting up to 1m0s for the browser to come back to ` + regexp.QuoteMeta(w.redirect()) + `, which must be one of the app's callback URLs`,
		`(?m)^✓ Logged in to ` + regexp.QuoteMeta(acme.BaseURL()) + ` as tenant 127\.0\.0\.1 \(cloud id ` + acme.CloudID() + `\)$`,
		`(?m)^Secrets stored in the keyring \(service jwh, user 127\.0\.0\.1\)$`,
		`(?m)^127\.0\.0\.1 is the default tenant$`,
	} {
		if !regexp.MustCompile(re).MatchString(errOut) {
			t.Errorf("stderr does not match %s:\n%s", re, errOut)
		}
	}
	if w.h.out.Len() != 0 {
		t.Errorf("stdout: %s", w.h.out)
	}
	if !strings.Contains(w.debug.String(), "client_secret=[redacted]") || !strings.Contains(w.debug.String(), "code=[redacted]") {
		t.Errorf("the --debug dump lacks the token exchange:\n%s", w.debug)
	}
}

// pasteStreams gives login a standard input on which the client secret
// comes first and, once jwh has printed the authorization URL, the address
// the browser was sent to (approved as alice by the sandbox).
func (w *loginWorld) pasteStreams(t *testing.T, answer func(string) (*url.URL, error)) {
	t.Helper()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	w.h.in.Reset()
	w.h.ios.In = pr
	go func() { _, _ = io.WriteString(pw, loginClientSecret+"\n") }()
	var once sync.Once
	watch := &watchWriter{w: w.h.errOut, onLine: func(line string) {
		u, ok := strings.CutPrefix(line, "  ")
		if !ok || !strings.Contains(u, "/authorize?") {
			return
		}
		once.Do(func() {
			go func() {
				loc, err := answer(u)
				if err != nil {
					t.Errorf("the sandbox did not answer: %v", err)
					pw.Close()
					return
				}
				_, _ = io.WriteString(pw, loc.String()+"\n")
			}()
		})
	}}
	w.h.ios.ErrOut = watch
}

// watchWriter passes writes on and calls onLine with every whole line.
type watchWriter struct {
	w      io.Writer
	mu     sync.Mutex
	part   string
	onLine func(string)
}

func (ww *watchWriter) Write(p []byte) (int, error) {
	ww.mu.Lock()
	ww.part += string(p)
	var lines []string
	for {
		i := strings.IndexByte(ww.part, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, ww.part[:i])
		ww.part = ww.part[i+1:]
	}
	ww.mu.Unlock()
	for _, l := range lines {
		ww.onLine(l)
	}
	return ww.w.Write(p)
}

func TestLoginRunPasted(t *testing.T) {
	w := newLoginWorld(t)
	w.pasteStreams(t, func(u string) (*url.URL, error) { return sandbox.Approve(nil, u, "bob") })
	opts := w.opts("acme-oauth")
	opts.NoBrowser, opts.NoKeyring, opts.JSON = true, true, true
	opts.Browser = func(string) error { t.Error("--no-browser opened a browser"); return nil }
	if err := loginRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(w.h.out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, w.h.out)
	}
	for k, v := range map[string]any{
		"name": "acme-oauth", "kind": "oauth", "site": w.site("acme").BaseURL(), "cloudId": w.site("acme").CloudID(),
		"clientId": loginClientID, "storage": "file", "default": true, "updated": false, "refreshToken": true,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if !strings.Contains(w.h.errOut.String(), "Open this address in a browser, log in and choose Accept:\n  ") {
		t.Errorf("stderr:\n%s", w.h.errOut)
	}
	data, err := os.ReadFile(w.h.cfg(t).CredentialsPath())
	if err != nil || !strings.Contains(string(data), loginClientSecret) {
		t.Errorf("credentials.json (%v) does not hold the login", err)
	}
	if fi, _ := os.Stat(w.h.cfg(t).CredentialsPath()); fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials.json mode %v", fi.Mode())
	}
	if _, err := w.h.store.Get("acme-oauth"); !errors.Is(err, tenant.ErrNoSecret) {
		t.Errorf("--no-keyring wrote to the keyring: %v", err)
	}
	// The gateway knows the login as bob's.
	var users []string
	for _, r := range w.srv.Requests() {
		if r.User != "" && !slices.Contains(users, r.User) {
			users = append(users, r.User)
		}
	}
	if fmt.Sprint(users) != "[bob]" {
		t.Errorf("users in the sandbox's log: %v", users)
	}
}

// TestLoginKeepsChangesOfOtherProcesses: login, like the other commands
// that change the config (TestRunsKeepChangesOfOtherProcesses), saves the
// config as it is when it takes the lock, so a tenant that another jwh
// added after this one loaded the config stays.
func TestLoginKeepsChangesOfOtherProcesses(t *testing.T) {
	w := newLoginWorld(t)
	w.h.putElsewhere(t, tenant.Tenant{Name: "other", BaseURL: "https://other.example", AppKey: "k"})
	if err := loginRun(context.Background(), w.opts("acme-oauth")); err != nil {
		t.Fatal(err)
	}
	<-w.pages
	if got := strings.Join(w.h.saved(t).Names(), ","); got != "acme-oauth,other" {
		t.Errorf("tenants %s, want acme-oauth,other", got)
	}
}

// TestLoginAgainReplacesTheTokens: a second login to the same name
// replaces its tokens, keeps its site and URLs, and moves its secrets when
// the storage changes.
func TestLoginAgainReplacesTheTokens(t *testing.T) {
	w := newLoginWorld(t, "acme", "beta")
	opts := w.opts("mine")
	opts.Site = w.site("beta").CloudID()
	if err := loginRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	<-w.pages
	first := w.bundle(t, "mine")
	w.h.errOut.Reset()
	opts = w.opts("mine")
	opts.AuthURL, opts.APIURL = "", "" // kept from the tenant
	opts.NoKeyring = true
	if err := loginRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	<-w.pages
	second := w.bundle(t, "mine")
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Error("the tokens were not replaced")
	}
	got, _ := w.h.saved(t).Get("mine")
	if got.CloudID != w.site("beta").CloudID() || got.Storage != tenant.StorageFile || got.AuthURL != w.run.URL() {
		t.Errorf("tenant %#v", got)
	}
	if _, err := w.h.store.Get("mine"); !errors.Is(err, tenant.ErrNoSecret) {
		t.Errorf("the keyring still holds the previous login: %v", err)
	}
	if !strings.HasPrefix(w.h.errOut.String(), "Opening") || !strings.Contains(w.h.errOut.String(), "✓ Logged in again to "+w.site("beta").BaseURL()+" as tenant mine") {
		t.Errorf("stderr:\n%s", w.h.errOut)
	}
}

func TestLoginRunWithoutOfflineAccess(t *testing.T) {
	w := newLoginWorld(t)
	opts := w.opts("acme-oauth")
	opts.Scopes = oauth.WebhookScopes
	if err := loginRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	<-w.pages
	b := w.bundle(t, "acme-oauth")
	if b.RefreshToken != "" {
		t.Error("a refresh token without offline_access")
	}
	want := "! no refresh token (offline_access not granted): this login works until the access token expires at " +
		b.AccessExpiry.UTC().Format(time.RFC3339) + "; add offline_access to --scope and the app's permissions for cron use\n"
	if !strings.Contains(w.h.errOut.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, w.h.errOut)
	}
}

// TestLoginRunErrors: each way a login fails, with its message and exit
// status, and nothing saved.
func TestLoginRunErrors(t *testing.T) {
	tests := []struct {
		name  string
		sites []string
		setup func(t *testing.T, w *loginWorld, o *LoginOptions)
		want  string // a regexp of the whole message
		code  int
		page  string // what the browser is answered, when it gets an answer
	}{
		{
			name: "denied",
			setup: func(t *testing.T, w *loginWorld, o *LoginOptions) {
				o.Browser = w.browser(deny)
			},
			want: `^you denied jwh access \(access_denied\); run jwh tenant login again and choose Accept$`, code: 3,
			page: "400 ",
		},
		{
			name: "state mismatch",
			setup: func(t *testing.T, w *loginWorld, o *LoginOptions) {
				o.Browser = w.browser(func(u string) (*url.URL, error) {
					loc, err := sandbox.Approve(nil, u, "alice")
					if err == nil {
						q := loc.Query()
						q.Set("state", "forged")
						loc.RawQuery = q.Encode()
					}
					return loc, err
				})
			},
			want: `^the answer's state does not match this login: ignore it and run jwh tenant login again$`, code: 2,
			page: "400 ",
		},
		{
			name: "redirect URI not registered",
			setup: func(t *testing.T, w *loginWorld, o *LoginOptions) {
				o.RedirectURI = oauth.RedirectURIForPort(freePort(t)) // not among the app's callback URLs
				o.Timeout = 2 * time.Second
			},
			want: `^no answer from the browser within 2s: if Atlassian said the redirect URI is not registered, add http://localhost:\d+/callback to the app's callback URLs in the developer console \(Authorization → OAuth 2\.0 \(3LO\)\), then try again$`,
			code: 2,
		},
		{
			name: "port in use",
			setup: func(t *testing.T, w *loginWorld, o *LoginOptions) {
				ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(w.port))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
			},
			want: `^cannot listen on localhost:\d+ for the browser's answer: address in use; choose another with --callback-port N \(and add its URL to the app's callback URLs\)$`,
			code: 2,
		},
		{
			name:  "several sites and no --site",
			sites: []string{"acme", "beta"},
			want:  `^this login covers 2 sites: choose one with --site \(URL or cloud id\): http://127\.0\.0\.1:\d+/t/acme \(cloud id [-0-9a-f]+\), http://127\.0\.0\.1:\d+/t/beta \(cloud id [-0-9a-f]+\)$`,
			code:  2, page: "400 ",
		},
		{
			name: "wrong client secret",
			setup: func(t *testing.T, w *loginWorld, o *LoginOptions) {
				w.h.env[tenant.EnvClientSecret] = "not-the-client-secret"
			},
			want: `^the authorization server refused the client id or secret \(invalid_client[^)]*\): check --client-id and the client secret \(JWH_CLIENT_SECRET or standard input\)$`,
			code: 3, page: "400 ",
		},
		{
			name: "no client secret",
			setup: func(t *testing.T, w *loginWorld, o *LoginOptions) {
				w.h.in.Reset()
			},
			want: `^no client secret: set JWH_CLIENT_SECRET, or pipe the app's client secret on the first line of standard input$`, code: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newLoginWorld(t, tt.sites...)
			opts := w.opts("acme-oauth")
			if tt.setup != nil {
				tt.setup(t, w, opts)
			}
			err := loginRun(context.Background(), opts)
			if err == nil {
				t.Fatal("no error")
			}
			if !regexp.MustCompile(tt.want).MatchString(err.Error()) || cmdutil.ExitCode(err) != tt.code {
				t.Errorf("error (exit %d)\n  %v\nwant (exit %d)\n  %s", cmdutil.ExitCode(err), err, tt.code, tt.want)
			}
			if tt.page != "" {
				page := <-w.pages
				if !strings.HasPrefix(page, tt.page) || !strings.Contains(page, "jwh: the login failed") {
					t.Errorf("the browser got %s", page)
				}
			}
			if cfg := w.h.saved(t); len(cfg.Tenants) != 0 {
				t.Errorf("tenants saved: %v", cfg.Names())
			}
			if _, err := w.h.store.Get("acme-oauth"); !errors.Is(err, tenant.ErrNoSecret) {
				t.Errorf("secrets stored: %v", err)
			}
		})
	}
}

// TestLoginRunInterrupted: Ctrl-C while waiting for the browser says what
// to check, and ends as an interruption.
func TestLoginRunInterrupted(t *testing.T) {
	w := newLoginWorld(t)
	opts := w.opts("acme-oauth")
	ctx, cancel := context.WithCancel(context.Background())
	opts.Browser = func(string) error { cancel(); return nil }
	err := loginRun(ctx, opts)
	if !errors.Is(err, context.Canceled) || cmdutil.ExitCode(err) != cmdutil.ExitInterrupted {
		t.Errorf("got %v", err)
	}
	if !strings.Contains(w.h.errOut.String(), "\nno answer from the browser: if Atlassian said the redirect URI is not registered, add "+w.redirect()) {
		t.Errorf("stderr:\n%s", w.h.errOut)
	}
}
