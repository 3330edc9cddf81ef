package validate

import (
	"fmt"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/jql"
	"github.com/jwh-cli/jwh/internal/output"
)

// fileResult is the check of a register request body: the JSON of
// --file with -o json.
type fileResult struct {
	Valid    bool        `json:"valid"`
	Errors   []jsonError `json:"errors"` // problems outside any one webhook, with Path
	Webhooks []*result   `json:"webhooks"`
}

func fileRun(opts *Options) error {
	data, err := cmdutil.ReadInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	name := opts.File
	if name == "-" {
		name = "standard input"
	}
	bc, err := jql.CheckBody(data)
	if err != nil {
		return cmdutil.InputErrorf("%s: %w", name, err)
	}
	if opts.JSON {
		fr := &fileResult{Valid: bc.Valid(), Errors: []jsonError{}, Webhooks: []*result{}}
		for _, p := range bc.Problems {
			fr.Errors = append(fr.Errors, jsonError{Message: p.Msg, Path: p.Path})
		}
		for i, w := range bc.Webhooks {
			fr.Webhooks = append(fr.Webhooks, newResult(w, fmt.Sprintf("webhooks[%d]", i)))
		}
		if err := output.JSON(opts.IO.Out, fr); err != nil {
			return err
		}
	} else {
		for _, p := range bc.Problems {
			fmt.Fprintf(opts.IO.ErrOut, "%s: %s\n", p.Path, p.Msg)
		}
		for i, w := range bc.Webhooks {
			printText(opts.IO, fmt.Sprintf("webhooks[%d]", i), w)
		}
	}
	if !bc.Valid() {
		return cmdutil.SilentExit(cmdutil.ExitInput)
	}
	return nil
}
