// Package build holds the version information that a release build sets
// with -ldflags "-X github.com/jwh-cli/jwh/internal/build.Version=...".
package build

import "runtime/debug"

// Set at link time by release builds.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Info returns the version, commit and build date, falling back to what the
// Go toolchain recorded (go install module@version, VCS stamps).
func Info() (version, commit, date string) {
	version, commit, date = Version, Commit, Date
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, commit, date
	}
	if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && commit == "":
			commit = s.Value
		case s.Key == "vcs.time" && date == "":
			date = s.Value
		}
	}
	return version, commit, date
}
