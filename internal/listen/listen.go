// Package listen receives Jira's webhook deliveries for a Connect app while
// its developer debugs: it checks each delivery as the app would
// (Connect JWT, HS256, exp/iat, qsh), refuses what is not a delivery,
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
	"sync/atomic"
	"time"
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
	// MaxForwardReplyShown is how much of the local app's reply a
	// Forwarded event carries.
	MaxForwardReplyShown = 4 << 10
	// maxForwardReply is how much of the local app's reply is relayed
	// to Jira.
	maxForwardReply = 1 << 20
	maxHeaderBytes  = 64 << 10
	// preallocBody is the largest declared body length that is allocated
	// before it is read; larger bodies grow as they arrive.
	preallocBody = 64 << 10
)

// Secrets finds the shared secret that Jira signs a tenant's deliveries
// with, by the JWT's iss claim: the tenant's client key.
type Secrets interface {
	// Lookup returns the name of the tenant whose client key is iss and
	// its shared secret. It is called for every delivery whose token is a
	// well-formed HS256 JWT, from many goroutines at once, so it must be
	// safe for that and fast once a tenant has been looked up.
	//
	// An iss that is not a tenant's client key is an error wrapping
	// ErrUnknownIssuer; the delivery is refused with check "iss" and the
	// error's text as its reason. Any other error (a keyring that cannot
	// be read) refuses it with check "secret" and the error's text.
	Lookup(iss string) (tenant string, secret []byte, err error)
}

// ErrUnknownIssuer is what Secrets.Lookup returns, wrapped or not, for a
// client key that is no tenant's.
var ErrUnknownIssuer = errors.New("unknown issuer")

// Config configures a Server. Only OnEvent is required, and Secrets unless
// NoVerify is set.
type Config struct {
	// Path is the path deliveries are accepted on (a trailing slash does
	// not matter); other paths get 404. Empty means "/".
	Path string
	// BasePath is the path of the app's base URL, which Jira computes the
	// qsh relative to. Empty means "/".
	BasePath string
	// Secrets finds the shared secret for a delivery's issuer.
	Secrets Secrets
	// NoVerify accepts every delivery without checking its JWT; the
	// deliveries are marked unverified.
	NoVerify bool
	// Leeway is the clock skew allowed on exp and iat; zero allows none.
	// The jwh command uses DefaultLeeway.
	Leeway time.Duration
	// MaxBody bounds a delivery body; larger ones get 413. Zero means
	// DefaultMaxBody.
	MaxBody int64
	// ForwardTo, when set, is where every accepted delivery is forwarded.
	// A URL with no path receives each delivery on the path (and query) it
	// arrived with; one with a path receives it there, with the
	// delivery's query when it has none of its own.
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
	// OnEvent receives every event. It is called from many goroutines at
	// once and must be safe for that; Jira is answered after it returns.
	OnEvent func(Event)
}

// Stats count what the listener has handled.
type Stats struct {
	Requests      int64 // every request
	Delivered     int64 // accepted deliveries (a *Delivery each)
	Duplicates    int64 // retries of accepted deliveries, answered 200
	Rejected      int64 // 401: a JWT check failed
	Invalid       int64 // 400, 404, 405, 413: not a delivery
	Forwarded     int64 // deliveries sent to the local app
	ForwardFailed int64 // of those, the ones the app did not answer with 2xx
	Errors        int64 // requests that could not be answered
}

// A Server receives deliveries. It is an http.Handler, so tests can call
// ServeHTTP directly; Serve runs it on a listener with timeouts and a
// clean shutdown.
type Server struct {
	cfg    Config
	path   string // Config.Path without its trailing slash ("" for /)
	now    func() time.Time
	seen   *seenCache
	client *http.Client // forwards deliveries; nil without ForwardTo

	served   atomic.Bool
	inflight atomic.Int64 // requests being handled

	requests, delivered, duplicates, rejected, invalid atomic.Int64
	forwarded, forwardFailed, errs                     atomic.Int64
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.OnEvent == nil {
		return nil, errors.New("listen: no OnEvent")
	}
	if !cfg.NoVerify && cfg.Secrets == nil {
		return nil, errors.New("listen: no Secrets to verify deliveries with (or set NoVerify)")
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
	s := &Server{
		cfg:  cfg,
		path: strings.TrimSuffix(cfg.Path, "/"),
		now:  cfg.Now,
		seen: newSeenCache(cfg.DedupSize),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if u := cfg.ForwardTo; u != nil {
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("listen: forward URL %q is not an http:// or https:// URL with a host", u)
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
		Forwarded:     s.forwarded.Load(),
		ForwardFailed: s.forwardFailed.Load(),
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
		// Long enough for a forwarded delivery and its reply.
		WriteTimeout:   s.cfg.ForwardTimeout + s.cfg.ReadTimeout,
		IdleTimeout:    s.cfg.IdleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       log.New(errorLogWriter{s}, "", 0),
	}
	var forwardTo string
	if s.cfg.ForwardTo != nil {
		forwardTo = s.cfg.ForwardTo.String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.cfg.OnEvent(&Ready{
		Addr:      ln.Addr(),
		URL:       "http://" + localAddr(ln.Addr()) + s.cfg.Path,
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
