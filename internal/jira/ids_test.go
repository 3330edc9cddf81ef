package jira_test

import (
	"slices"
	"testing"

	"github.com/jwh-cli/jwh/internal/jira"
)

func TestSplitIDs(t *testing.T) {
	hooks := []jira.Webhook{{ID: 1}, {ID: 2}, {ID: 3}}
	found, missing := jira.SplitIDs([]int64{3, 9, 1, 8}, hooks)
	if !slices.Equal(found, []int64{3, 1}) || !slices.Equal(missing, []int64{9, 8}) {
		t.Errorf("found %v, missing %v", found, missing)
	}
	if got := jira.WebhookIDs(hooks); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("WebhookIDs = %v", got)
	}
}
