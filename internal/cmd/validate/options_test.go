package validate

import (
	"slices"
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
)

func TestNewCmdValidateOptions(t *testing.T) {
	tests := []struct {
		args []string
		want Options
	}{
		{[]string{"--jql", "project = PRJ"}, Options{JQL: "project = PRJ"}},
		{[]string{"--jql", ""}, Options{}},
		{[]string{"--jql", "-", "--event", "jira:issue_created, comment_created", "--event", "sprint_started,"},
			Options{JQL: "-", Events: []string{"jira:issue_created", "comment_created", "sprint_started"}}},
		{[]string{"--file", "-"}, Options{File: "-"}},
		{[]string{"--file", "webhooks.json"}, Options{File: "webhooks.json"}},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Global: &cmdutil.GlobalFlags{Output: "json"}}
		var got *Options
		cmd := NewCmdValidate(f, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		if err := cmd.Execute(); err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if got == nil {
			t.Errorf("%q: the run function was not called", tt.args)
			continue
		}
		if got.IO != ios || !got.JSON || got.JQL != tt.want.JQL ||
			got.File != tt.want.File || !slices.Equal(got.Events, tt.want.Events) {
			t.Errorf("%q: options %+v, want %+v with IO and JSON set", tt.args, *got, tt.want)
		}
	}
}
