package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Error is a request that got no usable answer: the network failed, an
// attempt or the whole exchange ran out of time, or the caller gave up.
//
// Its text is for the person who reads it: what happened, how many attempts
// over how long, and what to do, as in
//
//	Jira closed the connection (3 attempts over 7s); check the network or try again
//
// The request itself is in Method and URL (and in the --debug dump), not in
// the text, except for failures this package cannot put in words.
type Error struct {
	Method string
	URL    string // credentials in the query redacted (RedactURL)
	// Peer names the server for people ("Atlassian's OAuth server");
	// "" means "Jira".
	Peer string
	// Attempts is how many times the request was tried; 0 when the error
	// did not come from this package's client (a refused redirect).
	Attempts int
	// Elapsed is the time from the start of the first attempt until the
	// request was given up, waits between attempts included.
	Elapsed time.Duration
	// Sent reports that the last attempt got a connection, so the request
	// may have reached Jira, in part or whole, even though no answer came
	// back. A POST is never repeated once Sent: see the package comment.
	Sent bool
	// Err is the cause: a *TimeoutError, a net or TLS error, io.EOF, the
	// caller's context error, ...
	Err error
}

func (e *Error) Error() string {
	what, todo := e.words()
	if todo == "" {
		return what
	}
	return what + "; " + todo
}

// What says what happened, with the attempts, and not what to do: "Jira
// closed the connection (3 attempts over 7s)".
func (e *Error) What() string {
	what, _ := e.words()
	return what
}

// words returns what happened, with the attempts, and what to do.
func (e *Error) words() (what, todo string) {
	host := e.host()
	peer := e.Peer
	if peer == "" {
		peer = "Jira"
	}
	switch classify(e.Err) {
	case failCanceled:
		return "the request was stopped: " + e.Err.Error(), ""
	case failOverall:
		what = peer + " gave no usable answer in time"
		var te *TimeoutError
		if errors.As(e.Err, &te) {
			what = peer + " gave no usable answer within " + roundDuration(te.After).String() + ", retries included"
		}
		todo = "try again later"
	case failTimeout:
		what = peer + " did not answer in time"
		var te *TimeoutError
		if errors.As(e.Err, &te) {
			what = peer + " did not answer within " + roundDuration(te.After).String()
		}
		todo = "check the network or try again later"
	case failClosed:
		what = peer + " closed the connection"
		todo = "check the network or try again"
	case failRefused:
		what = peer + " at " + host + " refused the connection"
		todo = "check the tenant's base URL, or try again later"
	case failDNS:
		what = host + " could not be found in DNS"
		todo = "check the tenant's base URL and the network"
	case failTLS:
		what = "the TLS connection to " + host + " failed (" + e.Err.Error() + ")"
		todo = "check the tenant's base URL and this machine's trusted certificates"
	default:
		return e.Method + " " + e.URL + ": " + e.Err.Error(), ""
	}
	if e.Sent && !idempotent(e.Method) {
		todo = "the " + e.Method + " may have reached " + peer + ", so it was not repeated: check before sending it again"
	}
	return what + e.tries(), todo
}

func (e *Error) Unwrap() error { return e.Err }

// tries says " (3 attempts over 7s)" or " (1 attempt)", or "" when nothing
// is known. One attempt's time is not given: the text says it otherwise
// ("within 30s"), or it is too short to matter.
func (e *Error) tries() string {
	switch elapsed := roundDuration(e.Elapsed); {
	case e.Attempts <= 0:
		return ""
	case e.Attempts == 1:
		return " (1 attempt)"
	case elapsed <= 0:
		return " (" + strconv.Itoa(e.Attempts) + " attempts)"
	default:
		return " (" + strconv.Itoa(e.Attempts) + " attempts over " + elapsed.String() + ")"
	}
}

// host returns the host (and port, if the URL has one) of the request.
func (e *Error) host() string {
	if u, err := url.Parse(e.URL); err == nil && u.Host != "" {
		return u.Host
	}
	return "the server"
}

// TimeoutError says that an attempt, or the whole exchange with its
// retries, ran out of time.
type TimeoutError struct {
	After   time.Duration // the bound that ran out
	Overall bool          // the overall bound, not one attempt's
}

func (e *TimeoutError) Error() string {
	if e.Overall {
		return fmt.Sprintf("no usable answer within %s, retries included", e.After)
	}
	return fmt.Sprintf("no answer within %s", e.After)
}

// Timeout reports true, as net.Error does for timeouts.
func (e *TimeoutError) Timeout() bool { return true }

// failure is what kind of network failure an error is.
type failure int

const (
	failOther    failure = iota
	failCanceled         // the caller's context ended
	failOverall          // the overall bound ran out
	failTimeout          // one attempt ran out of time (ours, or a dial or TLS handshake timeout)
	failClosed           // the connection was closed or reset: EOF, unexpected EOF, ECONNRESET, EPIPE
	failRefused          // nothing listens at the address
	failDNS              // the host name could not be resolved
	failTLS              // the TLS handshake or the server's certificate failed
)

// classify says what kind of failure err is.
func classify(err error) failure {
	var (
		te      *TimeoutError
		dnsErr  *net.DNSError
		errno   syscall.Errno
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
		unknown x509.UnknownAuthorityError
		badHost x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	switch {
	case err == nil:
		return failOther
	case errors.As(err, &te):
		if te.Overall {
			return failOverall
		}
		return failTimeout
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return failCanceled
	case errors.As(err, &dnsErr):
		return failDNS
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alert),
		errors.As(err, &unknown), errors.As(err, &badHost), errors.As(err, &invalid):
		return failTLS
	case errors.As(err, &errno) && isRefused(errno):
		return failRefused
	case errors.As(err, &errno) && isReset(errno):
		return failClosed
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return failClosed
	case errors.As(err, &netErr) && netErr.Timeout():
		return failTimeout
	}
	return failOther
}

// retryableError reports whether a request whose attempt failed with err
// may be sent again: the failure must be transient, and a request that is
// not idempotent must not have got a connection (sent).
func retryableError(err error, method string, sent bool) bool {
	return transient(err) && (!sent || idempotent(method))
}

// transient reports whether a failure on the way can pass by itself: a
// closed or refused connection, a timeout, a DNS server that did not
// answer. A host name that does not exist or a TLS failure does not.
func transient(err error) bool {
	switch classify(err) {
	case failClosed, failRefused, failTimeout:
		return true
	case failDNS:
		var dnsErr *net.DNSError
		return errors.As(err, &dnsErr) && (dnsErr.IsTimeout || dnsErr.IsTemporary)
	}
	return false
}

// idempotent reports whether sending a request with this method twice has
// the effect of sending it once: GET, HEAD, OPTIONS and TRACE read; PUT (the
// refresh) and DELETE (by ids) end in the same state however often they
// are sent.
func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// roundDuration rounds d for a person: to the millisecond below a second,
// to a tenth of a second below ten seconds, else to the second.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
