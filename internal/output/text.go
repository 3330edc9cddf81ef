package output

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file holds how times and counts are written: for people, a date and
// how far away it is ("2026-12-23 (in 29d)"); for scripts, RFC 3339 in UTC
// and epoch milliseconds.

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
		return at.In(now.Location()).Format("2006-01-02 15:04") + " (" + span(now.Sub(at)) + " ago)"
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
		return "expired " + span(now.Sub(exp)) + " ago"
	}
	return "in " + span(exp.Sub(now))
}

// span writes a non-negative duration the short way: whole minutes under
// an hour, whole hours under two days, else days rounded to the nearest,
// so that an expiration set 30 days ahead a moment ago shows as 30d.
func span(d time.Duration) string {
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
