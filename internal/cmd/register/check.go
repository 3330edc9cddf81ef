package register

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/jql"
)

// checkFlags checks the one webhook built from flags and returns the
// problems as 'jwh validate --jql' prints them (with a caret under the
// offending token of the filter), or "".
func checkFlags(req *jira.RegisterRequest) string {
	var problems string
	if err := jql.CheckURL(req.URL); err != nil {
		problems = fmt.Sprintf("invalid --url %q: %v\n", req.URL, err)
	}
	w := req.Webhooks[0]
	return problems + jql.CheckWebhook(w.JQLFilter, w.Events).Render("")
}

// problemsError returns the problems that checkFlags or parseBody found as
// one error each: a line that does not start with a space starts a
// problem, and the lines that show a filter with a caret under it belong
// to the problem above them. app.Run then prints each problem after
// "jwh: ", in the form validate gives it.
func problemsError(problems string) error {
	var errs []error
	for line := range strings.Lines(problems) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, " ") && len(errs) > 0 {
			last := errs[len(errs)-1].(problem)
			errs[len(errs)-1] = last + problem("\n"+line)
			continue
		}
		errs = append(errs, problem(line))
	}
	return cmdutil.InputError(&cmdutil.MultiError{Errs: errs})
}

// problem is one problem of a local check, in the lines validate prints.
type problem string

func (p problem) Error() string { return string(p) }

// parseBody checks a register request body as 'jwh validate --file' does
// and decodes it. problems is what validate prints ("" when the body is
// valid, and only then is req set); the error is for data that is not a
// JSON object at all.
func parseBody(data []byte) (req *jira.RegisterRequest, problems string, err error) {
	bc, err := jql.CheckBody(data)
	if err != nil {
		return nil, "", err
	}
	if !bc.Valid() {
		return nil, bc.Render(), nil
	}
	req = &jira.RegisterRequest{}
	if err := json.Unmarshal(data, req); err != nil {
		// CheckBody has checked every member's type.
		return nil, "", fmt.Errorf("decode the register request body: %w", err)
	}
	return req, "", nil
}
