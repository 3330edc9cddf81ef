package list

import (
	"bytes"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"72h":    72 * time.Hour,
		"7d":     7 * 24 * time.Hour,
		"1d12h":  36 * time.Hour,
		"0.5d":   12 * time.Hour,
		"30m":    30 * time.Minute,
		"0":      0,
		" 2d ":   48 * time.Hour,
		"1d1h1m": 25*time.Hour + time.Minute,
	} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "7", "-1d", "1d-2h", "soon", "7days", "1d2d"} {
		if got, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", bad, got)
		}
	}
	if got := FormatDuration(7 * 24 * time.Hour); got != "7d" {
		t.Errorf("FormatDuration(7d) = %q", got)
	}
	if got := FormatDuration(36 * time.Hour); got != "36h0m0s" {
		t.Errorf("FormatDuration(36h) = %q", got)
	}
}

func TestNewCmdList(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		check   func(*Options) bool
	}{
		{args: nil, check: func(o *Options) bool { return !o.OnePage && o.ExpiringWithin == nil }},
		{args: []string{"--start-at", "7"}, check: func(o *Options) bool { return o.OnePage && o.StartAt == 7 && o.MaxResults == 0 }},
		{args: []string{"--max-results", "5"}, check: func(o *Options) bool { return o.OnePage && o.MaxResults == 5 }},
		{args: []string{"--expiring-within", "7d"}, check: func(o *Options) bool { return *o.ExpiringWithin == 7*24*time.Hour }},
		{args: []string{"--start-at", "-1"}, wantErr: "--start-at must be 0 or more"},
		{args: []string{"--max-results", "0"}, wantErr: "--max-results must be 1 or more"},
		{args: []string{"--expiring-within", "x"}, wantErr: `invalid --expiring-within "x": use a number of days, hours or minutes, e.g. 72h or 7d`},
		{args: []string{"extra"}, wantErr: `unexpected argument "extra" for "list"`},
	} {
		ios, _, _, _ := iostreams.Test()
		f := &cmdutil.Factory{IOStreams: ios, Global: &cmdutil.GlobalFlags{Output: "table"}}
		var got *Options
		cmd := NewCmdList(f, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !tc.check(got) {
			t.Errorf("%v: err %v, options %+v", tc.args, err, got)
		}
	}
}
