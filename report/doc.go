// Package report renders documents to Markdown and to self-contained
// HTML: a Doc of sections, each a list of blocks (paragraphs, lists,
// tables, figures, warnings, preformatted text). Run builds the report of
// one bench run from its records; another consumer (the course lab)
// builds its own Doc and renders it the same way.
//
// Everything in a Doc is text to show, never markup: the HTML is made
// with html/template, which escapes every string, and a figure's SVG goes
// into an <img> as a data: URL, where the browser draws it as an image
// and runs none of it. The page loads nothing (its Content-Security-Policy
// forbids it), so one file is the whole report.
package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Doc is a document: a title, a line under it, and sections in order.
type Doc struct {
	Title    string
	Subtitle string
	// Lang is the document's language as a BCP 47 tag ("es", "en"; ""
	// is "en"): the HTML page declares it, for hyphenation and screen
	// readers.
	Lang     string
	Sections []Section
}

// Section is a heading and what is under it.
type Section struct {
	Heading string
	Blocks  []Block
}

// Block is one piece of a section: a Paragraph, List, Table, Figure,
// Warning or Pre (the types of this package, as values or pointers).
type Block interface{ block() }

// Paragraph is running text.
type Paragraph struct{ Text string }

// List is a bulleted list.
type List struct{ Items []string }

// Pre is preformatted text shown as is, in a fixed-width font (a
// terminal table, a command line).
type Pre struct{ Text string }

// Table is a table with a header row. Every row should have as many
// cells as the header; Validate says when one does not.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
	// Numeric marks the columns to align right (numbers), by index.
	Numeric []bool
	Notes   []string // lines under the table
}

// Figure is an image given as an SVG document. File, when set, is the
// same figure as a file beside the Markdown report, which links it
// (Markdown cannot hold an image inline); the HTML report holds the SVG
// itself.
type Figure struct {
	Title   string
	Caption []string
	SVG     []byte
	File    string
}

// Warning is something the reader must not miss: a title and the items
// it is about.
type Warning struct {
	Title string
	Items []string
}

func (Paragraph) block() {}
func (List) block()      {}
func (Pre) block()       {}
func (Table) block()     {}
func (Figure) block()    {}
func (Warning) block()   {}

// Validate checks what would render as something broken: a table
// without rows or with a row of another width than its header, a figure
// that is not an SVG document, a section without a heading. Both
// writers call it first.
func (d *Doc) Validate() error {
	var errs []error
	if d.Title == "" {
		errs = append(errs, errors.New("the document has no title"))
	}
	for i, s := range d.Sections {
		name := fmt.Sprintf("section %d (%q)", i+1, s.Heading)
		if s.Heading == "" {
			errs = append(errs, fmt.Errorf("%s has no heading", name))
		}
		for j, b := range s.Blocks {
			switch b := deref(b).(type) {
			case Table:
				if len(b.Header) == 0 || len(b.Rows) == 0 {
					errs = append(errs, fmt.Errorf("%s, block %d: table %q has no header or no rows", name, j+1, b.Caption))
				}
				for k, r := range b.Rows {
					if len(r) != len(b.Header) {
						errs = append(errs, fmt.Errorf("%s, table %q, row %d: %d cells for %d columns", name, b.Caption, k+1, len(r), len(b.Header)))
					}
				}
			case Figure:
				if !isSVG(b.SVG) {
					errs = append(errs, fmt.Errorf("%s, figure %q: not an SVG document", name, b.Title))
				}
			case nil:
				errs = append(errs, fmt.Errorf("%s, block %d: not a block of package report", name, j+1))
			}
		}
	}
	return errors.Join(errs...)
}

// deref turns a pointer block into its value, and anything else into
// nil, so renderers switch on values only.
func deref(b Block) Block {
	switch b := b.(type) {
	case *Paragraph:
		return *b
	case *List:
		return *b
	case *Pre:
		return *b
	case *Table:
		return *b
	case *Figure:
		return *b
	case *Warning:
		return *b
	case Paragraph, List, Pre, Table, Figure, Warning:
		return b
	}
	return nil
}

func isSVG(b []byte) bool {
	s := strings.TrimSpace(string(b))
	return strings.Contains(s, "<svg") && strings.HasSuffix(s, "</svg>")
}

// WriteFiles writes the document as base.html and base.md in dir.
func (d *Doc) WriteFiles(dir, base string) ([]string, error) {
	var files []string
	for _, out := range []struct {
		ext   string
		write func(*strings.Builder) error
	}{
		{".html", func(b *strings.Builder) error { return d.WriteHTML(b) }},
		{".md", func(b *strings.Builder) error { return d.WriteMarkdown(b) }},
	} {
		var b strings.Builder
		if err := out.write(&b); err != nil {
			return files, err
		}
		path := filepath.Join(dir, base+out.ext)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}
