package register

import (
	"errors"
	"fmt"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
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
	return nil, problemsError(c, opts)
}

// problemsError returns the problems of a check as one error each, which
// app.Run prints after "jwh: ", in the words of jwh validate: for a file,
// each names where it is (webhooks[1].jqlFilter); from flags, a problem of
// the URL names --url, and the webhook's are as validate --jql gives them.
func problemsError(c *webhookspec.RequestCheck, opts *Options) error {
	var msgs []string
	if opts.File != "" {
		msgs = c.Messages()
	} else {
		for _, p := range c.Problems {
			if p.Path == "url" {
				msgs = append(msgs, fmt.Sprintf("invalid --url %q: %s", urlpolicy.Redacted(opts.URL), p.Msg))
			} else {
				msgs = append(msgs, p.Path+": "+p.Msg)
			}
		}
		for _, w := range c.Webhooks {
			msgs = append(msgs, w.Messages("")...)
		}
	}
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = errors.New(m)
	}
	return cmdutil.InputError(&cmdutil.MultiError{Errs: errs})
}
