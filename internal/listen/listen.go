// Package listen receives Jira's webhook deliveries for a Connect app or an
// OAuth 2.0 app while its developer debugs: it checks each delivery as the
// app would (a Connect JWT: HS256, exp/iat, qsh; or the Bearer JWT of an
// OAuth 2.0 app's delivery: HS256 with the client secret, exp/iat when
// present), refuses what is not a delivery,
// recognises Jira's retries by their identifier, and can forward each
// delivery, byte for byte, to the app running locally.
//
// The package owns the HTTP handling and reports what happens as typed
// events (*Ready, *Delivery, *Rejected, *Duplicate, *Forwarded, *Error)
// to a callback; printing them is the caller's business. Bodies are kept
// as the bytes received and never re-encoded, so what is printed or
// forwarded is what Jira signed and sent.
package listen

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// Headers Jira sets on every delivery.
const (
	HeaderIdentifier = "X-Atlassian-Webhook-Identifier"
	HeaderRetry      = "X-Atlassian-Webhook-Retry"
)

// Defaults of Config.
const (
	DefaultLeeway            = 30 * time.Second
	DefaultMaxBody           = 10 << 20
	DefaultForwardTimeout    = 20 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownTimeout   = 2 * time.Second
	// DefaultMaxInflight is the body budget: at the default MaxBody, six
	// bodies of the largest declared size, or three of unknown length,
	// are read at once.
	DefaultMaxInflight = 64 << 20
	// DefaultMaxConns bounds the connections open at once: far more
	// than a tunnel keeps open to the listener.
	DefaultMaxConns = 256
	// MaxForwardReplyShown is how much of the local app's reply a
	// Forwarded event carries.
	MaxForwardReplyShown = 4 << 10
	// maxForwardReply is how much of the local app's reply is relayed
	// to Jira.
	maxForwardReply = 1 << 20
	maxHeaderBytes  = 64 << 10
)

// Peak memory is bounded whatever senders do, because everything that
// grows with requests is capped:
//
//   - Bodies are read only once the request line and the headers have
//     passed every check (path, method, JWT, declared length), and only
//     within the body budget (MaxInflight): a declared length counts as
//     itself, a body of unknown length as twice MaxBody while it is read
//     (a growing buffer is briefly held twice), then as the buffer kept.
//     The bytes are given back once the delivery has been answered,
//     forwarding included.
//   - A connection holds at most the headers being read (MaxHeaderBytes,
//     64 KiB), net/http's buffers (4 KiB each way) and a goroutine's
//     stack; at most MaxConns connections are open, and slow or idle ones
//     are closed after ReadHeaderTimeout, ReadTimeout or IdleTimeout.
//   - The de-duplication cache has a fixed number of entries (dedup.go).
//
// So by default: 64 MiB of bodies, about 256 × 100 KiB for connections
// and at most 8 MB of identifiers, plus the garbage the collector lets
// accumulate between cycles (GOGC). The replies of the local app that
// deliveries are forwarded to (at most 1 MiB each) are not counted: the
// app is the developer's own.

// Secrets finds the shared secret that Jira signs a tenant's deliveries
// with, by the JWT's iss claim: the tenant's client key.
type Secrets interface {
	// Lookup returns the name of the tenant whose client key is iss and
	// its shared secret. It is called for every delivery whose token is a
	// well-formed HS256 JWT, from many goroutines at once, so it must be
	// safe for that and fast once a tenant has been looked up.
	//
	// An iss that is not a tenant's client key is an error wrapping
	// ErrUnknownIssuer; the delivery is refused with 401, check "iss" and
	// the error's text as its reason. A secret that exists but cannot be
	// read now (a keyring that is locked, down or slow) is an error
	// wrapping ErrSecretUnavailable: the delivery is answered 503 with
	// Retry-After, which Jira retries, and reported with check "secret".
	// Any other error (no secret stored for the tenant) is a 401 with
	// check "secret"; its text should say how to fix it.
	Lookup(iss string) (tenant string, secret []byte, err error)
}

// noConnectTenants is the Secrets of a listener that verifies the
// deliveries of OAuth 2.0 tenants only.
type noConnectTenants struct{}

func (noConnectTenants) Lookup(iss string) (string, []byte, error) {
	return "", nil, fmt.Errorf("%w %q: a Connect JWT, but no Connect tenant is listened for", ErrUnknownIssuer, iss)
}

// ErrUnknownIssuer is what Secrets.Lookup returns, wrapped or not, for a
// client key that is no tenant's.
var ErrUnknownIssuer = errors.New("unknown issuer")

// ErrSecretUnavailable is what Secrets.Lookup returns, wrapped or not, for
// a tenant whose secret exists but cannot be read now.
var ErrSecretUnavailable = errors.New("shared secret unavailable")

// Config configures a Server. Only OnEvent is required, and Secrets unless
// NoVerify is set.
type Config struct {
	// Path is the path deliveries are accepted on (a trailing slash does
	// not matter); other paths get 404. Empty means "/".
	Path string
	// BasePath is the path of the app's base URL, which Jira computes the
	// qsh relative to. Empty means "/".
	BasePath string
	// Secrets finds the shared secret for a Connect delivery's issuer.
	// Nil with OAuth set: Connect deliveries are refused, as no tenant
	// can verify them.
	Secrets Secrets
	// OAuth finds the client secrets of the OAuth 2.0 tenants, with which
	// deliveries that carry "Authorization: Bearer" are verified (see
	// OAuthSecrets). Nil: they are refused, as no tenant can verify them.
	OAuth OAuthSecrets
	// NoVerify accepts every delivery without checking its JWT; the
	// deliveries are marked unverified.
	NoVerify bool
	// ShowClaims gives the Delivery, Duplicate and Rejected events the
	// header and claims of the request's token (their Token).
	ShowClaims bool
	// Leeway is the clock skew allowed on exp and iat; zero allows none.
	// The jwh command uses DefaultLeeway.
	Leeway time.Duration
	// MaxBody bounds a delivery body; larger ones get 413. Zero means
	// DefaultMaxBody.
	MaxBody int64
	// MaxInflight bounds the bytes of the bodies being read and handled
	// at once (see the comment on peak memory in listen.go). A body that
	// finds no room within half of ReadTimeout is answered 503 with
	// Retry-After. Zero means DefaultMaxInflight; a smaller value than
	// twice MaxBody is raised to it, so that a body of unknown length at
	// the limit can always be read.
	MaxInflight int64
	// MaxConns bounds the connections open at once; more wait to be
	// accepted. Zero means DefaultMaxConns.
	MaxConns int
	// ForwardTo, when set, is where every accepted delivery is forwarded.
	// A URL with no path receives each delivery on the path (and query) it
	// arrived with; one with a path receives it there, with the
	// delivery's query when it has none of its own. It must pass
	// urlpolicy.ParseTargetURL (http or https, a host, no user information
	// or fragment).
	ForwardTo *url.URL
	// ForwardTimeout bounds one forwarded delivery, reply included. Zero
	// means DefaultForwardTimeout.
	ForwardTimeout time.Duration
	// DedupSize is how many delivery identifiers are remembered. Zero
	// means DefaultDedupSize.
	DedupSize int
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout bound slow clients
	// (see http.Server). Zero means the Default* values.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	// ShutdownTimeout bounds Serve's return after its context is done.
	// Zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Respond answers deliveries with a status of the developer's
	// choosing (jwh listen --respond, --fail-first, --delay).
	Respond Respond
	// OnEvent receives every event. It is called from many goroutines at
	// once and must be safe for that; Jira is answered after it returns.
	OnEvent func(Event)
	// OnRecord, when set, receives the Record of every request the
	// server answers (refusals included), just before the answer is
	// written: a history written there holds every delivery Jira was
	// told had arrived. It is called from many goroutines at once and
	// must be safe for that. The Record is valid only during the call.
	OnRecord func(*Record)
}

// WriteTimeout is how long the server has to answer a request once its
// headers have been read: long enough for a forwarded delivery and its
// reply. Respond.Delay must be shorter. It reads the timeouts of c as New
// will default them.
func (c *Config) WriteTimeout() time.Duration {
	forward, read := c.ForwardTimeout, c.ReadTimeout
	if forward <= 0 {
		forward = DefaultForwardTimeout
	}
	if read <= 0 {
		read = DefaultReadTimeout
	}
	return forward + read
}

// Stats count what the listener has handled.
type Stats struct {
	Requests      int64 // every request
	Delivered     int64 // accepted deliveries (a *Delivery each)
	Duplicates    int64 // retries of accepted deliveries, answered 200
	Rejected      int64 // 401: a JWT check failed
	Invalid       int64 // 400, 404, 405, 413: not a delivery
	Unavailable   int64 // 503: the secret could not be read, or no room for the body
	Forwarded     int64 // deliveries sent to the local app
	ForwardFailed int64 // of those, the ones the app did not answer with 2xx
	Injected      int64 // deliveries answered by Config.Respond (counted in Delivered too)
	Errors        int64 // requests whose body could not be read, and server errors
}

// A Server receives deliveries. It is an http.Handler, so tests can call
// ServeHTTP directly; Serve runs it on a listener with timeouts and a
// clean shutdown.
type Server struct {
	cfg      Config
	path     string // Config.Path without its trailing slash ("" for /)
	now      func() time.Time
	seen     *seenCache
	attempts *attempts    // deliveries per identifier, for Respond.FailFirst
	bodies   *budget      // the bytes of bodies held at once: MaxInflight
	keys     keyCache     // the secrets' connectjwt.Keys
	client   *http.Client // forwards deliveries; nil without ForwardTo
	// base is the listener's base URL, http://ADDR, for Record.Listener;
	// set by Serve before it accepts connections.
	base string
	seq  atomic.Int64 // the last Record.Seq

	served   atomic.Bool
	inflight atomic.Int64 // requests being handled

	requests, delivered, duplicates, rejected, invalid atomic.Int64
	unavailable, forwarded, forwardFailed, injected    atomic.Int64
	errs                                               atomic.Int64
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.OnEvent == nil {
		return nil, errors.New("listen: no OnEvent")
	}
	if !cfg.NoVerify && cfg.Secrets == nil && cfg.OAuth == nil {
		return nil, errors.New("listen: no Secrets to verify deliveries with (or set NoVerify)")
	}
	if !cfg.NoVerify && cfg.Secrets == nil {
		cfg.Secrets = noConnectTenants{}
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if !strings.HasPrefix(cfg.Path, "/") {
		return nil, fmt.Errorf("listen: path %q does not start with /", cfg.Path)
	}
	if cfg.BasePath == "" {
		cfg.BasePath = "/"
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("listen: negative leeway %s", cfg.Leeway)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	cfg.MaxInflight = max(cfg.MaxInflight, 2*cfg.MaxBody)
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.ForwardTimeout <= 0 {
		cfg.ForwardTimeout = DefaultForwardTimeout
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if err := cfg.Respond.check(cfg.WriteTimeout()); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		path:   strings.TrimSuffix(cfg.Path, "/"),
		now:    cfg.Now,
		seen:   newSeenCache(cfg.DedupSize),
		bodies: &budget{size: cfg.MaxInflight},
	}
	if cfg.Respond.FailFirst > 0 {
		s.attempts = newAttempts(cfg.DedupSize)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if u := cfg.ForwardTo; u != nil {
		if _, err := urlpolicy.ParseTargetURL(u.String()); err != nil {
			return nil, fmt.Errorf("listen: forward URL: %w", err)
		}
		s.client = newForwardClient(cfg.ForwardTimeout)
	}
	return s, nil
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	return Stats{
		Requests:      s.requests.Load(),
		Delivered:     s.delivered.Load(),
		Duplicates:    s.duplicates.Load(),
		Rejected:      s.rejected.Load(),
		Invalid:       s.invalid.Load(),
		Unavailable:   s.unavailable.Load(),
		Forwarded:     s.forwarded.Load(),
		ForwardFailed: s.forwardFailed.Load(),
		Injected:      s.injected.Load(),
		Errors:        s.errs.Load(),
	}
}

// Serve accepts deliveries on ln until ctx is done, then shuts down: it
// stops accepting, lets the requests in progress finish, and returns
// within ShutdownTimeout, closing whatever is left. It sends *Ready once,
// after which ln accepts connections. A clean shutdown returns nil. Serve
// closes ln and may be called only once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.served.CompareAndSwap(false, true) {
		ln.Close()
		return errors.New("listen: Serve called twice")
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout(),
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(errorLogWriter{s}, "", 0),
	}
	var forwardTo string
	if s.cfg.ForwardTo != nil {
		forwardTo = s.cfg.ForwardTo.String()
	}
	s.base = "http://" + localAddr(ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(newLimitListener(ln, s.cfg.MaxConns)) }()
	s.cfg.OnEvent(&Ready{
		Addr:      ln.Addr(),
		URL:       s.base + s.cfg.Path,
		Path:      s.cfg.Path,
		BasePath:  s.cfg.BasePath,
		Verify:    !s.cfg.NoVerify,
		Loopback:  isLoopback(ln.Addr()),
		ForwardTo: forwardTo,
	})
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	deadline := time.Now().Add(s.cfg.ShutdownTimeout)
	// Leave a little of the time for closing what Shutdown could not.
	sctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-s.cfg.ShutdownTimeout/5))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	// Handlers still running after Close (a forward cut short) finish
	// quickly; wait for them so that Stats are final, within the bound.
	for s.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// localAddr is how a tunnel on this machine reaches a: a itself, or
// 127.0.0.1 and its port when a is every address (0.0.0.0, [::]).
func localAddr(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
	}
	return a.String()
}

// isLoopback reports whether a is a loopback address (127.0.0.0/8, ::1)
// or a Unix socket, neither of which another machine can reach.
func isLoopback(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

// errorLogWriter turns the HTTP server's log lines into *Error events.
type errorLogWriter struct{ s *Server }

func (w errorLogWriter) Write(p []byte) (int, error) {
	w.s.errs.Add(1)
	w.s.cfg.OnEvent(&Error{Time: w.s.now(), Err: errors.New(strings.TrimSpace(string(p)))})
	return len(p), nil
}

// limitListener accepts at most n connections open at once: Accept waits
// until one of them is closed (as golang.org/x/net/netutil.LimitListener).
type limitListener struct {
	net.Listener
	slots     chan struct{} // one per open connection
	closed    chan struct{} // closed by Close, to end a waiting Accept
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, free: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn frees its slot when it is first closed.
type limitConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}

// CloseWrite half-closes the connection, as net/http does before it
// closes one whose request body it did not read.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
