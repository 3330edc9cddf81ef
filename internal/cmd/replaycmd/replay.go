// Package replaycmd implements jwh replay: it re-sends deliveries kept by
// jwh listen --save to an app, byte for byte and freshly signed for the
// target as Jira would sign them, and says how each was answered.
package replaycmd

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/replay"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// Options are the inputs of jwh replay.
type Options struct {
	IO      *iostreams.IOStreams
	Config  func() (*tenant.Config, error)
	Secrets func() tenant.SecretStore
	Getenv  func(string) string
	JSON    bool // -o json

	TenantFlag     string // --tenant: sign every replay for this tenant
	File           string
	Filter         cmdutil.FilterFlags
	To             string // --to
	SameIdentifier bool   // --same-identifier
	BasePath       string // --base-path
	DryRun         bool   // --dry-run

	// Client sends the replays; nil means replay's default.
	Client *http.Client
}

// NewCmdReplay returns jwh replay. Tests pass runF to see the parsed
// Options.
func NewCmdReplay(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:   "replay <file> [--to <url>] [--event <event>...] [--issue <key>...] [--identifier <id>...] [--jql <query>] [--last <n>] [--same-identifier] [--base-path <path>]",
		Short: "Re-send saved deliveries, freshly signed",
		Long: `Re-send deliveries that 'jwh listen --save FILE' kept, in the order they
arrived, to the app: the body byte for byte, the headers Jira sent, and a
token signed afresh as Jira would sign it for the target URL, so that the
app's JWT check accepts the replay (the original token has expired, and
its qsh was for the URL it was sent to). A delivery of a Connect tenant
gets a Connect JWT whose iss is the tenant's client key, signed with its
shared secret, and whose qsh is computed over the target's path relative
to --base-path, the path of the app's base URL (default /). A delivery of
an OAuth 2.0 tenant gets "Authorization: Bearer" and a JWT with the
original token's claims, a fresh iat and exp, signed with the client
secret of the tenant's app.

Each replay gets a new X-Atlassian-Webhook-Identifier and is a first
attempt; --same-identifier keeps the original identifier and retry count,
to see the app's de-duplication at work.

--to is where to send them. A URL without a path gets each delivery on the
path (and query) it arrived with; one with a path gets every delivery
there. Without --to, each delivery goes back to the listener that received
it (its address and path, as the record says).

The filters select what to re-send, as in 'jwh history': --event,
--issue, --identifier, --jql, --last. Requests the listener refused are
not deliveries and are never re-sent. Each delivery is signed for the
tenant whose secret verified it when it arrived; one received with
--no-verify is signed for the selected tenant (--tenant, JWH_TENANT, the
default or the only one), and --tenant signs every replay for that
tenant. Every secret is read before anything is sent. --dry-run prints
where each delivery would go and sends nothing.

One line per delivery on standard output:

  → 200 OK  12.3ms  jira:issue_updated PRJ-1  (identifier 4c1e…)

with the first line of the app's reply when it did not answer 2xx. With -o
json, an array with one object per delivery: {"seq", "event", "issue",
"target", "identifier", "status" (0 when there was no answer), "ok",
"latencyMs", "reply", "error"}.

Exit status: 0 when the app answered every replay 2xx; 1 when it did not
(or did not answer); 2 for a history file that does not exist or is
damaged, or invalid flags (nothing sent); 3 when a tenant or its secret is
missing (nothing sent); 130 when interrupted.`,
		Example: `  jwh replay deliveries.ndjson --last 1 --to http://localhost:3000/webhook
  jwh replay deliveries.ndjson --issue PRJ-1 --to https://dev.example.com/myapp/hook --base-path /myapp
  jwh replay deliveries.ndjson --identifier 4c1e… --same-identifier
  jwh replay deliveries.ndjson --event jira:issue_created --to http://localhost:3000 -o json`,
		Args: cmdutil.ExactArgs(1, "the history file, as written by jwh listen --save"),
		RunE: func(cmd *cobra.Command, args []string) error {
			g := cmdutil.GlobalsOf(cmd)
			opts.IO = f.IOStreams
			opts.Config = f.Config
			opts.Secrets = f.Secrets
			opts.Getenv = f.Getenv
			opts.JSON = g.JSON
			opts.TenantFlag = g.Tenant
			opts.File = args[0]
			if err := opts.Filter.Check(cmd); err != nil {
				return err
			}
			if opts.To != "" {
				if _, err := targetURL(opts.To); err != nil {
					return err
				}
			}
			if opts.DryRun && opts.JSON {
				return cmdutil.UsageErrorf("--dry-run prints text: leave out -o json")
			}
			if !strings.HasPrefix(opts.BasePath, "/") {
				return cmdutil.UsageErrorf("invalid --base-path %q: it must start with /", opts.BasePath)
			}
			if runF != nil {
				return runF(opts)
			}
			return replayRun(cmd.Context(), opts)
		},
	}
	opts.Filter.AddFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.To, "to", "", "send the deliveries to this `URL` (default: back to the listener that received each)")
	fl.BoolVar(&opts.SameIdentifier, "same-identifier", false, "keep each delivery's identifier and retry count, to test de-duplication")
	fl.StringVar(&opts.BasePath, "base-path", "/", "`path` of the app's base URL, which the qsh is computed relative to")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print where each delivery would go, and send nothing")
	_ = cmd.RegisterFlagCompletionFunc("to", cobra.NoFileCompletions)
	return cmd
}

// targetURL checks --to: the URL of the user's own app, as --forward-to
// of jwh listen.
func targetURL(s string) (*url.URL, error) {
	u, err := urlpolicy.ParseTargetURL(s)
	if err != nil {
		return nil, cmdutil.UsageErrorf("invalid --to %q: %s", urlpolicy.Redacted(s), urlpolicy.Reason(err))
	}
	return u, nil
}

// resultJSON is one replay in -o json output.
type resultJSON struct {
	Seq        int64   `json:"seq"`
	Event      string  `json:"event"`
	Issue      string  `json:"issue"`
	Target     string  `json:"target"`
	Identifier string  `json:"identifier"`
	Status     int     `json:"status"`
	OK         bool    `json:"ok"`
	LatencyMs  float64 `json:"latencyMs"`
	Reply      string  `json:"reply"`
	Error      *string `json:"error"`
}

// job is one delivery to replay.
type job struct {
	rec    *listen.Record
	target *url.URL
}

func replayRun(ctx context.Context, opts *Options) error {
	recs, err := cmdutil.ReadHistory(opts.IO, opts.File, opts.Filter.Filter)
	if err != nil {
		return err
	}
	var to *url.URL
	if opts.To != "" {
		if to, err = targetURL(opts.To); err != nil {
			return err
		}
	}
	var jobs []job
	for _, r := range recs {
		if r.Verdict == listen.VerdictRefused {
			continue // not a delivery
		}
		t, err := replay.Target(r, to)
		if err != nil {
			return cmdutil.InputErrorf("%s: %w (with --to)", opts.File, err)
		}
		jobs = append(jobs, job{rec: r, target: t})
	}
	if len(jobs) == 0 {
		if opts.JSON {
			_, err := fmt.Fprintln(opts.IO.Out, "[]")
			return err
		}
		if opts.IO.IsStderrTTY() {
			fmt.Fprintf(opts.IO.ErrOut, "no deliveries in %s to replay\n", opts.File)
		}
		return nil
	}
	if opts.DryRun {
		for _, j := range jobs {
			id := "a new identifier"
			if opts.SameIdentifier {
				id = "identifier " + output.Clean(j.rec.Identifier, maxField)
			}
			fmt.Fprintf(opts.IO.Out, "would send %s %s  %s  (%s)\n", cmp.Or(j.rec.Method, http.MethodPost), j.target, about(j.rec), id)
		}
		fmt.Fprintf(opts.IO.ErrOut, "Dry run: nothing was sent\n")
		return nil
	}
	creds, err := credentials(opts, jobs)
	if err != nil {
		return err
	}
	p := &replay.Replayer{
		Credentials:    func(name string) (replay.Credentials, error) { return creds[name], nil },
		BasePath:       opts.BasePath,
		SameIdentifier: opts.SameIdentifier,
		Client:         opts.Client,
	}
	cs := opts.IO.ColorScheme()
	var results []resultJSON
	failed := 0
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		res, err := p.Send(ctx, j.rec, j.target)
		if ctx.Err() != nil {
			break
		}
		rj := resultJSON{
			Seq: res.Seq, Event: res.Event, Issue: res.Issue, Target: res.Target, Identifier: res.Identifier,
			Status: res.Status, OK: err == nil && res.OK(), LatencyMs: millis(res.Latency), Reply: string(res.Reply),
		}
		if err != nil {
			msg := err.Error()
			rj.Error = &msg
		}
		if !rj.OK {
			failed++
		}
		results = append(results, rj)
		if !opts.JSON {
			fmt.Fprintln(opts.IO.Out, line(cs, &res, err))
		}
	}
	if opts.JSON {
		if err := output.JSON(opts.IO.Out, output.NonNil(results)); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if failed > 0 {
		return fmt.Errorf("replays not answered 2xx: %d of %d", failed, len(jobs))
	}
	return nil
}

// maxField bounds what a line shows of a sender's text.
const maxField = 120

// about is the event and issue of a delivery, as a line shows them.
func about(r *listen.Record) string {
	s := output.Clean(cmp.Or(r.Event, "(no webhookEvent)"), maxField)
	if r.Issue != "" {
		s += " " + output.Clean(r.Issue, maxField)
	}
	return s
}

// line is the line printed for one replay.
func line(cs iostreams.ColorScheme, res *replay.Result, err error) string {
	var b strings.Builder
	switch {
	case err != nil && res.Status == 0:
		b.WriteString(cs.Red("→ ✗ no answer: " + output.Clean(err.Error(), 600)))
	default:
		status := fmt.Sprintf("→ %d %s", res.Status, http.StatusText(res.Status))
		if res.OK() {
			b.WriteString(cs.Green(status))
		} else {
			b.WriteString(cs.Red(status))
		}
		b.WriteString("  " + latency(res.Latency))
	}
	fmt.Fprintf(&b, "  %s  (identifier %s)", about(&listen.Record{Event: res.Event, Issue: res.Issue}), output.Clean(res.Identifier, maxField))
	if err == nil && !res.OK() && len(res.Reply) > 0 {
		first, _, _ := strings.Cut(string(res.Reply), "\n")
		b.WriteString("  " + strconv.Quote(output.Clean(strings.TrimSpace(first), maxField)))
	}
	return b.String()
}

// latency prints a latency to a tenth of a millisecond.
func latency(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(millis(d), 'f', 1, 64) + "ms"
	}
	return d.Round(time.Millisecond).String()
}

func millis(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}

// credentials reads the credentials of every tenant the jobs are signed
// for, before anything is sent (see cmdutil.ReplaySigner), keyed by each
// record's own tenant name: every record is signed for its tenant under
// the name it had then.
func credentials(opts *Options, jobs []job) (map[string]replay.Credentials, error) {
	cfg, err := opts.Config()
	if err != nil {
		return nil, err
	}
	signer, err := cmdutil.NewReplaySigner(cfg, opts.Secrets, opts.Getenv, opts.TenantFlag)
	if err != nil {
		return nil, err
	}
	out := make(map[string]replay.Credentials)
	for _, j := range jobs {
		c, err := signer.Credentials(j.rec)
		if err != nil {
			return nil, err
		}
		out[j.rec.Tenant] = c
	}
	return out, nil
}
