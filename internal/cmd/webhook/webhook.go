// Package webhook holds what the webhook commands (register, list, delete,
// extend, failed) share: webhook ids given on the command line, the split
// of ids into registered and unknown ones, and how times are shown to
// people (a date and how far away it is) and to scripts (RFC 3339 and epoch
// milliseconds).
package webhook

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/jira"
)

// ParseIDs reads webhook ids from arguments, each one id or a comma list,
// and returns them in order without duplicates. An id is a positive
// number, as jwh list shows it.
func ParseIDs(args []string) ([]int64, error) {
	var ids []int64
	seen := make(map[int64]bool)
	for _, s := range cmdutil.SplitList(args) {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, cmdutil.UsageErrorf("invalid webhook id %q: ids are positive numbers, as 'jwh list' shows them", s)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Split returns the ids that are among the registered webhooks and those
// that are not, each in the order of ids. Jira ignores unknown ids on
// delete and refresh, so the commands list first and say which ids were
// not registered.
func Split(ids []int64, registered []jira.Webhook) (found, missing []int64) {
	known := make(map[int64]bool, len(registered))
	for _, w := range registered {
		known[w.ID] = true
	}
	for _, id := range ids {
		if known[id] {
			found = append(found, id)
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}

// IDs returns the ids of webhooks, in order.
func IDs(hooks []jira.Webhook) []int64 {
	ids := make([]int64, len(hooks))
	for i, w := range hooks {
		ids[i] = w.ID
	}
	return ids
}

// JoinIDs formats ids as "1000, 1001".
func JoinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// Plural returns "1 webhook" or "n webhooks".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Expired reports whether a webhook that expires at exp has expired at
// now. A zero exp (Jira did not say) has not.
func Expired(exp, now time.Time) bool {
	return !exp.IsZero() && !now.Before(exp)
}

// ExpiresText shows an expiration: for a terminal, the date in now's time
// zone and how far away it is, "2026-12-23 (in 29d)" or "2026-11-20
// (expired 3d ago)"; for a pipe, RFC 3339 in UTC. A zero time (Jira did
// not say) is "-" on a terminal and "" on a pipe.
func ExpiresText(exp, now time.Time, tty bool) string {
	return timeText(exp, tty, func() string {
		return exp.In(now.Location()).Format(time.DateOnly) + " (" + Relative(exp, now) + ")"
	})
}

// AgoText shows a time in the past, such as when a delivery failed: for a
// terminal, the date and time in now's time zone and how long ago,
// "2026-11-23 05:00 (5h ago)"; for a pipe and a zero time, as ExpiresText.
func AgoText(at, now time.Time, tty bool) string {
	return timeText(at, tty, func() string {
		return at.In(now.Location()).Format("2006-01-02 15:04") + " (" + Span(now.Sub(at)) + " ago)"
	})
}

// timeText is what the table cells of times share: "-" on a terminal and
// "" on a pipe for a zero time, RFC 3339 in UTC on a pipe, else human().
func timeText(t time.Time, tty bool, human func() string) string {
	switch {
	case t.IsZero() && tty:
		return "-"
	case t.IsZero():
		return ""
	case !tty:
		return t.UTC().Format(TimeLayout)
	}
	return human()
}

// Relative says how far exp is from now: "in 29d", "in 5h", "in 12m",
// "in <1m", or "expired 3d ago" once now has reached it.
func Relative(exp, now time.Time) string {
	if Expired(exp, now) {
		return "expired " + Span(now.Sub(exp)) + " ago"
	}
	return "in " + Span(exp.Sub(now))
}

// Span writes a non-negative duration the short way: whole minutes under
// an hour, whole hours under two days, else days rounded to the nearest,
// so that an expiration set 30 days ahead a moment ago shows as 30d.
func Span(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int64(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int64(math.Round(d.Hours()/24)))
}

// TimeLayout is how times are written for scripts: RFC 3339 in UTC with
// milliseconds, the precision of Jira's epoch-millisecond dates.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// JSONTime returns t for -o json: RFC 3339 (TimeLayout) and epoch
// milliseconds, or nil for both when t is zero (Jira did not say).
func JSONTime(t time.Time) (rfc3339 *string, millis *int64) {
	if t.IsZero() {
		return nil, nil
	}
	s := t.UTC().Format(TimeLayout)
	ms := t.UnixMilli()
	return &s, &ms
}

// NonNil returns s, or an empty slice when s is nil, so that -o json
// writes [] rather than null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
