// Package build holds the version information that a release build sets
// with -ldflags "-X github.com/jwh-cli/jwh/internal/build.Version=...".
package build

import (
	"runtime/debug"
	"sync"
)

// Set at link time by release builds.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Info returns the version, commit and build date, falling back to what the
// Go toolchain recorded (go install module@version, VCS stamps).
func Info() (version, commit, date string) {
	i := info()
	return i.version, i.commit, i.date
}

// stamp is what Info returns.
type stamp struct{ version, commit, date string }

// info reads the build information once: debug.ReadBuildInfo parses it
// anew on every call, and a run of jwh asks for it more than once.
var info = sync.OnceValue(func() stamp {
	var i stamp
	i.version, i.commit, i.date = Version, Commit, Date
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	if i.version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		i.version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && i.commit == "":
			i.commit = s.Value
		case s.Key == "vcs.time" && i.date == "":
			i.date = s.Value
		}
	}
	return i
})
