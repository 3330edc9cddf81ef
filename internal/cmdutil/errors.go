// Package cmdutil holds what every command shares: the Factory of
// dependencies, the error kinds that decide exit statuses, and flag helpers.
package cmdutil

import (
	"errors"
	"fmt"
	"strings"
)

// Exit statuses of the command-line contract.
const (
	ExitOK          = 0
	ExitFailure     = 1   // the operation failed
	ExitInput       = 2   // bad input; nothing was sent
	ExitCredentials = 3   // no such tenant, no secret, or 401/403
	ExitInterrupted = 130 // interrupted
)

// ExitError is an error with the exit status it calls for. An ExitError
// with a nil Err prints nothing: the command has already said what happened.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// FlagError is a usage error: the message is followed by a pointer to the
// command's help. Exit status 2.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }

func (e *FlagError) Unwrap() error { return e.Err }

// UsageErrorf returns a *FlagError.
func UsageErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// InputError marks err as bad input (exit 2): an invalid filter, event, URL
// or file, found before anything was sent.
func InputError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitInput, Err: err}
}

// InputErrorf is InputError(fmt.Errorf(...)).
func InputErrorf(format string, args ...any) error {
	return InputError(fmt.Errorf(format, args...))
}

// CredentialsError marks err as a credentials problem (exit 3).
func CredentialsError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitCredentials, Err: err}
}

// CredentialsErrorf is CredentialsError(fmt.Errorf(...)).
func CredentialsErrorf(format string, args ...any) error {
	return CredentialsError(fmt.Errorf(format, args...))
}

// SilentExit fails the command with the given status and prints nothing.
func SilentExit(code int) error { return &ExitError{Code: code} }

// IsSilent reports whether err should not be printed.
func IsSilent(err error) bool {
	var e *ExitError
	return errors.As(err, &e) && e.Err == nil
}

// MultiError is the failure of a command that found several problems at
// once, such as the local checks of jwh register or the tenants that
// extend --all-tenants --quiet could not extend. app.Run prints each
// problem on its own line starting with "jwh: " (the further lines of a
// problem, such as a filter with a caret under it, follow as they are);
// with -o json they make one message, a line each. Its exit status is 1
// unless it is wrapped, as by InputError; the problems' own statuses do not
// count.
type MultiError struct {
	Errs []error
}

func (e *MultiError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

// InputProblems returns the problems that a local check found before
// anything was sent, one message each, as an input error (exit status 2)
// holding a MultiError: app.Run prints each message on its own line
// starting with "jwh: ".
func InputProblems(msgs []string) error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = errors.New(m)
	}
	return InputError(&MultiError{Errs: errs})
}

// Messages returns the problems of err, each a message to print after
// "jwh: ": those of a MultiError, or err's own message.
func Messages(err error) []string {
	var me *MultiError
	if errors.As(err, &me) && err.Error() == me.Error() {
		msgs := make([]string, len(me.Errs))
		for i, e := range me.Errs {
			msgs[i] = e.Error()
		}
		return msgs
	}
	return []string{err.Error()}
}

// The kinds of error, as the -o json error object names them.
const (
	KindUsage       = "usage"       // exit status 2: the command line is wrong
	KindInput       = "input"       // exit status 2: a filter, event, URL or file is wrong
	KindCredentials = "credentials" // exit status 3
	KindFailure     = "failure"     // exit status 1
	KindInterrupted = "interrupted" // exit status 130
)

// Kind returns the kind of err, following its exit status (ExitCode).
func Kind(err error) string {
	switch ExitCode(err) {
	case ExitInput:
		var fe *FlagError
		if errors.As(err, &fe) {
			return KindUsage
		}
		return KindInput
	case ExitCredentials:
		return KindCredentials
	case ExitInterrupted:
		return KindInterrupted
	}
	return KindFailure
}
