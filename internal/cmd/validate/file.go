package validate

import (
	"fmt"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// fileRun checks a register request body. There is no tenant here, so the
// limit on the number of webhooks is a Connect app's, the larger of the
// two; jwh register checks against the tenant's own.
func fileRun(opts *Options) error {
	data, err := cmdutil.ReadInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	name := opts.File
	if name == "-" {
		name = "standard input"
	}
	_, c, err := webhookspec.ParseRequest(data, webhookspec.Connect)
	if err != nil {
		return cmdutil.InputErrorf("%s: %w", name, err)
	}
	if opts.JSON {
		if err := output.JSON(opts.IO.Out, c.JSON()); err != nil {
			return err
		}
	} else {
		for i, w := range c.Webhooks {
			if w.Valid() {
				printValid(opts.IO, fmt.Sprintf("webhooks[%d]", i), w)
			}
		}
		fmt.Fprint(opts.IO.ErrOut, c.Render())
	}
	if !c.Valid() {
		return cmdutil.SilentExit(cmdutil.ExitInput)
	}
	return nil
}
