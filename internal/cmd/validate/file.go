package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/output"
)

// maxWebhooks is Jira's limit of webhooks per app and tenant: a body with
// more can never be registered whole.
const maxWebhooks = 100

// fileResult is the check of a register request body.
type fileResult struct {
	Valid    bool      `json:"valid"`
	Errors   []any     `json:"errors"` // of fieldError: problems outside any one webhook
	Webhooks []*result `json:"webhooks"`
}

func fileRun(opts *Options) error {
	data, err := readInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	name := opts.File
	if name == "-" {
		name = "standard input"
	}
	fr, err := checkBody(data)
	if err != nil {
		return cmdutil.InputErrorf("%s: %w", name, err)
	}
	if opts.JSON {
		if err := output.JSON(opts.IO.Out, fr); err != nil {
			return err
		}
	} else {
		for _, e := range fr.Errors {
			e := e.(fieldError)
			fmt.Fprintf(opts.IO.ErrOut, "%s: %s\n", e.Path, e.Message)
		}
		for i, r := range fr.Webhooks {
			printText(opts.IO, fmt.Sprintf("webhooks[%d]", i), r)
		}
	}
	if !fr.Valid {
		return cmdutil.SilentExit(cmdutil.ExitInput)
	}
	return nil
}

// checkBody checks every webhook of a register request body,
// {"url": ..., "webhooks": [{"jqlFilter": ..., "events": [...]}, ...]}.
// The error is for data that is not a JSON object at all.
func checkBody(data []byte) (*fileResult, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, jsonError(data, err, "a register request body is a JSON object: {\"url\": ..., \"webhooks\": [...]}")
	}
	fr := &fileResult{Errors: []any{}, Webhooks: []*result{}}
	problem := func(path, msg string) { fr.Errors = append(fr.Errors, fieldError{Message: msg, Path: path}) }

	if raw, ok := body["url"]; !ok {
		problem("url", "missing: the body needs the URL that Jira delivers to")
	} else if s, ok := asString(raw); !ok || s == "" {
		problem("url", "must be a non-empty string")
	}
	for _, k := range unknownKeys(body, "url", "webhooks") {
		problem(k, "unknown field: a register body has url and webhooks")
	}

	raw, ok := body["webhooks"]
	var hooks []json.RawMessage
	switch {
	case !ok:
		problem("webhooks", "missing: the body needs a list of webhooks")
	case json.Unmarshal(raw, &hooks) != nil || hooks == nil:
		problem("webhooks", "must be a list of webhook objects")
	case len(hooks) == 0:
		problem("webhooks", "empty: list at least one webhook")
	case len(hooks) > maxWebhooks:
		problem("webhooks", fmt.Sprintf("%d webhooks: Jira allows at most %d per app", len(hooks), maxWebhooks))
	}
	fr.Valid = len(fr.Errors) == 0
	for i, h := range hooks {
		r := checkWebhook(fmt.Sprintf("webhooks[%d]", i), h)
		fr.Webhooks = append(fr.Webhooks, r)
		fr.Valid = fr.Valid && r.Valid
	}
	return fr, nil
}

// checkWebhook checks one element of "webhooks"; path names it.
func checkWebhook(path string, raw json.RawMessage) *result {
	r := newResult()
	problem := func(key, msg string) {
		r.add(fieldError{Message: msg, Path: path + key})
	}
	var w map[string]json.RawMessage
	if err := json.Unmarshal(raw, &w); err != nil || w == nil {
		problem("", `must be a webhook object, such as {"jqlFilter": "project = PRJ", "events": ["jira:issue_updated"]}`)
		return r
	}

	if rawJQL, ok := w["jqlFilter"]; !ok {
		problem(".jqlFilter", "missing: every webhook needs a JQL filter, such as project = PRJ")
	} else if src, ok := asString(rawJQL); !ok {
		problem(".jqlFilter", "must be a string")
	} else {
		r.addJQL(src)
	}

	var names []string
	if rawEvents, ok := w["events"]; !ok {
		problem(".events", "missing: every webhook needs at least one event, such as jira:issue_updated")
	} else if err := json.Unmarshal(rawEvents, &names); err != nil || names == nil {
		problem(".events", "must be a list of event names")
	} else if len(names) == 0 {
		problem(".events", "empty: list at least one event, such as jira:issue_updated")
	}
	r.addEvents(names)

	for _, key := range []string{"fieldIdsFilter", "issuePropertyKeysFilter"} {
		if v, ok := w[key]; ok {
			var list []string
			if json.Unmarshal(v, &list) != nil {
				problem("."+key, "must be a list of strings")
			}
		}
	}
	for _, k := range unknownKeys(w, "jqlFilter", "events", "fieldIdsFilter", "issuePropertyKeysFilter") {
		problem("."+k, "unknown field: a webhook has jqlFilter, events, fieldIdsFilter and issuePropertyKeysFilter")
	}
	return r
}

// asString decodes a JSON string.
func asString(raw json.RawMessage) (string, bool) {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", false
	}
	return s, true
}

// unknownKeys returns the keys of m not in known, sorted.
func unknownKeys(m map[string]json.RawMessage, known ...string) []string {
	var out []string
	for k := range m {
		if !slices.Contains(known, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// jsonError explains a body that does not decode: where the JSON is broken,
// or what shape was expected.
func jsonError(data []byte, err error, shape string) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineCol(data, int(syn.Offset))
		return fmt.Errorf("invalid JSON at %d:%d: %v", line, col, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty: " + shape)
	}
	return errors.New("not " + shape)
}

// lineCol returns the 1-based line and column (in runes) of the byte at
// offset, or of the last byte when offset is past the end.
func lineCol(data []byte, offset int) (line, col int) {
	offset = min(max(offset-1, 0), len(data))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = len([]rune(string(before[bytes.LastIndexByte(before, '\n')+1:]))) + 1
	return line, col
}
