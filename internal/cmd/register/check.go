package register

import (
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

// request builds the register request from flags or decodes it from the
// file, and checks it with webhookspec, once. Problems end the command with
// exit status 2 before anything is sent: each printed on standard error as
// jwh validate prints it, or with -o json the whole check on standard
// output, as jwh validate --file -o json prints it.
func request(opts *Options) (*jira.RegisterRequest, error) {
	var req *jira.RegisterRequest
	var c *webhookspec.RequestCheck
	if opts.File != "" {
		data, err := cmdutil.ReadInput(opts.IO, opts.File)
		if err != nil {
			return nil, err
		}
		name := opts.File
		if name == "-" {
			name = "standard input"
		}
		req, c, err = webhookspec.ParseRequest(data, opts.Limits)
		if err != nil {
			return nil, cmdutil.InputErrorf("%s: %w", name, err)
		}
	} else {
		req = &jira.RegisterRequest{URL: opts.URL, Webhooks: []jira.WebhookSpec{{
			JQLFilter: opts.JQL, Events: opts.Events,
			FieldIDsFilter: opts.FieldIDs, IssuePropertyKeysFilter: opts.PropertyKeys,
		}}}
		c = webhookspec.CheckRequest(req, opts.Limits)
	}
	if c.Valid() {
		return req, nil
	}
	if opts.JSON {
		if err := output.JSON(opts.IO.Out, c.JSON()); err != nil {
			return nil, err
		}
		return nil, cmdutil.SilentExit(cmdutil.ExitInput)
	}
	// A file's problems name where they are (webhooks[1].jqlFilter); those
	// of flags, the flag.
	if opts.File != "" {
		return nil, cmdutil.InputProblems(c.Messages())
	}
	return nil, cmdutil.FlagRequestError(c, "--url", opts.URL)
}
