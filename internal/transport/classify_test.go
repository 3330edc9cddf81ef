package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	opErr := func(op string, err error) error {
		return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, err)}
	}
	for _, tc := range []struct {
		name string
		err  error
		want failure
	}{
		{"EOF", io.EOF, failClosed},
		{"EOF wrapped", fmt.Errorf("net/http: Transport failed to read from server: %w", io.EOF), failClosed},
		{"unexpected EOF", io.ErrUnexpectedEOF, failClosed},
		{"reset", opErr("read", syscall.ECONNRESET), failClosed},
		{"broken pipe", opErr("write", syscall.EPIPE), failClosed},
		{"refused", opErr("dial", syscall.ECONNREFUSED), failRefused},
		{"attempt timeout", &TimeoutError{After: time.Second}, failTimeout},
		{"overall timeout", &TimeoutError{After: time.Minute, Overall: true}, failOverall},
		{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}, failTimeout},
		{"DNS not found", &net.DNSError{Err: "no such host", Name: "acme.invalid", IsNotFound: true}, failDNS},
		{"DNS timeout", &net.DNSError{Err: "i/o timeout", Name: "acme.example", IsTimeout: true}, failDNS},
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, failTLS},
		{"wrong host", x509.HostnameError{Host: "acme.example"}, failTLS},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, failTLS},
		{"alert", &net.OpError{Op: "remote error", Err: tls.AlertError(40)}, failTLS},
		{"canceled", context.Canceled, failCanceled},
		{"caller's deadline", context.DeadlineExceeded, failCanceled},
		{"other", errors.New("net/http: HTTP/1.x transport connection broken: malformed HTTP response"), failOther},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("%s: classify(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestRetryableError(t *testing.T) {
	closed := io.EOF
	refused := &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	timeout := &TimeoutError{After: time.Second}
	dnsGone := &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}
	dnsSlow := &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}
	tlsErr := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	for _, tc := range []struct {
		err    error
		method string
		sent   bool
		want   bool
	}{
		{closed, "GET", true, true},
		{closed, "HEAD", true, true},
		{closed, "OPTIONS", true, true},
		{closed, "PUT", true, true},
		{closed, "DELETE", true, true},
		{closed, "POST", true, false},
		{closed, "PATCH", true, false},
		{closed, "POST", false, true}, // e.g. reset during the TLS handshake
		{refused, "POST", false, true},
		{refused, "GET", false, true},
		{timeout, "GET", true, true},
		{timeout, "POST", true, false},
		{timeout, "POST", false, true}, // the dial ran out of time
		{dnsSlow, "POST", false, true},
		{dnsGone, "GET", false, false},
		{tlsErr, "GET", false, false},
		{&TimeoutError{After: time.Minute, Overall: true}, "GET", true, false},
		{context.Canceled, "GET", true, false},
		{errors.New("malformed HTTP response"), "GET", true, false},
	} {
		if got := retryableError(tc.err, tc.method, tc.sent); got != tc.want {
			t.Errorf("retryableError(%v, %s, sent=%v) = %v, want %v", tc.err, tc.method, tc.sent, got, tc.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	const u = "https://acme.atlassian.net/rest/api/2/webhook"
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Method: "GET", URL: u, Attempts: 3, Elapsed: 7012 * time.Millisecond, Sent: true, Err: io.EOF},
			"Jira closed the connection (3 attempts over 7s); check the network or try again"},
		{Error{Method: "GET", URL: u, Attempts: 4, Elapsed: 2*time.Minute + 300*time.Millisecond, Err: &TimeoutError{After: 30 * time.Second}},
			"Jira did not answer within 30s (4 attempts over 2m0s); check the network or try again later"},
		{Error{Method: "PUT", URL: u, Attempts: 2, Elapsed: 2 * time.Minute, Err: &TimeoutError{After: 2 * time.Minute, Overall: true}},
			"Jira gave no usable answer within 2m0s, retries included (2 attempts over 2m0s); try again later"},
		{Error{Method: "GET", URL: "http://127.0.0.1:9/x", Attempts: 4, Elapsed: 1750 * time.Millisecond,
			Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}},
			"Jira at 127.0.0.1:9 refused the connection (4 attempts over 1.8s); check the tenant's base URL, or try again later"},
		{Error{Method: "GET", URL: u, Attempts: 1, Err: &net.DNSError{Err: "no such host", Name: "acme.atlassian.net", IsNotFound: true}},
			"acme.atlassian.net could not be found in DNS (1 attempt); check the tenant's base URL and the network"},
		{Error{Method: "GET", URL: u, Attempts: 1, Elapsed: 40 * time.Millisecond, Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}},
			"the TLS connection to acme.atlassian.net failed (tls: failed to verify certificate: x509: certificate signed by unknown authority) (1 attempt); check the tenant's base URL and this machine's trusted certificates"},
		{Error{Method: "POST", URL: u, Attempts: 1, Elapsed: 2 * time.Second, Sent: true, Err: io.EOF},
			"Jira closed the connection (1 attempt); the POST may have reached Jira, so it was not repeated: check before sending it again"},
		{Error{Method: "GET", URL: u, Attempts: 2, Err: io.EOF},
			"Jira closed the connection (2 attempts); check the network or try again"},
		{Error{Method: "GET", URL: u, Attempts: 1, Err: context.Canceled},
			"the request was stopped: context canceled"},
		{Error{Method: "GET", URL: u, Err: errors.New("redirect to https://evil.example/ refused")},
			"GET " + u + ": redirect to https://evil.example/ refused"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("error\n got %q\nwant %q", got, tc.want)
		}
	}
}
