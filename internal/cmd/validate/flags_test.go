package validate

import (
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
)

func TestNewCmdValidate(t *testing.T) {
	cmdtest.Flags(t, NewCmdValidate, []cmdtest.Case[Options]{
		{Args: "--jql 'project = PRJ'", Want: Options{JQL: "project = PRJ"}},
		{Args: "--jql '' -o json", Want: Options{JSON: true}},
		{Args: "--jql - --event 'jira:issue_created, comment_created' --event sprint_started,",
			Want: Options{JQL: "-", Events: []string{"jira:issue_created", "comment_created", "sprint_started"}}},
		{Args: "--file -", Want: Options{File: "-"}},
		{Args: "--file webhooks.json", Want: Options{File: "webhooks.json"}},
		{Args: "", WantErr: "specify --jql or --file"},
		{Args: "--jql 'project = PRJ' --file x.json", WantErr: "specify only one of --jql and --file"},
		{Args: "--file x.json --event jira:issue_created", WantErr: "--event goes with --jql: with --file, each webhook lists its own events"},
		{Args: "--file ''", WantErr: "--file needs a path, or - for standard input"},
		{Args: "--jql 'project = PRJ' --event ' , '", WantErr: "--event needs an event name, such as jira:issue_updated"},
		{Args: "'project = PRJ'", WantErr: `unexpected argument "project = PRJ": give the filter with --jql, as in jwh validate --jql 'project = PRJ'`},
		{Args: "--jql", WantErr: "flag needs an argument: --jql"},
	})
}
