package cmdutil

import (
	"context"
	"errors"

	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/oauth"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// ExitCode returns the exit status for an error of any package, following
// the command-line contract: 2 bad input, 3 credentials, 130 interrupted,
// 1 anything else. It is the one place that maps errors to exit statuses;
// app.Run calls it, and command tests use it to check what a user would see.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var exitErr *ExitError
	var flagErr *FlagError
	var apiErr *jira.APIError
	var urlErr *urlpolicy.Error
	var damagedErr *tenant.DamagedConfigError
	switch {
	case errors.As(err, &exitErr):
		return exitErr.Code
	case errors.As(err, &flagErr):
		return ExitInput
	case errors.Is(err, tenant.ErrNotFound), errors.Is(err, tenant.ErrNoTenants),
		errors.Is(err, tenant.ErrAmbiguous), errors.Is(err, tenant.ErrNoSecret),
		errors.Is(err, tenant.ErrKeyringDown):
		return ExitCredentials
	case errors.Is(err, oauth.ErrDenied), errors.Is(err, oauth.ErrLoginExpired),
		errors.Is(err, oauth.ErrClientRefused):
		return ExitCredentials
	case errors.Is(err, oauth.ErrStateMismatch), errors.Is(err, oauth.ErrBadAnswer),
		errors.Is(err, oauth.ErrNoAnswer), errors.Is(err, oauth.ErrRedirectURI),
		errors.Is(err, oauth.ErrSite):
		return ExitInput
	case errors.As(err, &apiErr) && apiErr.Credentials():
		return ExitCredentials
	case errors.As(err, &urlErr):
		return ExitInput
	case errors.As(err, &damagedErr):
		return ExitInput
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitFailure
}
