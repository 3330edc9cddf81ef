// Package output prints command results: a table on a terminal, tab-separated
// plain text on a pipe, and JSON for -o json, with times and counts written
// for people or for scripts as the form calls for. It is the only importer
// of tablewriter.
package output

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/jwh-cli/jwh/internal/iostreams"
)

// Table collects rows and prints them when Render is called.
type Table struct {
	out     io.Writer
	tty     bool
	headers []string
	rows    [][]string
}

// NewTable returns a table for ios.Out. On a terminal it prints a header and
// aligned columns; on a pipe, one line per row with tab-separated cells and
// no header, so that cut and awk can read it.
func NewTable(ios *iostreams.IOStreams, headers ...string) *Table {
	return &Table{out: ios.Out, tty: ios.IsStdoutTTY(), headers: headers}
}

// AddRow adds a row; cells beyond the headers are dropped and missing ones
// are empty.
func (t *Table) AddRow(cells ...string) {
	row := make([]string, len(t.headers))
	copy(row, cells)
	t.rows = append(t.rows, row)
}

// Render prints the table.
func (t *Table) Render() error {
	if !t.tty {
		var b strings.Builder
		for _, row := range t.rows {
			for i, c := range row {
				if i > 0 {
					b.WriteByte('\t')
				}
				b.WriteString(strings.NewReplacer("\t", " ", "\n", " ").Replace(c))
			}
			b.WriteByte('\n')
		}
		_, err := io.WriteString(t.out, b.String())
		return err
	}
	tbl := tablewriter.NewTable(t.out,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Lines:      tw.LinesNone,
				Separators: tw.SeparatorsNone,
			},
		})),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
		tablewriter.WithTrimSpace(tw.Off),
	)
	tbl.Header(t.headers)
	for _, row := range t.rows {
		if err := tbl.Append(row); err != nil {
			return err
		}
	}
	return tbl.Render()
}

// JSON writes v as indented JSON followed by a newline, without HTML
// escaping.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
