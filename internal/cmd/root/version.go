package root

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/build"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/output"
)

// VersionOptions are the inputs of jwh version.
type VersionOptions struct {
	IO      *iostreams.IOStreams
	Version string
	JSON    bool // -o json
}

// NewCmdVersion returns jwh version. Tests pass runF to see the parsed
// Options.
func NewCmdVersion(f *cmdutil.Factory, runF func(*VersionOptions) error) *cobra.Command {
	return cmdutil.NeverWaits(&cobra.Command{
		Use:   "version",
		Short: "Print the version of jwh",
		Long: `Print the version of jwh, with the commit, build date, Go version and
platform when they are known.

With -o json, prints {"version", "commit", "date", "go", "os", "arch"}
("commit" and "date" are empty when unknown).`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := &VersionOptions{IO: f.IOStreams, Version: f.Version, JSON: cmdutil.GlobalsOf(cmd).JSON}
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	})
}

func versionRun(opts *VersionOptions) error {
	if opts.JSON {
		return output.JSON(opts.IO.Out, versionInfo(opts.Version))
	}
	_, err := fmt.Fprintln(opts.IO.Out, versionLine(opts.Version))
	return err
}

// versionLine is what `jwh version` prints, e.g.
// "jwh version 1.2.0 (commit 3f2a1c9, built 2026-11-23T10:00:00Z, go1.26.8 linux/amd64)".
func versionLine(version string) string {
	_, commit, date := build.Info()
	s := "jwh version " + version
	var extra []string
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		extra = append(extra, "commit "+commit)
	}
	if date != "" {
		extra = append(extra, "built "+date)
	}
	extra = append(extra, fmt.Sprintf("%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH))
	s += " ("
	for i, e := range extra {
		if i > 0 {
			s += ", "
		}
		s += e
	}
	return s + ")"
}

// versionJSON is what `jwh version -o json` prints.
type versionJSON struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

func versionInfo(version string) versionJSON {
	_, commit, date := build.Info()
	return versionJSON{Version: version, Commit: commit, Date: date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
}
