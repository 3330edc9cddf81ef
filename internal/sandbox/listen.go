package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultAddr is where Listen binds when given no address: loopback, on a
// port the system picks.
const DefaultAddr = "127.0.0.1:0"

// Running is a sandbox serving HTTP. Stop it with Close or Shutdown.
type Running struct {
	s       *Server
	srv     *http.Server
	url     string
	done    chan struct{}
	err     error         // from Serve, set before done is closed
	release chan struct{} // Server.release while this one listens
	once    sync.Once     // closes release
}

// Listen serves the sandbox over plain HTTP on addr ("" means DefaultAddr)
// until the returned Running is closed. A server listens on one address at
// a time. While it listens, Server.URL and Tenant.BaseURL give its URLs; a
// wildcard address (":0") is reported as 127.0.0.1.
func (s *Server) Listen(addr string) (*Running, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.url != "" {
		return nil, fmt.Errorf("sandbox: already listening at %s", s.url)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP
	if host.IsUnspecified() {
		host = net.IPv4(127, 0, 0, 1)
	}
	r := &Running{
		s:    s,
		url:  "http://" + net.JoinHostPort(host.String(), strconv.Itoa(tcp.Port)),
		done: make(chan struct{}),
		srv: &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
	}
	r.release = make(chan struct{})
	r.srv.RegisterOnShutdown(r.releaseHung)
	s.url, s.release = r.url, r.release
	if prev := s.addr; prev != tcp.String() {
		s.addr = tcp.String()
		if err := s.persistLocked(); err != nil {
			s.addr, s.url, s.release = prev, "", nil
			ln.Close()
			return nil, err
		}
	}
	go func() {
		if err := r.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			r.err = err
		}
		close(r.done)
	}()
	return r, nil
}

// URL returns the root URL, such as "http://127.0.0.1:41234".
func (r *Running) URL() string { return r.url }

// BaseURL returns the base URL of the named tenant, or "" when there is no
// such tenant.
func (r *Running) BaseURL(tenant string) string {
	t, ok := r.s.Tenant(tenant)
	if !ok {
		return ""
	}
	return r.url + t.basePath
}

// Close stops the server at once, dropping open connections (hung requests
// included), and cancels the deliveries still pending (see
// Server.CancelDeliveries).
func (r *Running) Close() error {
	r.s.CancelDeliveries()
	r.releaseHung()
	err := r.srv.Close()
	return r.finish(err)
}

// Shutdown stops the server gracefully: it stops accepting connections,
// drops the requests that Options.HangRate holds, and waits for the other
// requests in flight and the pending deliveries to finish, or for ctx to
// end, when it cancels what is left.
func (r *Running) Shutdown(ctx context.Context) error {
	err := r.srv.Shutdown(ctx)
	if err != nil {
		r.s.CancelDeliveries()
		r.srv.Close()
	} else if r.s.Drain(ctx) != nil {
		r.s.CancelDeliveries()
	}
	return r.finish(err)
}

// releaseHung ends the requests that Options.HangRate holds, dropping
// their connections.
func (r *Running) releaseHung() { r.once.Do(func() { close(r.release) }) }

func (r *Running) finish(err error) error {
	<-r.done
	r.s.mu.Lock()
	if r.s.url == r.url {
		r.s.url = ""
	}
	if r.s.release == r.release {
		r.s.release = nil
	}
	r.s.mu.Unlock()
	return errors.Join(err, r.err)
}
