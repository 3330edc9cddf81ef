package extend

import (
	"bytes"
	"slices"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
)

func TestNewCmdExtend(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		tenant  string // --tenant, as the root command would set it
		wantErr string
		check   func(*Options) bool
	}{
		{args: []string{"1000", "1001"}, check: func(o *Options) bool { return slices.Equal(o.IDs, []int64{1000, 1001}) && !o.All && !o.Quiet }},
		{args: []string{"--all", "-q"}, check: func(o *Options) bool { return o.All && o.Quiet && o.Concurrency == DefaultConcurrency }},
		{args: []string{"--all-tenants", "--concurrency", "3"}, check: func(o *Options) bool { return o.AllTenants && o.Concurrency == 3 }},
		{args: []string{"--all", "--all-tenants"}, check: func(o *Options) bool { return o.AllTenants }},
		{args: nil, wantErr: "specify the webhook ids to extend, --all or --all-tenants"},
		{args: []string{"--all", "1"}, wantErr: "specify either webhook ids or --all, not both"},
		{args: []string{"--all-tenants", "1"}, wantErr: "--all-tenants extends every webhook of every tenant: give no ids"},
		{args: []string{"--all-tenants"}, tenant: "acme", wantErr: "specify either --tenant or --all-tenants, not both"},
		{args: []string{"--all", "--concurrency", "2"}, wantErr: "--concurrency goes with --all-tenants"},
		{args: []string{"--all-tenants", "--concurrency", "0"}, wantErr: "--concurrency must be between 1 and 64"},
		{args: []string{"--all-tenants", "--concurrency", "65"}, wantErr: "--concurrency must be between 1 and 64"},
		{args: []string{"0"}, wantErr: `invalid webhook id "0": ids are positive numbers, as 'jwh list' shows them`},
	} {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Global: &cmdutil.GlobalFlags{Output: "table", Tenant: tc.tenant}}
		var got *Options
		cmd := NewCmdExtend(f, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !tc.check(got) {
			t.Errorf("%q: err %v, options %+v", tc.args, err, got)
		}
	}
}
