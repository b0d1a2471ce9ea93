package report

import (
	"encoding/base64"
	"html/template"
	"io"
	"strconv"
	"strings"
)

// ContentSecurityPolicy is the report page's: it loads nothing and runs
// nothing; images only from data: URLs, styles only from its own <style>.
const ContentSecurityPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

// htmlBlock is a block as the template sees it: one field set.
type htmlBlock struct {
	Paragraph *Paragraph
	List      *List
	Pre       *Pre
	Table     *htmlTable
	Figure    *htmlFigure
	Warning   *Warning
}

type htmlTable struct {
	Table
	Align []string // "num" for the numeric columns
}

type htmlFigure struct {
	Figure
	Src template.URL // the SVG as a data: URL
	ID  string
}

type htmlSection struct {
	Heading string
	ID      string
	Blocks  []htmlBlock
}

// WriteHTML writes the document as one self-contained HTML page.
func (d *Doc) WriteHTML(w io.Writer) error {
	if err := d.Validate(); err != nil {
		return err
	}
	page := struct {
		Title, Subtitle, Lang, CSP string
		Sections                   []htmlSection
	}{Title: d.Title, Subtitle: d.Subtitle, Lang: d.Lang, CSP: ContentSecurityPolicy}
	if page.Lang == "" {
		page.Lang = "en"
	}
	nfig := 0
	for i, s := range d.Sections {
		hs := htmlSection{Heading: s.Heading, ID: anchor(i, s.Heading)}
		for _, b := range s.Blocks {
			var hb htmlBlock
			switch b := deref(b).(type) {
			case Paragraph:
				hb.Paragraph = &b
			case List:
				hb.List = &b
			case Pre:
				hb.Pre = &b
			case Warning:
				hb.Warning = &b
			case Table:
				t := &htmlTable{Table: b, Align: make([]string, len(b.Header))}
				for j := range t.Align {
					if j < len(b.Numeric) && b.Numeric[j] {
						t.Align[j] = "num"
					}
				}
				hb.Table = t
			case Figure:
				nfig++
				// base64 has no character that could leave the attribute,
				// and a data: URL in an <img> is drawn, never run: this is
				// the one string the template is told not to filter.
				src := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(b.SVG)
				hb.Figure = &htmlFigure{Figure: b, Src: template.URL(src), ID: "figure-" + strconv.Itoa(nfig)}
			}
			hs.Blocks = append(hs.Blocks, hb)
		}
		page.Sections = append(page.Sections, hs)
	}
	return pageTemplate.Execute(w, page)
}

// anchor is a section's id: its number and the letters of its heading.
func anchor(i int, heading string) string {
	var b strings.Builder
	b.WriteString("s" + strconv.Itoa(i+1) + "-")
	for _, r := range strings.ToLower(heading) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('-')
		}
	}
	return b.String()
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
nav ol { columns: 2; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafafa; }
.note { color: #555; font-size: 0.85em; margin: 0.2em 0; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; }
figcaption p { margin: 0.2em 0; }
.warning { border-left: 5px solid #c77700; background: #fff6e5; padding: 0.5em 1em; margin: 1em 0; }
.warning strong { color: #8a4b00; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
{{with .Subtitle}}<p class="subtitle">{{.}}</p>{{end}}
</header>
<nav><ol>{{range .Sections}}<li><a href="#{{.ID}}">{{.Heading}}</a></li>{{end}}</ol></nav>
<main>
{{range .Sections}}<section id="{{.ID}}">
<h2>{{.Heading}}</h2>
{{range .Blocks}}{{with .Paragraph}}<p>{{.Text}}</p>
{{end}}{{with .List}}<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>
{{end}}{{with .Pre}}<pre>{{.Text}}</pre>
{{end}}{{with .Warning}}<div class="warning" role="note"><strong>{{.Title}}</strong>{{if .Items}}<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>{{end}}</div>
{{end}}{{with .Table}}{{$align := .Align}}<table>
{{with .Caption}}<caption>{{.}}</caption>{{end}}
<thead><tr>{{range .Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range $i, $c := .}}<td{{with index $align $i}} class="{{.}}"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}{{end}}{{with .Figure}}<figure id="{{.ID}}">
<img src="{{.Src}}" alt="{{.Title}}">
<figcaption><p><strong>{{.Title}}</strong></p>{{range .Caption}}<p>{{.}}</p>{{end}}</figcaption>
</figure>
{{end}}{{end}}</section>
{{end}}</main>
</body>
</html>
`))
