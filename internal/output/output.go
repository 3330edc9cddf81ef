// Package output prints command results: a table on a terminal, tab-separated
// plain text on a pipe, and JSON for -o json, with times and counts written
// for people or for scripts as the form calls for.
package output

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/clipperhouse/displaywidth"

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
	return t.renderAligned()
}

// renderAligned prints the header and the rows in left-aligned columns,
// each as wide as its widest line in terminal cells and followed by two
// spaces. A cell with new lines takes a line each; a row's lines after its
// first that are blank in every column are left out. This is the layout
// tablewriter gave these tables before; jwh draws them itself because
// tablewriter's package initialisation ran in every jwh process, table or
// not, and was the largest part of its start-up (docs/performance.md).
func (t *Table) renderAligned() error {
	rows := make([][][]string, 0, 1+len(t.rows)) // row, column, line
	widths := make([]int, len(t.headers))
	for _, row := range append([][]string{t.headers}, t.rows...) {
		cells := make([][]string, len(row))
		for i, cell := range row {
			cells[i] = cellLines(cell)
			for _, line := range cells[i] {
				widths[i] = max(widths[i], width(line))
			}
		}
		rows = append(rows, cells)
	}
	var b strings.Builder
	for _, cells := range rows {
		height := 0
		for _, lines := range cells {
			height = max(height, len(lines))
		}
		for n := range height {
			line := make([]string, len(cells))
			blank := true
			for i, lines := range cells {
				if n < len(lines) {
					line[i] = lines[n]
				}
				blank = blank && line[i] == ""
			}
			if n > 0 && blank {
				continue
			}
			for i, s := range line {
				b.WriteString(s)
				b.WriteString(strings.Repeat(" ", widths[i]-width(s)+2))
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(t.out, b.String())
	return err
}

// cellLines returns the lines a cell shows: tabs around it trimmed, a tab
// within it shown as eight spaces (a terminal's tab stop), split at new
// lines.
func cellLines(cell string) []string {
	cell = strings.ReplaceAll(strings.Trim(cell, "\t"), "\t", "        ")
	return strings.Split(cell, "\n")
}

// width returns how many terminal cells s takes: two for a wide character,
// none for a combining mark or a control character, one for the others,
// ambiguous East Asian characters included. Runes are counted one by one,
// so an emoji sequence takes as many cells as the emoji it joins, as on a
// terminal that does not join them.
func width(s string) int {
	w := 0
	for _, r := range s {
		w += displaywidth.Rune(r)
	}
	return w
}

// JSON writes v as indented JSON followed by a newline, without HTML
// escaping.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
