package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jwh-cli/jwh/internal/jira"
)

func TestKindAndMessages(t *testing.T) {
	for _, tc := range []struct {
		err  error
		kind string
	}{
		{&FlagError{Err: errors.New("unknown flag")}, KindUsage},
		{InputErrorf("bad JQL"), KindInput},
		{CredentialsErrorf("no secret"), KindCredentials},
		{fmt.Errorf("list: %w", &jira.APIError{Status: 403}), KindCredentials},
		{fmt.Errorf("get: %w", context.Canceled), KindInterrupted},
		{errors.New("boom"), KindFailure},
	} {
		if got := Kind(tc.err); got != tc.kind {
			t.Errorf("Kind(%v) = %s, want %s", tc.err, got, tc.kind)
		}
	}

	// A MultiError is a line each, exit status 1 whatever its problems
	// are, unless it is wrapped.
	me := &MultiError{Errs: []error{CredentialsErrorf("tenant a: no secret"), errors.New("tenant b: 401\n  detail")}}
	if got := Messages(me); len(got) != 2 || got[0] != "tenant a: no secret" || got[1] != "tenant b: 401\n  detail" {
		t.Errorf("Messages = %q", got)
	}
	if me.Error() != "tenant a: no secret\ntenant b: 401\n  detail" || ExitCode(me) != ExitFailure {
		t.Errorf("%q: exit %d", me.Error(), ExitCode(me))
	}
	if in := InputError(me); ExitCode(in) != ExitInput || len(Messages(in)) != 2 || Kind(in) != KindInput {
		t.Errorf("wrapped by InputError: exit %d, %q", ExitCode(in), Messages(in))
	}
	// Context added around it makes it one message again.
	if got := Messages(fmt.Errorf("extend: %w", me)); len(got) != 1 {
		t.Errorf("wrapped with context: %q", got)
	}
}
