package tenantcmd

import (
	"errors"
	"testing"

	"github.com/jwh-cli/jwh/internal/tenant"
)

func TestNewCmdUse(t *testing.T) {
	h := newHarness(t)
	var got *UseOptions
	if err := runCmd(NewCmdUse(h.f, func(o *UseOptions) error { got = o; return nil }), "acme"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "acme" || got.IO != h.ios || got.Config == nil {
		t.Errorf("options: %+v", got)
	}
	err := runCmd(NewCmdUse(h.f, func(o *UseOptions) error { return nil }))
	if err == nil || err.Error() != "missing tenant name" || exitCode(err) != 2 {
		t.Errorf("got %v", err)
	}
}

func TestUseRun(t *testing.T) {
	h := newHarness(t)
	seedTwo(t, h)
	if err := useRun(&UseOptions{IO: h.ios, Config: h.config, Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	if d := h.saved(t).Default; d != "acme" {
		t.Errorf("default %q", d)
	}
	if h.errOut.String() != "✓ Default tenant is now acme\n" || h.out.Len() != 0 {
		t.Errorf("stdout %q stderr %q", h.out, h.errOut)
	}

	err := useRun(&UseOptions{IO: h.ios, Config: h.config, Name: "nope"})
	if !errors.Is(err, tenant.ErrNotFound) || exitCode(err) != 3 || err.Error() != `no such tenant "nope": configured tenants are acme, beta` {
		t.Errorf("got %v", err)
	}
}
