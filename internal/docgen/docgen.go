// Package docgen writes the command reference of jwh from its Cobra tree:
// markdown pages for docs/reference and man pages for release archives.
package docgen

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/jwh-cli/jwh/internal/cmd/root"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
)

// Root returns the command tree as the reference documents it: built with
// fixed values, so the output does not depend on the machine.
func Root() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Version: "", Getenv: func(string) string { return "" }}
	cmd := root.NewCmdRoot(f)
	cmd.DisableAutoGenTag = true
	return cmd
}

// Markdown writes one markdown page per command into dir, removing pages
// of commands that no longer exist.
func Markdown(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "jwh*.md"))
	for _, p := range old {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	cmd := Root()
	link := func(name string) string { return name }
	prepend := func(string) string { return "" }
	if err := doc.GenMarkdownTreeCustom(cmd, dir, prepend, link); err != nil {
		return fmt.Errorf("generate markdown: %w", err)
	}
	return nil
}

// Man writes one man page per command into dir.
func Man(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	header := &doc.GenManHeader{Title: "JWH", Section: "1", Source: "jwh", Manual: "jwh manual"}
	cmd := Root()
	if err := doc.GenManTree(cmd, header, dir); err != nil {
		return fmt.Errorf("generate man pages: %w", err)
	}
	return nil
}

// ReferenceDir is where the markdown reference lives, relative to the
// repository root.
var ReferenceDir = filepath.Join("docs", "reference")
