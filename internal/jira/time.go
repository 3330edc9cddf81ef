package jira

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Timestamp is a time that Jira writes either as epoch milliseconds (a
// number, or a string of digits) or as a date string such as
// "2019-06-01T12:42:30.000+0000" or RFC 3339. null and "" are the zero
// time. Decoded times are in UTC. It marshals as RFC 3339.
type Timestamp struct{ time.Time }

// dateLayouts are the date forms Timestamp accepts; a fractional second is
// accepted after the seconds in all of them.
var dateLayouts = []string{
	"2006-01-02T15:04:05Z0700",  // 2019-06-01T12:42:30.000+0000 (Jira's own)
	"2006-01-02T15:04:05Z07:00", // RFC 3339
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
}

// UnmarshalJSON accepts epoch milliseconds or a date string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		tm, err := ParseTimestamp(s)
		if err != nil {
			return err
		}
		t.Time = tm
		return nil
	}
	tm, err := fromMillis(string(b))
	if err != nil {
		return fmt.Errorf("date %s: want epoch milliseconds or a date string", b)
	}
	t.Time = tm
	return nil
}

// ParseTimestamp parses a date as Jira writes it: epoch milliseconds in
// digits, "2019-06-01T12:42:30.000+0000", or RFC 3339. "" is the zero
// time.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if tm, err := fromMillis(s); err == nil {
		return tm, nil
	}
	for _, layout := range dateLayouts {
		if tm, err := time.Parse(layout, s); err == nil {
			return tm.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want epoch milliseconds, 2019-06-01T12:42:30.000+0000 or RFC 3339", s)
}

func fromMillis(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e17 {
		return time.Time{}, fmt.Errorf("not epoch milliseconds: %s", s)
	}
	return time.UnixMilli(int64(f)).UTC(), nil
}
