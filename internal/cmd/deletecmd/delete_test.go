package deletecmd

import (
	"testing"

	"github.com/jwh-cli/jwh/internal/cmdtest"
)

func TestNewCmdDelete(t *testing.T) {
	cmdtest.Flags(t, NewCmdDelete, []cmdtest.Case[Options]{
		{Args: "1000 1001,1002", Want: Options{IDs: []int64{1000, 1001, 1002}}},
		{Args: "1000 -o json", Want: Options{IDs: []int64{1000}, JSON: true}},
		{Args: "--all --yes", Want: Options{All: true, Yes: true}},
		{Args: "--all", TTY: true, Want: Options{All: true}},
		{Args: "--all", WantErr: "--all needs --yes when not run from a terminal: nothing was deleted"},
		{Args: "", WantErr: "specify the webhook ids to delete, or --all"},
		{Args: "--all 1000", WantErr: "specify either webhook ids or --all, not both"},
		{Args: "10x", WantErr: `invalid webhook id "10x": ids are positive numbers, as 'jwh list' shows them`},
	})
}
