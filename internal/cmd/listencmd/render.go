package listencmd

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/history"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/output"
)

// RenderOptions choose what a Renderer prints.
type RenderOptions struct {
	// JSON prints one line per accepted delivery on standard output, the
	// payload as received, and nothing else there; the summary lines of
	// the other events go to standard error.
	JSON bool
	// Quiet prints the summary lines without the bodies.
	Quiet bool
	// Tenants and OAuthTenants are the names of the Connect and OAuth 2.0
	// tenants whose deliveries are verified, for the Ready message.
	Tenants      []string
	OAuthTenants []string
	// ShowClaims prints the token's header and claims under the summary
	// line of each request that has one (listen.Config.ShowClaims must be
	// set too); with JSON, on standard error.
	ShowClaims bool
	// Filter, when set, selects the deliveries printed (with their
	// duplicates and forwards); refusals and errors are printed anyway.
	Filter *history.Filter
	// FailFirst is --fail-first, for the lines of the deliveries it
	// answers.
	FailFirst int
	// Save is the --save file, for the Ready message.
	Save string
	// Inspector is the address of the web inspector's page, or "".
	Inspector string
}

// A Renderer prints the events of a listen.Server for a person (a summary
// line per event and the body of each delivery) or, with JSON, for a
// program (the raw payloads). Its Event method is a listen.Config.OnEvent:
// it is safe for concurrent use, and writes through a listen.GroupWriter,
// so the output of concurrent deliveries never interleaves and a delivery
// is answered only once it is printed.
//
// Summary lines go to standard output. With JSON, an accepted delivery
// prints only its payload line there, and the summary lines of the other
// events (refused, duplicate, forwarded) go to standard error. Ready,
// warnings, server errors and the final summary go to standard error.
// Colour follows iostreams (NO_COLOR, terminals). Everything a sender
// controls (headers, body fields, token claims in a reason) is printed
// with control characters replaced, so a delivery cannot drive the
// terminal.
type Renderer struct {
	w      *listen.GroupWriter
	cs     iostreams.ColorScheme // for summary lines
	errCS  iostreams.ColorScheme // for standard error
	errTTY bool
	opts   RenderOptions
}

// NewRenderer returns a Renderer that writes to ios.Out and ios.ErrOut.
func NewRenderer(ios *iostreams.IOStreams, opts RenderOptions) *Renderer {
	r := &Renderer{
		w:      listen.NewGroupWriter(ios.Out, ios.ErrOut),
		cs:     ios.ColorScheme(),
		errCS:  ios.ErrColorScheme(),
		errTTY: ios.IsStderrTTY(),
		opts:   opts,
	}
	if opts.JSON {
		r.cs = r.errCS // the summary lines go to standard error
	}
	return r
}

// Event prints e. Events that arrive after Summary are not printed.
func (r *Renderer) Event(e listen.Event) {
	var out, diag []byte
	lines := &out // summary lines
	if r.opts.JSON {
		lines = &diag
	}
	switch e := e.(type) {
	case *listen.Ready:
		diag = r.ready(e)
	case *listen.Delivery:
		if !r.opts.Filter.Match(e.Meta.Event, e.Meta.IssueKey, e.Identifier, e.Body) {
			return
		}
		switch {
		case r.opts.JSON:
			// The payload is the whole account of an accepted
			// delivery; a forwarded one still gets its --> line, and
			// its token's claims go to standard error too.
			if r.opts.ShowClaims {
				diag = r.appendToken(r.head(e.Time, e.Meta, e.Method, e.RequestURI, e.Identifier, e.Retry).end(), e.Token)
			}
			if e.ForwardTo != "" {
				diag = append(diag, r.forwarding(e)...)
			}
			if diag == nil && bytes.IndexAny(e.Body, "\r\n") < 0 {
				r.w.WriteLine(e.Body) // as it is: no copy
				return
			}
			out = payloadLine(e.Body)
		case r.opts.Quiet:
			out = r.delivery(e)
		default:
			out = appendPretty(r.delivery(e), e.Body)
		}
	case *listen.Rejected:
		*lines = r.appendToken(r.rejected(e), e.Token)
	case *listen.Duplicate:
		if !r.opts.Filter.Match(e.Meta.Event, e.Meta.IssueKey, e.Identifier, e.Body) {
			return
		}
		*lines = r.appendToken(r.duplicate(e), e.Token)
	case *listen.Forwarded:
		if d := e.Delivery; d != nil && !r.opts.Filter.Match(d.Meta.Event, d.Meta.IssueKey, d.Identifier, d.Body) {
			return
		}
		*lines = r.forwarded(e)
	case *listen.Error:
		diag = r.error(e)
	default:
		return
	}
	r.w.Write(out, diag)
}

// Summary prints, on standard error, what the listener handled in the
// time it ran. Events after it are not printed: a listener that has been
// told to stop may still report requests it cut short.
func (r *Renderer) Summary(st listen.Stats, elapsed time.Duration) {
	var b strings.Builder
	if r.errTTY {
		b.WriteByte('\n') // after the ^C the terminal echoed
	}
	fmt.Fprintf(&b, "Stopped after %s: %s, %s, %s, %s",
		roundDuration(elapsed), count(st.Delivered, "delivery", "deliveries"), count(st.Duplicates, "duplicate", "duplicates"),
		count(st.Rejected, "rejected", "rejected"), count(st.Invalid, "invalid request", "invalid requests"))
	if st.Unavailable > 0 {
		fmt.Fprintf(&b, ", %d answered 503", st.Unavailable)
	}
	if st.Injected > 0 {
		fmt.Fprintf(&b, ", %d answered by --respond", st.Injected)
	}
	if st.Forwarded > 0 {
		fmt.Fprintf(&b, ", %d forwarded (%d failed)", st.Forwarded, st.ForwardFailed)
	}
	fmt.Fprintf(&b, ", %s\n", count(st.Errors, "error", "errors"))
	r.w.WriteLast(nil, []byte(b.String()))
}

func (r *Renderer) ready(e *listen.Ready) []byte {
	cs := r.errCS
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s Listening for Jira's deliveries on %s (Ctrl-C to stop)\n", cs.Green("Ready!"), e.URL)
	if e.Verify {
		connect, oauth := len(r.opts.Tenants) > 0, len(r.opts.OAuthTenants) > 0
		if connect || !oauth {
			who := "configured tenants"
			if connect {
				who = plural(len(r.opts.Tenants), "tenant ", "tenants ") + strings.Join(r.opts.Tenants, ", ")
			}
			fmt.Fprintf(&b, "  verifying the JWT of each delivery: HS256, signed by %s; qsh relative to base path %s\n", who, e.BasePath)
		}
		if oauth {
			fmt.Fprintf(&b, "  verifying the Bearer JWT of each delivery to an OAuth 2.0 app: HS256, signed with the client secret of %s\n",
				plural(len(r.opts.OAuthTenants), "tenant ", "tenants ")+strings.Join(r.opts.OAuthTenants, ", "))
		}
	}
	if e.ForwardTo != "" {
		fmt.Fprintf(&b, "  forwarding each delivery to %s\n", e.ForwardTo)
	}
	if r.opts.Save != "" {
		fmt.Fprintf(&b, "  saving every request to %s (read it with 'jwh history %s')\n", r.opts.Save, r.opts.Save)
	}
	if r.opts.Inspector != "" {
		fmt.Fprintf(&b, "  inspector: %s\n", r.opts.Inspector)
	}
	if !e.Verify {
		fmt.Fprintf(&b, "%s --no-verify: deliveries are accepted without checking their JWT, and marked unverified\n", cs.WarningIcon())
	}
	if !e.Loopback {
		fmt.Fprintf(&b, "%s listening on %s, which is not a loopback address: anyone who can reach this machine can send deliveries; listen on 127.0.0.1 and expose it with a tunnel\n",
			cs.WarningIcon(), e.Addr)
	}
	return b.Bytes()
}

// Longest a field of a summary line is printed.
const (
	maxField  = 120
	maxReason = 600
)

// lineBuilder builds one summary line: fields separated by two spaces.
type lineBuilder struct{ b []byte }

func (l *lineBuilder) add(s string) {
	if s == "" {
		return
	}
	if len(l.b) > 0 {
		l.b = append(l.b, "  "...)
	}
	l.b = append(l.b, s...)
}

func (l *lineBuilder) end() []byte { return append(l.b, '\n') }

// head starts a summary line: the time, then what the body says (event,
// issue key, user, matched webhooks) or, when it says nothing, the
// request, then the identifier and the retry number.
func (r *Renderer) head(t time.Time, m listen.Meta, method, uri, id string, retry int) *lineBuilder {
	l := &lineBuilder{b: make([]byte, 0, 256)}
	l.add(r.cs.Gray(t.Format("15:04:05")))
	if m.Event != "" || m.IssueKey != "" {
		event := clean(m.Event, maxField)
		if event == "" {
			event = "(no webhookEvent)"
		}
		l.add(r.cs.Bold(event))
		l.add(r.cs.Cyan(clean(m.IssueKey, maxField)))
		l.add(clean(m.User, maxField))
		if len(m.MatchedWebhookIDs) > 0 {
			l.add("webhooks " + clean(strings.Join(m.MatchedWebhookIDs, ","), maxField))
		}
	} else if method != "" {
		l.add(clean(method, maxField) + " " + clean(uri, maxField))
	}
	if id != "" {
		l.add("id " + clean(id, maxField))
	}
	if retry > 0 {
		l.add("retry " + strconv.Itoa(retry))
	}
	return l
}

func (r *Renderer) delivery(e *listen.Delivery) []byte {
	l := r.head(e.Time, e.Meta, e.Method, e.RequestURI, e.Identifier, e.Retry)
	switch {
	case !e.Verified:
		l.add(r.cs.Yellow("! not verified (--no-verify)"))
	case e.Kind == listen.KindOAuth:
		l.add(r.cs.Green("✓ verified (oauth tenant " + clean(e.Tenant, maxField) + ")"))
	case e.Tenant != "":
		l.add(r.cs.Green("✓ verified (" + clean(e.Tenant, maxField) + ")"))
	default:
		l.add(r.cs.Green("✓ verified"))
	}
	if e.Respond != 0 {
		answer := fmt.Sprintf("→ answered %d by --respond", e.Respond)
		if e.Attempt > 0 && r.opts.FailFirst > 0 {
			answer += fmt.Sprintf(" (%d of %d)", e.Attempt, r.opts.FailFirst)
		}
		if is2xx := e.Respond >= 200 && e.Respond <= 299; is2xx {
			l.add(r.cs.Green(answer))
		} else {
			l.add(r.cs.Yellow(answer))
		}
	}
	b := l.end()
	if r.opts.ShowClaims {
		b = r.appendToken(b, e.Token)
	}
	if e.ForwardTo != "" {
		b = append(b, r.forwarding(e)...)
	}
	return b
}

// maxClaims bounds the claims printed: a token's claims are a sender's.
const maxClaims = 2000

// appendToken appends, with ShowClaims, the lines that show the token of
// a request: its scheme and header, and its claims (with iat and exp as
// times), as received, never its signature.
func (r *Renderer) appendToken(dst []byte, a *listen.Authorization) []byte {
	if !r.opts.ShowClaims {
		return dst
	}
	switch {
	case a == nil:
		return append(dst, "  token: none\n"...)
	case a.Error != "" || len(a.Claims) == 0:
		return fmt.Appendf(dst, "  token: %s (%s)\n", clean(a.Scheme, maxField), clean(cmp.Or(a.Error, "not a JWT"), maxField))
	}
	dst = fmt.Appendf(dst, "  token: %s %s\n", clean(a.Scheme, maxField), clean(string(a.Header), maxReason))
	dst = fmt.Appendf(dst, "  claims: %s", clean(string(a.Claims), maxClaims))
	var times struct {
		IAT, EXP json.Number
	}
	if json.Unmarshal(a.Claims, &times) == nil {
		var when []string
		for _, c := range []struct {
			name string
			n    json.Number
		}{{"iat", times.IAT}, {"exp", times.EXP}} {
			if sec, err := c.n.Int64(); err == nil {
				when = append(when, c.name+" "+time.Unix(sec, 0).Format("15:04:05"))
			}
		}
		if len(when) > 0 {
			dst = append(dst, r.cs.Gray("  ("+strings.Join(when, ", ")+")")...)
		}
	}
	return append(dst, '\n')
}

// forwarding is the --> line of a delivery being forwarded.
func (r *Renderer) forwarding(e *listen.Delivery) []byte {
	l := r.head(e.Time, listen.Meta{}, "", "", "", 0)
	l.add(r.cs.Cyan("-->") + " " + clean(e.Method, maxField) + " " + clean(e.ForwardTo, maxReason))
	if e.Identifier != "" {
		l.add("id " + clean(e.Identifier, maxField))
	}
	return l.end()
}

func (r *Renderer) rejected(e *listen.Rejected) []byte {
	l := r.head(e.Time, e.Meta, e.Method, e.RequestURI, e.Identifier, e.Retry)
	why := clean(e.Reason, maxReason)
	if check := clean(e.Check, maxField); check != "" && !strings.HasPrefix(why, check+" ") {
		why = check + ": " + why
	}
	l.add(r.cs.Red(fmt.Sprintf("✗ %d %s", e.Status, why)))
	return l.end()
}

func (r *Renderer) duplicate(e *listen.Duplicate) []byte {
	l := r.head(e.Time, e.Meta, "", "", e.Identifier, e.Retry)
	l.add(r.cs.Gray("= duplicate of the delivery at " + e.FirstSeen.Format("15:04:05") + ", answered 200"))
	return l.end()
}

func (r *Renderer) forwarded(e *listen.Forwarded) []byte {
	l := &lineBuilder{}
	l.add(r.cs.Gray(e.Time.Format("15:04:05")))
	if e.Err != nil {
		l.add(r.cs.Red(fmt.Sprintf("<-- ✗ no answer in %s: %s; Jira was answered %d", roundLatency(e.Latency), clean(e.Err.Error(), maxReason), e.Answered)))
	} else {
		status := fmt.Sprintf("<-- %d %s", e.Status, http.StatusText(e.Status))
		if e.OK() {
			status = r.cs.Green(status)
		} else {
			status = r.cs.Red(status)
		}
		l.add(status)
		l.add(roundLatency(e.Latency))
	}
	if e.Identifier != "" {
		l.add("id " + clean(e.Identifier, maxField))
	}
	if e.Err == nil && !e.OK() && len(e.Body) > 0 {
		first, _, _ := strings.Cut(string(e.Body), "\n")
		l.add(strconv.Quote(clean(strings.TrimSpace(first), maxField)))
	}
	return l.end()
}

func (r *Renderer) error(e *listen.Error) []byte {
	return fmt.Appendf(nil, "%s  %s %s\n", r.errCS.Gray(e.Time.Format("15:04:05")), r.errCS.FailureIcon(), cleanMultiline(e.Err.Error()))
}

// payloadLine returns body as one line: the bytes as received, unless they
// span several lines; then the whitespace between JSON tokens is removed
// (json.Compact changes nothing else: strings, numbers and key order stay
// as sent).
func payloadLine(body []byte) []byte {
	if bytes.IndexAny(body, "\r\n") < 0 {
		line := make([]byte, 0, len(body)+1)
		return append(append(line, body...), '\n')
	}
	var b bytes.Buffer
	b.Grow(len(body) + 1)
	if err := json.Compact(&b, body); err != nil {
		// Not JSON: the listener does not accept such bodies, but keep
		// the promise of one line anyway.
		b.Reset()
		for _, c := range body {
			if c == '\r' || c == '\n' {
				c = ' '
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// appendPretty appends body, indented by two spaces under the summary
// line. Indenting only adds whitespace between the JSON tokens: the tokens
// are printed as sent.
func appendPretty(dst, body []byte) []byte {
	b := bytes.NewBuffer(dst)
	b.WriteString("  ")
	if err := json.Indent(b, body, "  ", "  "); err != nil {
		b.Truncate(len(dst) + 2)
		b.WriteString(cleanMultiline(string(body)))
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// clean and cleanMultiline are output.Clean and output.CleanMultiline:
// what a delivery says is a stranger's text.
func clean(s string, max int) string { return output.Clean(s, max) }

func cleanMultiline(s string) string { return output.CleanMultiline(s) }

// count returns "1 delivery" or "2 deliveries".
func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// plural returns one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// roundLatency prints a latency to a tenth of a millisecond.
func roundLatency(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	}
	return d.Round(time.Millisecond).String()
}

// roundDuration prints how long the listener ran.
func roundDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
