package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default figure geometry: 28 cm wide, each row of panels 11 cm high,
// PNG at 150 dots per inch (about 1650 pixels wide).
const (
	FigureWidth = 28 * vg.Centimeter
	PanelHeight = 11 * vg.Centimeter
	PNGDPI      = 150
)

// figure is one image: a title, panels in rows and columns that share
// one legend, and a caption. The legend is drawn in its own column to
// the right of the panels, never over data: with seven transports and
// their C baselines an in-plot legend covered the lines it named.
type figure struct {
	title   string
	panels  [][]*gplot.Plot
	legend  gplot.Legend
	caption []string // lines under the panels (wrapped to the width)
	names   []string // the legend's entries
	drawn   map[*gplot.Plot]bool
	colors  map[string]color.Color // each legend entry's colour, for tests
}

// onSave, when set (by tests), sees every figure before it is written.
var onSave func(f *figure, base string)

func newFigure(title string, caption ...string) *figure {
	f := &figure{title: title, caption: caption, legend: gplot.NewLegend()}
	f.legend.Top, f.legend.Left = true, true
	f.legend.TextStyle.Font.Size = vg.Points(11)
	f.legend.Padding = vg.Points(2)
	return f
}

// mark notes that p has data; row leaves out panels that have none (a
// log axis with nothing on it has no range gonum can draw).
func (f *figure) mark(p *gplot.Plot) {
	if f.drawn == nil {
		f.drawn = map[*gplot.Plot]bool{}
	}
	f.drawn[p] = true
}

// row appends a row of the panels that have data.
func (f *figure) row(ps ...*gplot.Plot) {
	var keep []*gplot.Plot
	for _, p := range ps {
		if f.drawn[p] {
			keep = append(keep, p)
		}
	}
	if len(keep) > 0 {
		f.panels = append(f.panels, keep)
	}
}

// add puts an entry in the shared legend once, however many panels
// draw that series.
func (f *figure) add(name string, thumbs ...gplot.Thumbnailer) {
	if f.has(name) {
		return
	}
	f.legend.Add(name, thumbs...)
	f.names = append(f.names, name)
	if f.colors == nil {
		f.colors = map[string]color.Color{}
	}
	for _, t := range thumbs {
		switch t := t.(type) {
		case *plotter.Scatter:
			f.colors[name] = t.Color
		case *plotter.Line:
			f.colors[name] = t.Color
		}
	}
}

func (f *figure) has(name string) bool {
	for _, n := range f.names {
		if n == name {
			return true
		}
	}
	return false
}

func textStyle(size vg.Length) text.Style {
	sty := gplot.New().Title.TextStyle
	sty.Font.Size = size
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	return sty
}

// draw lays the figure out on c: title on top, caption at the bottom,
// legend column on the right, panels in the rest.
func (f *figure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	margin := 4 * vg.Millimeter
	c = draw.Crop(c, margin, -margin, margin, -margin)
	width := c.Max.X - c.Min.X

	titleSty := textStyle(vg.Points(15))
	capSty := textStyle(vg.Points(10.5))
	y := c.Max.Y
	for _, line := range wrap(titleSty, f.title, width) {
		c.FillText(titleSty, vg.Point{X: c.Min.X, Y: y}, line)
		y -= titleSty.Height(line) * 1.15
	}
	top := y - 2*vg.Millimeter

	var capLines []string
	for _, cp := range f.caption {
		capLines = append(capLines, wrap(capSty, cp, width)...)
	}
	bottom := c.Min.Y
	for i := len(capLines) - 1; i >= 0; i-- {
		bottom += capSty.Height(capLines[i]) * 1.2
	}
	yc := bottom
	for _, line := range capLines {
		c.FillText(capSty, vg.Point{X: c.Min.X, Y: yc}, line)
		yc -= capSty.Height(line) * 1.2
	}
	bottom += 2 * vg.Millimeter

	area := c
	area.Min.Y, area.Max.Y = bottom, top
	if len(f.names) > 0 {
		lw := f.legend.Rectangle(area).Size().X + 5*vg.Millimeter
		f.legend.Draw(draw.Crop(area, width-lw+3*vg.Millimeter, 0, 0, -5*vg.Millimeter))
		area = draw.Crop(area, 0, -lw, 0, 0)
	}
	cols := 0
	for _, r := range f.panels {
		cols = max(cols, len(r))
	}
	tiles := draw.Tiles{Rows: len(f.panels), Cols: cols, PadX: 8 * vg.Millimeter, PadY: 6 * vg.Millimeter}
	// Align wants a full grid; a short row is padded with empty panels.
	grid := make([][]*gplot.Plot, len(f.panels))
	for i, r := range f.panels {
		grid[i] = append([]*gplot.Plot(nil), r...)
		for len(grid[i]) < cols {
			grid[i] = append(grid[i], nil)
		}
	}
	canvases := gplot.Align(grid, tiles, area)
	for i := range grid {
		for j, p := range grid[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
}

// wrap breaks s into lines no wider than width, at spaces.
func wrap(sty text.Style, s string, width vg.Length) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		try := w
		if line != "" {
			try = line + " " + w
		}
		if line != "" && sty.Width(try) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// size is the figure's width and height: 11 cm a row of panels plus
// room for title and caption.
func (f *figure) size() (vg.Length, vg.Length) {
	return FigureWidth, vg.Length(len(f.panels))*PanelHeight + 4*vg.Centimeter
}

// Figure is one drawn figure, ready to be written as PNG or SVG: to
// files (WriteFiles) or to bytes (SVG, PNG), e.g. for a report that
// holds its figures inline.
type Figure struct {
	Name string // the files' base name: "latency_vs_size"
	fig  *figure
	svg  []byte // drawn once: a report and a file both want it
}

// Title is the figure's title.
func (f *Figure) Title() string { return f.fig.title }

// Caption is the text under the figure's panels, one paragraph each:
// where and when it was measured, and how to read it.
func (f *Figure) Caption() []string { return f.fig.caption }

// named wraps f as a Figure named base, or none when it has no panels.
func (f *figure) named(base string) ([]*Figure, error) {
	if len(f.panels) == 0 {
		return nil, nil
	}
	if onSave != nil {
		onSave(f, base)
	}
	return []*Figure{{Name: base, fig: f}}, nil
}

// SVG draws the figure as an SVG document.
func (f *Figure) SVG() ([]byte, error) {
	if f.svg == nil {
		w, h := f.fig.size()
		b, err := f.render(vgsvg.New(w, h))
		if err != nil {
			return nil, err
		}
		f.svg = b
	}
	return f.svg, nil
}

// PNG draws the figure as a PNG image at PNGDPI.
func (f *Figure) PNG() ([]byte, error) {
	w, h := f.fig.size()
	return f.render(vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PNGDPI))})
}

func (f *Figure) render(c vg.CanvasWriterTo) ([]byte, error) {
	f.fig.draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return b.Bytes(), nil
}

// WriteFiles writes the figure as Name.png and Name.svg in dir.
func (f *Figure) WriteFiles(dir string) ([]string, error) {
	var files []string
	for _, format := range []struct {
		ext    string
		render func() ([]byte, error)
	}{{".png", f.PNG}, {".svg", f.SVG}} {
		b, err := format.render()
		if err != nil {
			return files, err
		}
		path := filepath.Join(dir, f.Name+format.ext)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}
