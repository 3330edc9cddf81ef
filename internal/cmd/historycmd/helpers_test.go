package historycmd

import (
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jwh-cli/jwh/internal/cmdutil"
)

// cmpIgnoreFilter leaves the checked filter out of flag tests: its
// parts are compared.
var cmpIgnoreFilter = cmpopts.IgnoreFields(cmdutil.FilterFlags{}, "Filter")
