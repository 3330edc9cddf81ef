package list

import (
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdtest"
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
	week := 7 * 24 * time.Hour
	cmdtest.Flags(t, NewCmdList, []cmdtest.Case[Options]{
		{Args: "", Want: Options{}},
		{Args: "-o json", Want: Options{JSON: true}},
		{Args: "--start-at 7", Want: Options{OnePage: true, StartAt: 7}},
		{Args: "--max-results 5", Want: Options{OnePage: true, MaxResults: 5}},
		{Args: "--expiring-within 7d", Want: Options{ExpiringWithin: &week}},
		{Args: "--start-at -1", WantErr: "--start-at must be 0 or more"},
		{Args: "--max-results 0", WantErr: "--max-results must be 1 or more"},
		{Args: "--expiring-within x", WantErr: `invalid --expiring-within "x": use a number of days, hours or minutes, e.g. 72h or 7d`},
		{Args: "extra", WantErr: `unexpected argument "extra" for "jwh list"`},
	})
}
