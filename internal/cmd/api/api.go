// Package api implements jwh api: any Jira REST call, signed as the app.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// MaxData is the largest --data body jwh api sends.
const MaxData = 16 << 20

// Options are the inputs of jwh api.
type Options struct {
	IO     *iostreams.IOStreams
	Client func() (*jira.Client, *tenant.Tenant, error)

	Method  string // upper case
	Ref     string // PATH or URL with the --query parameters merged, no fragment
	Body    []byte // nil without --data
	Include bool   // --include: status line and headers before the body
}

// NewCmdAPI returns jwh api. Tests pass runF to see the parsed Options.
func NewCmdAPI(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	var (
		data    string
		queries []string
		include bool
	)
	cmd := &cobra.Command{
		Use:   "api [METHOD] PATH [--data JSON|@file|-] [--query key=value ...]",
		Short: "Make any Jira REST call, signed as the app",
		Long: `Send one request to the selected tenant's REST API, signed as the app, and
print the response body: a Connect tenant's request carries a fresh Connect
JWT, an OAuth 2.0 tenant's goes through Atlassian's API gateway with its
access token (refreshed first when it is about to expire).

PATH is relative to the tenant's base URL (context path included; for an
OAuth 2.0 tenant, the site's URL on the gateway), e.g.
/rest/api/2/myself; a full URL under the base URL works too. METHOD is GET,
or POST when --data is given. Parameters in PATH and from --query are merged;
--query values are percent-encoded for you. A '#' in PATH starts a fragment,
which is never sent (curl does the same): write %23 for a literal '#', or
pass the value with --query.

--data is sent with Content-Type application/json and must be valid JSON
(checked before anything is sent): a literal, @file to read a file, or - (or
@-) to read standard input.

The body is printed as received, or indented when it is JSON and standard
output is a terminal, followed by a new line when it does not end with one.
For a status of 400 or more the body is still printed on standard output
(like gh api), Jira's messages go to standard error as one line, and the
exit status is 1, or 3 for 401 and 403. 429 and 503 answers are retried
with back-off, honouring Retry-After.`,
		Example: `  jwh api /rest/api/2/myself
  jwh api GET '/rest/api/2/search?jql=project = "A B"&fields=summary,key'
  jwh api /rest/api/2/search --query 'jql=project = PRJ' --query maxResults=5
  jwh api POST /rest/api/2/webhook --data @webhooks.json
  jwh api DELETE /rest/api/2/webhook --data '{"webhookIds":[10000]}'
  jwh api -i /rest/api/2/webhook`,
		Args: cmdutil.RangeArgs(1, 2, "PATH: e.g. jwh api /rest/api/2/myself"),
		RunE: func(cmd *cobra.Command, args []string) error {
			method, path, err := cmdutil.MethodAndPath(args, "PATH", "jwh api")
			if err != nil {
				return err
			}
			g := cmdutil.GlobalsOf(cmd)
			opts := &Options{
				IO:      f.IOStreams,
				Client:  func() (*jira.Client, *tenant.Tenant, error) { return f.JiraClient(g.Tenant, g.Debug) },
				Method:  method,
				Include: include,
			}
			if cmd.Flags().Changed("data") {
				body, err := readData(data, f.IOStreams.In)
				if err != nil {
					return cmdutil.InputError(err)
				}
				opts.Body = body
			}
			switch {
			case opts.Method == "" && opts.Body != nil:
				opts.Method = http.MethodPost
			case opts.Method == "":
				opts.Method = http.MethodGet
			case opts.Body != nil && (opts.Method == http.MethodGet || opts.Method == http.MethodHead):
				return cmdutil.UsageErrorf("--data cannot be sent with %s: use POST, PUT, PATCH or DELETE, or pass parameters with --query", opts.Method)
			}
			ref, err := withQuery(path, queries)
			if err != nil {
				return err
			}
			if sent, frag, found := jira.SplitFragment(ref); found {
				fmt.Fprintf(f.IOStreams.ErrOut, "warning: ignoring the fragment %q: it is never sent to a server; write %%23 for a literal '#'\n", "#"+frag)
				ref = sent
			}
			opts.Ref = ref
			if runF != nil {
				return runF(opts)
			}
			return apiRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&data, "data", "d", "", "JSON request `body`: a literal, @file, or - for standard input")
	fl.StringArrayVar(&queries, "query", nil, "add a query parameter `key=value` (repeatable; percent-encoded for you)")
	fl.BoolVarP(&include, "include", "i", false, "print the HTTP status line and response headers before the body")
	return cmd
}

// withQuery appends the --query parameters to the query of ref, before any
// fragment, each key and value percent-encoded (RFC 3986).
func withQuery(ref string, queries []string) (string, error) {
	if len(queries) == 0 {
		return ref, nil
	}
	var add []string
	for _, q := range queries {
		k, v, ok := strings.Cut(q, "=")
		if !ok || k == "" {
			return "", cmdutil.UsageErrorf("invalid --query %q: use key=value", q)
		}
		add = append(add, connectjwt.Escape(k)+"="+connectjwt.Escape(v))
	}
	sent, frag, found := jira.SplitFragment(ref)
	switch {
	case !strings.Contains(sent, "?"):
		sent += "?"
	case !strings.HasSuffix(sent, "?") && !strings.HasSuffix(sent, "&"):
		sent += "&"
	}
	sent += strings.Join(add, "&")
	if found {
		sent += "#" + frag
	}
	return sent, nil
}

// readData returns the --data body: the value itself, the contents of the
// file after '@', or standard input for "-" or "@-"; it must be JSON.
func readData(v string, stdin io.Reader) ([]byte, error) {
	var (
		body  []byte
		where = "--data"
		err   error
	)
	switch {
	case v == "-" || v == "@-":
		where = "--data from standard input"
		body, err = readAtMost(stdin, "standard input")
	case strings.HasPrefix(v, "@"):
		name := v[1:]
		where = fmt.Sprintf("--data file %s", name)
		var fh *os.File
		if fh, err = os.Open(name); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("cannot read --data file %s: %v", name, err)
		}
		defer fh.Close()
		body, err = readAtMost(fh, "--data file "+name)
	default:
		body = []byte(v)
	}
	if err != nil {
		return nil, err
	}
	if err := checkJSON(body); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %v; nothing was sent", where, err)
	}
	return body, nil
}

func readAtMost(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxData+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if len(b) > MaxData {
		return nil, fmt.Errorf("%s is larger than %d MiB", what, MaxData>>20)
	}
	return b, nil
}

// checkJSON reports why b is not one JSON value, with the line and column
// of a syntax error.
func checkJSON(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("it is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v json.RawMessage
	err := dec.Decode(&v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return fmt.Errorf("unexpected data after the JSON value at %s", position(b, dec.InputOffset()))
		}
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%v at %s", se, position(b, se.Offset))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of JSON input")
	}
	return err
}

// position returns "line L, column C" of byte offset off in b (1-based).
func position(b []byte, off int64) string {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

func apiRun(ctx context.Context, opts *Options) error {
	c, t, err := opts.Client()
	if err != nil {
		return err
	}
	if _, err := cmdutil.RequestURL(c.BaseURL(), opts.Ref); err != nil {
		return err
	}
	resp, err := c.Do(ctx, opts.Method, opts.Ref, opts.Body)
	if resp == nil {
		return cmdutil.OnTenant(t.Name, err)
	}
	if perr := printResponse(opts, resp); perr != nil {
		return perr
	}
	return cmdutil.OnTenant(t.Name, err)
}

// printResponse writes the status line and headers (with --include) and
// the body to standard output: indented on a terminal when it is JSON,
// else as received, followed by a new line when it does not end with one
// (so that a shell prompt or the next line of a script starts on a line of
// its own).
func printResponse(opts *Options, resp *jira.Response) error {
	out := opts.IO.Out
	tty := opts.IO.IsStdoutTTY()
	var b bytes.Buffer
	if opts.Include {
		cs := opts.IO.ColorScheme()
		status := fmt.Sprintf("%s %d %s", resp.Proto, resp.Status, http.StatusText(resp.Status))
		b.WriteString(cs.Bold(strings.TrimSpace(status)) + "\n")
		names := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, v := range resp.Header[k] {
				fmt.Fprintf(&b, "%s: %s\n", cs.Cyan(k), v)
			}
		}
		b.WriteString("\n")
	}
	body := resp.Body
	if tty && len(body) > 0 {
		var pretty bytes.Buffer
		if json.Indent(&pretty, body, "", "  ") == nil {
			body = pretty.Bytes()
		}
	}
	b.Write(body)
	if len(body) > 0 && !bytes.HasSuffix(body, []byte("\n")) {
		b.WriteByte('\n')
	}
	_, err := out.Write(b.Bytes())
	return err
}
