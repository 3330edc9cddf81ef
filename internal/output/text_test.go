package output

import (
	"testing"
	"time"
)

func TestSpan(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "<1m"},
		{0, "<1m"},
		{59 * time.Second, "<1m"},
		{time.Minute, "1m"},
		{59*time.Minute + 59*time.Second, "59m"},
		{time.Hour, "1h"},
		{47*time.Hour + 59*time.Minute, "47h"},
		{48 * time.Hour, "2d"},
		{60 * time.Hour, "3d"}, // 2.5 days round up
		{30*24*time.Hour - time.Second, "30d"},
		{29*24*time.Hour + 11*time.Hour, "29d"},
	} {
		if got := span(tc.d); got != tc.want {
			t.Errorf("span(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestExpiresText(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		exp  time.Time
		tty  bool
		want string
	}{
		{now.Add(30 * 24 * time.Hour), true, "2026-12-23 (in 30d)"},
		{now.Add(29*24*time.Hour + 3*time.Hour), true, "2026-12-22 (in 29d)"},
		{now.Add(-3 * 24 * time.Hour), true, "2026-11-20 (expired 3d ago)"},
		{now, true, "2026-11-23 (expired <1m ago)"},
		{now.Add(5 * time.Hour), true, "2026-11-23 (in 5h)"},
		{time.Time{}, true, "-"},
		{now.Add(1500 * time.Millisecond), false, "2026-11-23T10:00:01.500Z"},
		{time.Time{}, false, ""},
	} {
		if got := ExpiresText(tc.exp, now, tc.tty); got != tc.want {
			t.Errorf("ExpiresText(%v, tty=%v) = %q, want %q", tc.exp, tc.tty, got, tc.want)
		}
	}
	// The date is in the time zone of the clock.
	tokyo := time.FixedZone("JST", 9*3600)
	if got := ExpiresText(time.Date(2026, 12, 23, 20, 0, 0, 0, time.UTC), now.In(tokyo), true); got != "2026-12-24 (in 30d)" {
		t.Errorf("in Tokyo: %q", got)
	}
}

func TestAgoText(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := now.Add(-5 * time.Hour)
	if got := AgoText(at, now, true); got != "2026-11-23 05:00 (5h ago)" {
		t.Errorf("terminal: %q", got)
	}
	if got := AgoText(at, now.In(time.FixedZone("JST", 9*3600)), true); got != "2026-11-23 14:00 (5h ago)" {
		t.Errorf("terminal in Tokyo: %q", got)
	}
	if got := AgoText(at, now, false); got != "2026-11-23T05:00:00.000Z" {
		t.Errorf("pipe: %q", got)
	}
	if AgoText(time.Time{}, now, true) != "-" || AgoText(time.Time{}, now, false) != "" {
		t.Error("zero time")
	}
}

func TestJSONTime(t *testing.T) {
	if s, ms := JSONTime(time.Time{}); s != nil || ms != nil {
		t.Errorf("zero time: %v %v", s, ms)
	}
	s, ms := JSONTime(time.UnixMilli(1798025425077))
	if *s != "2026-12-23T11:30:25.077Z" || *ms != 1798025425077 {
		t.Errorf("got %s %d", *s, *ms)
	}
}

func TestJoinIDs(t *testing.T) {
	if got := JoinIDs([]int64{9, 8}); got != "9, 8" {
		t.Errorf("JoinIDs: %q", got)
	}
}
