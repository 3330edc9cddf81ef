package oauth

import "errors"

// The kinds of failure of a login or a refresh. Every error of this
// package that is one of them is an *Error that matches the sentinel with
// errors.Is; the command layer maps them to exit statuses: ErrDenied,
// ErrLoginExpired and ErrClientRefused are credentials problems (3), the
// others bad input (2).
var (
	// ErrDenied: the user refused consent (error=access_denied).
	ErrDenied = errors.New("access denied")
	// ErrLoginExpired: the refresh token was refused (invalid_grant), or
	// there is none and the access token has expired.
	ErrLoginExpired = errors.New("login expired or revoked")
	// ErrClientRefused: the authorization server refused the client id
	// or secret (invalid_client, unauthorized_client), or the code.
	ErrClientRefused = errors.New("client refused")
	// ErrStateMismatch: the answer does not belong to this login (CSRF).
	ErrStateMismatch = errors.New("state mismatch")
	// ErrBadAnswer: the pasted address or the callback is not an answer
	// of the authorization server for this redirect URI.
	ErrBadAnswer = errors.New("not an authorization answer")
	// ErrNoAnswer: the browser never came back, or no address was
	// pasted, within the login's --timeout: as when the authorization
	// server refuses the redirect URI, which it says in the browser only.
	// (Ctrl-C is context.Canceled, as for every command.)
	ErrNoAnswer = errors.New("no answer from the browser")
	// ErrRedirectURI: the redirect URI is not one jwh can receive, or
	// its port is taken.
	ErrRedirectURI = errors.New("unusable redirect URI")
	// ErrSite: the login covers no site, or several and none was chosen,
	// or not the one chosen.
	ErrSite = errors.New("no site chosen")
)

// Error is a failure of this package in words for people: one line that
// says what to do. It matches its Kind with errors.Is.
type Error struct {
	Kind   error  // one of the sentinels above, or nil
	Tenant string // the tenant it is about, or ""
	Msg    string
	Err    error // the cause, if any
}

func (e *Error) Error() string { return e.Msg }

// Is reports whether target is e's Kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }

func (e *Error) Unwrap() error { return e.Err }

// TenantName returns the tenant the message names, so that a caller does
// not name it twice.
func (e *Error) TenantName() string { return e.Tenant }
