// Command gen-docs writes jwh's command reference: markdown pages (default
// docs/reference) and, with --man DIR, man pages.
//
//	go run ./cmd/gen-docs                 # refresh docs/reference
//	go run ./cmd/gen-docs --man dist/man  # man pages for a release
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/jwh-cli/jwh/internal/docgen"
)

func main() {
	md := flag.String("markdown", docgen.ReferenceDir, "write markdown pages to `dir` (empty: skip)")
	man := flag.String("man", "", "write man pages to `dir`")
	flag.Parse()
	if *md != "" {
		if err := docgen.Markdown(*md); err != nil {
			fmt.Fprintln(os.Stderr, "gen-docs:", err)
			os.Exit(1)
		}
	}
	if *man != "" {
		if err := docgen.Man(*man); err != nil {
			fmt.Fprintln(os.Stderr, "gen-docs:", err)
			os.Exit(1)
		}
	}
}
