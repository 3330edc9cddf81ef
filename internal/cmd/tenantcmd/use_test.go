package tenantcmd

import (
	"errors"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdUse(t *testing.T) {
	cmdtest.Flags(t, cmdtest.InGroup("tenant", NewCmdUse), []cmdtest.Case[UseOptions]{
		{Args: "acme", Want: UseOptions{Name: "acme"}},
		{Args: "", WantErr: "missing tenant name"},
	})
}

func TestUseRun(t *testing.T) {
	h := newHarness(t)
	seedTwo(t, h)
	if err := useRun(t.Context(), &UseOptions{IO: h.ios, Config: h.config, Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if d := h.saved(t).Default; d != "acme" {
		t.Errorf("default %q", d)
	}
	if h.errOut.String() != "✓ Default tenant is now acme\n" || h.out.Len() != 0 {
		t.Errorf("stdout %q stderr %q", h.out, h.errOut)
	}

	err := useRun(t.Context(), &UseOptions{IO: h.ios, Config: h.config, Name: "nope"})
	if !errors.Is(err, tenant.ErrNotFound) || exitCode(err) != 3 || err.Error() != `no such tenant "nope": configured tenants are acme, beta` {
		t.Errorf("got %v", err)
	}
}
