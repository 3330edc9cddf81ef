package doctor

import (
	"errors"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
)

func TestNewCmdDoctor(t *testing.T) {
	cmdtest.Flags(t, NewCmdDoctor, []cmdtest.Case[Options]{
		{Args: "", Want: Options{}},
		{Args: "-t acme -o json", Want: Options{Tenant: "acme", JSON: true}},
		{Args: "--all-tenants", Want: Options{AllTenants: true}},
		{Args: "--all-tenants -t acme", WantErr: "specify either --tenant or --all-tenants, not both"},
		{Args: "acme", WantErr: `unexpected argument "acme" for "jwh doctor"`},
	})
}

// TestVerdict: warnings pass; a failed check is exit status 1, and a
// failed check of credentials 3, whatever else failed; the message names
// the failed checks by tenant.
func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		name    string
		results []Result
		code    int
		msg     string
	}{
		{"all pass", []Result{{Tenant: "a", Check: "config", Status: Pass}, {Tenant: "a", Check: "webhooks", Status: Warn}}, 0, ""},
		{"a failure", []Result{{Tenant: "a", Check: "clock", Status: Fail}, {Tenant: "a", Check: "webhooks", Status: Fail}},
			1, "2 checks failed: tenant a (clock, webhooks)"},
		{"credentials", []Result{{Tenant: "a", Check: "webhooks", Status: Fail}, {Tenant: "b", Check: "auth", Status: Fail, credentials: true}},
			3, "2 checks failed: tenant a (webhooks); tenant b (auth)"},
		{"no config", []Result{{Check: "config", Status: Fail}}, 1, "1 check failed: config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verdict(tc.results)
			if code := cmdutil.ExitCode(err); code != tc.code {
				t.Errorf("exit status %d, want %d (%v)", code, tc.code, err)
			}
			if err != nil && err.Error() != tc.msg {
				t.Errorf("message %q, want %q", err, tc.msg)
			}
			var ee *cmdutil.ExitError
			if errors.As(err, &ee) && ee.Err == nil {
				t.Error("a silent error: the message would not be printed")
			}
		})
	}
}
