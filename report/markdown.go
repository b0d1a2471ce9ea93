package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the document as Markdown (CommonMark with GitHub
// tables). Text from the document is escaped: a name that holds
// Markdown or HTML shows as itself, it does not format or inject.
func (d *Doc) WriteMarkdown(w io.Writer) error {
	if err := d.Validate(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n\n", mdText(d.Title))
	if d.Subtitle != "" {
		fmt.Fprintf(bw, "%s\n\n", mdText(d.Subtitle))
	}
	for _, s := range d.Sections {
		fmt.Fprintf(bw, "## %s\n\n", mdText(s.Heading))
		for _, b := range s.Blocks {
			switch b := deref(b).(type) {
			case Paragraph:
				fmt.Fprintf(bw, "%s\n\n", mdText(b.Text))
			case List:
				for _, it := range b.Items {
					fmt.Fprintf(bw, "- %s\n", mdText(it))
				}
				bw.WriteString("\n")
			case Pre:
				fence := "```"
				for strings.Contains(b.Text, fence) {
					fence += "`"
				}
				fmt.Fprintf(bw, "%s\n%s\n%s\n\n", fence, strings.TrimRight(b.Text, "\n"), fence)
			case Warning:
				fmt.Fprintf(bw, "> **%s**\n", mdText(b.Title))
				for _, it := range b.Items {
					fmt.Fprintf(bw, ">\n> - %s\n", mdText(it))
				}
				bw.WriteString("\n")
			case Table:
				if b.Caption != "" {
					fmt.Fprintf(bw, "**%s**\n\n", mdText(b.Caption))
				}
				row := func(cells []string) {
					bw.WriteString("|")
					for _, c := range cells {
						fmt.Fprintf(bw, " %s |", mdCell(c))
					}
					bw.WriteString("\n")
				}
				row(b.Header)
				bw.WriteString("|")
				for j := range b.Header {
					if j < len(b.Numeric) && b.Numeric[j] {
						bw.WriteString("---:|")
					} else {
						bw.WriteString("---|")
					}
				}
				bw.WriteString("\n")
				for _, r := range b.Rows {
					row(r)
				}
				bw.WriteString("\n")
				for _, n := range b.Notes {
					fmt.Fprintf(bw, "%s\n\n", mdText(n))
				}
			case Figure:
				if b.File != "" {
					fmt.Fprintf(bw, "![%s](%s)\n\n", mdText(b.Title), mdLink(b.File))
				} else {
					fmt.Fprintf(bw, "**%s** (the figure is in the HTML report)\n\n", mdText(b.Title))
				}
				for _, c := range b.Caption {
					fmt.Fprintf(bw, "*%s*\n\n", mdText(c))
				}
			}
		}
	}
	return bw.Flush()
}

// mdReplacer escapes what Markdown would read as formatting or HTML.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "|", `\|`, "#", `\#`, "!", `\!`,
)

// mdText is text on one line, escaped.
func mdText(s string) string {
	return mdReplacer.Replace(strings.Join(strings.Fields(s), " "))
}

// mdCell is a table cell: text on one line, escaped, never empty (an
// empty cell reads as a missing one).
func mdCell(s string) string {
	if strings.TrimSpace(s) == "" {
		return " "
	}
	return mdText(s)
}

// mdLink is a relative link target: spaces and parentheses escaped.
func mdLink(s string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(s)
}
