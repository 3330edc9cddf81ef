package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultCallbackPort is the port of the default redirect URI.
const DefaultCallbackPort = 8976

// DefaultRedirectURI is where the authorization server sends the browser
// back to, unless --callback-port or --redirect-uri says otherwise; it must
// be among the app's callback URLs.
const DefaultRedirectURI = "http://localhost:8976/callback"

// RedirectURIForPort returns the default redirect URI on another port.
func RedirectURIForPort(port int) string {
	return "http://localhost:" + strconv.Itoa(port) + "/callback"
}

// NewState returns a fresh state for one login: 32 random bytes,
// base64url. The answer must carry it back (see Answer.Check), so that an
// answer to another login (a forged link) is refused.
func NewState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make the login's state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ParseRedirectURI checks a redirect URI that jwh can receive itself:
// http://localhost, 127.0.0.1 or [::1], an explicit port, a path, no query
// or fragment. The authorization server compares it with the app's
// callback URLs character for character, so it is returned as given.
func ParseRedirectURI(s string) (*url.URL, error) {
	bad := func(why string) error {
		return &Error{Kind: ErrRedirectURI, Msg: fmt.Sprintf("redirect URI %q %s: use http://localhost:PORT/PATH (or 127.0.0.1 or [::1]), as among the app's callback URLs", s, why)}
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, bad("is not a URL")
	case u.Scheme != "http":
		return nil, bad("is not plain http on this machine")
	case u.User != nil:
		return nil, bad("holds user information")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return nil, bad("has a query or fragment")
	}
	host := u.Hostname()
	if host != "localhost" && host != "127.0.0.1" && host != "::1" {
		return nil, bad("is not on this machine")
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1 || port > 65535 {
		return nil, bad("has no port")
	}
	if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
		return nil, bad("has no path")
	}
	return u, nil
}

// An Answer is what the authorization server sent the browser back with:
// a code and the state, or an error.
type Answer struct {
	Code             string
	State            string
	Error            string // e.g. access_denied
	ErrorDescription string
}

// String describes the answer without its code.
func (a Answer) String() string {
	if a.Error != "" {
		return fmt.Sprintf("oauth.Answer{Error:%q}", a.Error)
	}
	return "oauth.Answer{Code:[redacted]}"
}

// GoString is String, for %#v.
func (a Answer) GoString() string { return a.String() }

// Format prints String for every verb.
func (a Answer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(a.String())) }

func answerOf(q url.Values) *Answer {
	return &Answer{Code: q.Get("code"), State: q.Get("state"), Error: q.Get("error"), ErrorDescription: q.Get("error_description")}
}

func (a *Answer) empty() bool { return a.Code == "" && a.Error == "" }

// Check returns the code of an answer to the login whose state is state.
// A state that differs (in constant time) is ErrStateMismatch, even for an
// error answer: an answer to another login says nothing about this one.
// access_denied is ErrDenied.
func (a *Answer) Check(state string) (string, error) {
	if subtle.ConstantTimeCompare([]byte(a.State), []byte(state)) != 1 {
		return "", &Error{Kind: ErrStateMismatch, Msg: "the answer's state does not match this login: ignore it and run jwh tenant login again"}
	}
	switch {
	case a.Error == "access_denied":
		return "", deniedError()
	case a.Error != "":
		what := a.Error
		if d := oneLine(a.ErrorDescription); d != "" {
			what += ": " + d
		}
		return "", &Error{Kind: ErrBadAnswer, Msg: fmt.Sprintf("the authorization server refused the login (%s): check the app's settings in the developer console and run jwh tenant login again", what)}
	case a.Code == "":
		return "", &Error{Kind: ErrBadAnswer, Msg: "the answer holds no code: run jwh tenant login again"}
	}
	return a.Code, nil
}

func deniedError() error {
	return &Error{Kind: ErrDenied, Msg: "you denied jwh access (access_denied); run jwh tenant login again and choose Accept"}
}

// ParseAnswer reads the address the browser was sent to, pasted by the
// user (--no-browser): the redirect URI with code and state, or error.
func ParseAnswer(pasted string, redirect *url.URL) (*Answer, error) {
	s := strings.TrimSpace(pasted)
	wrong := func(why string) error {
		return &Error{Kind: ErrBadAnswer, Msg: fmt.Sprintf("the pasted address %s: paste the whole address the browser was sent to, which starts with %s?code=", why, redirect)}
	}
	if s == "" {
		return nil, wrong("is empty")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, wrong("is not a URL")
	}
	if !strings.EqualFold(u.Scheme, redirect.Scheme) || !strings.EqualFold(u.Host, redirect.Host) || u.Path != redirect.Path {
		return nil, wrong(fmt.Sprintf("is not the redirect URI %s", redirect))
	}
	a := answerOf(u.Query())
	if a.empty() {
		return nil, wrong("has neither a code nor an error")
	}
	return a, nil
}

// A CallbackServer receives the browser's answer on the redirect URI,
// on loopback, and answers the browser with a small page once the caller
// knows how the login ended (Finish).
type CallbackServer struct {
	redirect *url.URL
	srv      *http.Server
	lns      []net.Listener
	answers  chan *Answer
	done     chan struct{} // closed by Finish or Close
	once     sync.Once
	mu       sync.Mutex
	taken    bool
	result   string // the page's message, set by Finish
	failed   bool
}

// ListenCallback listens on the redirect URI's host and port: for
// localhost, on 127.0.0.1 and, when this machine has it, [::1] (a browser
// may try either). A port in use is an *Error of kind ErrRedirectURI that
// says how to choose another.
func ListenCallback(redirect *url.URL) (*CallbackServer, error) {
	port := redirect.Port()
	hosts := []string{redirect.Hostname()}
	if hosts[0] == "localhost" {
		hosts = []string{"127.0.0.1", "::1"}
	}
	s := &CallbackServer{redirect: redirect, answers: make(chan *Answer, 1), done: make(chan struct{})}
	for i, h := range hosts {
		ln, err := net.Listen("tcp", net.JoinHostPort(h, port))
		if err != nil {
			if i > 0 && !errors.Is(err, syscall.EADDRINUSE) {
				continue // no IPv6 loopback here
			}
			s.closeListeners()
			return nil, listenError(redirect, err)
		}
		s.lns = append(s.lns, ln)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range s.lns {
		go s.srv.Serve(ln)
	}
	return s, nil
}

func listenError(redirect *url.URL, err error) error {
	where := redirect.Host
	if errors.Is(err, syscall.EADDRINUSE) {
		return &Error{Kind: ErrRedirectURI, Err: err,
			Msg: fmt.Sprintf("cannot listen on %s for the browser's answer: address in use; choose another with --callback-port N (and add its URL to the app's callback URLs)", where)}
	}
	return &Error{Kind: ErrRedirectURI, Err: err,
		Msg: fmt.Sprintf("cannot listen on %s for the browser's answer (%v); choose another port with --callback-port N (and add its URL to the app's callback URLs), or use --no-browser", where, unwrapOp(err))}
}

// unwrapOp returns the cause of a *net.OpError, without the address it
// repeats.
func unwrapOp(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

func (s *CallbackServer) closeListeners() {
	for _, ln := range s.lns {
		ln.Close()
	}
}

// ServeHTTP takes the first answer on the redirect URI's path and holds
// the browser's request until Finish says how the login ended.
func (s *CallbackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.redirect.Path || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	a := answerOf(r.URL.Query())
	if a.empty() {
		page(w, http.StatusBadRequest, true, "This is the address where jwh waits for the authorization server's answer, but this request carries none.")
		return
	}
	s.mu.Lock()
	taken := s.taken
	s.taken = true
	s.mu.Unlock()
	if taken {
		page(w, http.StatusConflict, true, "jwh has already received an answer for this login: go back to the terminal.")
		return
	}
	s.answers <- a
	select {
	case <-s.done:
	case <-r.Context().Done():
		return
	}
	s.mu.Lock()
	msg, failed := s.result, s.failed
	s.mu.Unlock()
	status := http.StatusOK
	if failed {
		status = http.StatusBadRequest
	}
	page(w, status, failed, msg)
}

// Wait returns the first answer that reaches the redirect URI, or an
// error when ctx ends first (the caller's --timeout or Ctrl-C).
func (s *CallbackServer) Wait(ctx context.Context) (*Answer, error) {
	select {
	case a := <-s.answers:
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Finish answers the browser that brought the answer: msg, as a success or
// a failure. Calling it again, or with no browser waiting, does nothing.
func (s *CallbackServer) Finish(msg string, failed bool) {
	s.once.Do(func() {
		s.mu.Lock()
		s.result, s.failed = msg, failed
		s.mu.Unlock()
		close(s.done)
	})
}

// Close stops the server, after giving the browser's request (if Finish
// has released it) a moment to get its page.
func (s *CallbackServer) Close() error {
	s.Finish("jwh stopped waiting for this login: go back to the terminal.", true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return nil
}

// pageTemplate is parsed on first use: a login is rare, and every jwh
// process would pay for parsing it at start-up (about 100 allocations).
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>jwh</title>
<style>body{font-family:system-ui,sans-serif;margin:4em auto;max-width:36em;color:#172b4d}
h1{font-size:1.4em}.fail{color:#ae2a19}.ok{color:#216e4e}</style></head>
<body><h1 class="{{if .Failed}}fail{{else}}ok{{end}}">{{if .Failed}}jwh: the login failed{{else}}jwh: logged in{{end}}</h1>
<p>{{.Message}}</p>{{if not .Failed}}<p>You can close this tab.</p>{{end}}</body></html>
`))
})

// page writes the answer page; msg is escaped.
func page(w http.ResponseWriter, status int, failed bool, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageTemplate().Execute(w, struct {
		Failed  bool
		Message string
	}{failed, msg})
}
