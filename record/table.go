package record

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Table is one table of a summary: cells already formatted, laid out by
// a renderer (WriteText, WriteMarkdown). Building the cells (summary.go)
// and laying them out (here) are apart, so a change to how a figure is
// computed never touches the layout, nor the other way round.
type Table struct {
	Title   string
	Columns []string // headings; none for a table of notes alone
	Left    int      // how many leading columns (the names) align left; the rest are figures, aligned right
	Rows    [][]string
	Notes   []string // lines under the table
}

// WriteText lays tables out in columns two spaces apart, as a terminal
// shows them: widths counted in runes, so "µs" takes one column each.
func WriteText(w io.Writer, tables []Table) {
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if t.Title != "" {
			fmt.Fprintln(w, t.Title)
		}
		if len(t.Columns) > 0 {
			width := make([]int, len(t.Columns))
			for _, row := range append([][]string{t.Columns}, t.Rows...) {
				for j, c := range row {
					width[j] = max(width[j], utf8.RuneCountInString(c))
				}
			}
			for _, row := range append([][]string{t.Columns}, t.Rows...) {
				var b strings.Builder
				for j, c := range row {
					pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(c))
					if j > 0 {
						b.WriteString("  ")
					}
					if j < t.Left {
						b.WriteString(c + pad)
					} else {
						b.WriteString(pad + c)
					}
				}
				fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
			}
		}
		for _, n := range t.Notes {
			for _, l := range wrap(n, TextWidth) {
				fmt.Fprintln(w, l)
			}
		}
	}
}

// TextWidth is the width WriteText wraps notes at: a summary of the
// default run fits a terminal this wide.
const TextWidth = 100

// wrap breaks s at spaces into lines of at most width runes (a word
// longer than that stands alone); the lines after the first are indented
// four more than s, so they read as its continuation.
func wrap(s string, width int) []string {
	if utf8.RuneCountInString(s) <= width {
		return []string{s}
	}
	body := strings.TrimLeft(s, " ")
	indent := s[:len(s)-len(body)]
	var out []string
	line := indent
	for _, word := range strings.Fields(body) {
		switch {
		case strings.TrimSpace(line) == "":
			line += word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			out = append(out, line)
			line = indent + "    " + word
		}
	}
	return append(out, line)
}

// WriteMarkdown writes tables as GitHub-flavoured Markdown: a heading,
// a pipe table, the notes as a paragraph of lines.
func WriteMarkdown(w io.Writer, tables []Table) {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if t.Title != "" {
			fmt.Fprintf(w, "### %s\n\n", esc(t.Title))
		}
		if len(t.Columns) > 0 {
			line := func(cells []string) {
				out := make([]string, len(cells))
				for j, c := range cells {
					out[j] = esc(c)
				}
				fmt.Fprintf(w, "| %s |\n", strings.Join(out, " | "))
			}
			line(t.Columns)
			rule := make([]string, len(t.Columns))
			for j := range rule {
				rule[j] = "---:"
				if j < t.Left {
					rule[j] = ":---"
				}
			}
			fmt.Fprintf(w, "|%s|\n", strings.Join(rule, "|"))
			for _, r := range t.Rows {
				line(r)
			}
			if len(t.Notes) > 0 {
				fmt.Fprintln(w)
			}
		}
		for _, n := range t.Notes {
			// Two trailing spaces: a Markdown line break, so each note
			// stays on its own line.
			fmt.Fprintf(w, "%s  \n", esc(strings.TrimSpace(n)))
		}
	}
}
