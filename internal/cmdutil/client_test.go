package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

func TestOnTenant(t *testing.T) {
	network := &transport.Error{Method: "GET", URL: "https://acme.atlassian.net/rest/api/2/webhook", Attempts: 3, Elapsed: 7 * time.Second, Err: io.EOF}
	noSecret := fmt.Errorf("%w for tenant %q: store one with 'jwh tenant add acme' (needs a Secret Service) or set JWH_SHARED_SECRET", tenant.ErrNoSecret, "acme")
	_, badBase := TenantBaseURL(&tenant.Tenant{Name: "acme", BaseURL: "ftp://x"})
	for _, tc := range []struct {
		err  error
		want string
	}{
		{network, "tenant acme: Jira closed the connection (3 attempts over 7s); check the network or try again"},
		{OnTenant("acme", network), "tenant acme: Jira closed the connection (3 attempts over 7s); check the network or try again"},
		{noSecret, noSecret.Error()},
		{badBase, `tenant acme: base URL "ftp://x": scheme "ftp" is not supported: use https: fix it with 'jwh tenant add acme --base-url URL'`},
		{OnTenant("beta", network), "tenant acme: tenant beta: Jira closed the connection (3 attempts over 7s); check the network or try again"},
	} {
		got := OnTenant("acme", tc.err)
		if got.Error() != tc.want {
			t.Errorf("OnTenant(acme, %q) = %q, want %q", tc.err, got, tc.want)
		}
		if !errors.Is(got, tc.err) || ExitCode(got) != ExitCode(tc.err) {
			t.Errorf("OnTenant(acme, %q) does not wrap it, or changes its exit status", tc.err)
		}
	}
	if OnTenant("acme", nil) != nil {
		t.Error("OnTenant(acme, nil) is not nil")
	}
	if code := ExitCode(OnTenant("acme", network)); code != ExitFailure {
		t.Errorf("a network failure: exit %d, want 1", code)
	}
}

func TestEnvDuration(t *testing.T) {
	env := map[string]string{EnvTimeout: " 300ms ", EnvTotalTimeout: "soon"}
	f := &Factory{Getenv: func(k string) string { return env[k] }}
	if d, err := f.envDuration(EnvTimeout); d != 300*time.Millisecond || err != nil {
		t.Errorf("%s: %s, %v", EnvTimeout, d, err)
	}
	if d, err := f.envDuration("JWH_UNSET"); d != 0 || err != nil {
		t.Errorf("unset: %s, %v", d, err)
	}
	for _, v := range []string{"soon", "0s", "-1s", "30"} {
		env[EnvTotalTimeout] = v
		_, err := f.envDuration(EnvTotalTimeout)
		if want := `invalid JWH_TOTAL_TIMEOUT "` + v + `": use a duration above 0, such as 30s or 2m`; err == nil || err.Error() != want || ExitCode(err) != ExitInput {
			t.Errorf("%q: %v (exit %d), want %q and exit 2", v, err, ExitCode(err), want)
		}
	}
}
