package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/lockedfile"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain", errors.New("boom"), 1},
		{"flag", &FlagError{Err: errors.New("unknown flag")}, 2},
		{"input", InputErrorf("bad JQL"), 2},
		{"credentials", CredentialsErrorf("no secret"), 3},
		{"silent", SilentExit(3), 3},
		{"no tenant", fmt.Errorf("select: %w", tenant.ErrNotFound), 3},
		{"no tenants", tenant.ErrNoTenants, 3},
		{"ambiguous", tenant.ErrAmbiguous, 3},
		{"no secret", tenant.ErrNoSecret, 3},
		{"keyring down", fmt.Errorf("x: %w", tenant.ErrKeyringDown), 3},
		{"jira 401", fmt.Errorf("list: %w", &jira.APIError{Status: 401}), 3},
		{"jira 403", &jira.APIError{Status: 403}, 3},
		{"jira 400", &jira.APIError{Status: 400}, 1},
		{"jira 503", &jira.APIError{Status: 503}, 1},
		{"insecure URL", &urlpolicy.Error{Role: urlpolicy.RoleRequest, URL: "http://example.com", Reason: "plain http"}, 2},
		{"malformed URL", fmt.Errorf("x: %w", &urlpolicy.Error{Role: urlpolicy.RoleBase, URL: "ftp://x", Reason: "scheme"}), 2},
		{"a request refused by the transport", &transport.Error{Method: "GET", Err: &urlpolicy.Error{Role: urlpolicy.RoleRequest}}, 2},
		{"canceled", fmt.Errorf("get: %w", context.Canceled), 130},
		{"damaged config", &tenant.DamagedConfigError{Path: "/c.json", Reason: "unexpected end of JSON input"}, 2},
		{"config locked by another jwh", &lockedfile.TimeoutError{Path: "/c.json", LockPath: "/c.json.lock", Waited: lockedfile.DefaultWait}, 1},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("%s: ExitCode(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}
