package deletecmd

import (
	"bytes"
	"slices"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
)

func TestNewCmdDelete(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		terminal bool
		wantErr  string
		check    func(*Options) bool
	}{
		{args: []string{"1000", "1001,1002"}, check: func(o *Options) bool { return slices.Equal(o.IDs, []int64{1000, 1001, 1002}) && !o.All }},
		{args: []string{"--all", "--yes"}, check: func(o *Options) bool { return o.All && o.Yes && len(o.IDs) == 0 }},
		{args: []string{"--all"}, terminal: true, check: func(o *Options) bool { return o.All && !o.Yes }},
		{args: []string{"--all"}, wantErr: "--all needs --yes when not run from a terminal: nothing was deleted"},
		{args: nil, wantErr: "specify the webhook ids to delete, or --all"},
		{args: []string{"--all", "1000"}, wantErr: "specify either webhook ids or --all, not both"},
		{args: []string{"10x"}, wantErr: `invalid webhook id "10x": ids are positive numbers, as 'jwh list' shows them`},
	} {
		ios, _, _, _ := iostreams.Test()
		ios.SetStdinTTY(tc.terminal)
		ios.SetStderrTTY(tc.terminal)
		f := &cmdutil.Factory{IOStreams: ios, Global: &cmdutil.GlobalFlags{Output: "table"}}
		var got *Options
		cmd := NewCmdDelete(f, func(o *Options) error { got = o; return nil })
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
