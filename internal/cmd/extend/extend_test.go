package extend

import (
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
)

func TestNewCmdExtend(t *testing.T) {
	const c = DefaultConcurrency
	cmdtest.Flags(t, NewCmdExtend, []cmdtest.Case[Options]{
		{Args: "1000 1001", Want: Options{IDs: []int64{1000, 1001}, Concurrency: c}},
		{Args: "--all -q", Want: Options{All: true, Quiet: true, Concurrency: c}},
		{Args: "--all -t acme -o json", Want: Options{All: true, JSON: true, Concurrency: c}},
		{Args: "--all-tenants --concurrency 3", Want: Options{AllTenants: true, Concurrency: 3}},
		{Args: "--all --all-tenants", Want: Options{All: true, AllTenants: true, Concurrency: c}},
		{Args: "", WantErr: "specify the webhook ids to extend, --all or --all-tenants"},
		{Args: "--all 1", WantErr: "specify either webhook ids or --all, not both"},
		{Args: "--all-tenants 1", WantErr: "--all-tenants extends every webhook of every tenant: give no ids"},
		{Args: "--all-tenants -t acme", WantErr: "specify either --tenant or --all-tenants, not both"},
		{Args: "--all --concurrency 2", WantErr: "--concurrency goes with --all-tenants"},
		{Args: "--all-tenants --concurrency 0", WantErr: "--concurrency must be between 1 and 64"},
		{Args: "--all-tenants --concurrency 65", WantErr: "--concurrency must be between 1 and 64"},
		{Args: "--all-tenants --concurrency x", WantErr: `invalid value "x" for --concurrency: use a whole number`},
		{Args: "0", WantErr: `invalid webhook id "0": ids are positive numbers, as 'jwh list' shows them`},
	})
}
