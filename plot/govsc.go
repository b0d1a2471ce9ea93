package plot

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/ipclab/ipclab/bench"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// GoVsC: Go's figures over the C baseline's for the same mechanism and
// size (bench.Overheads), in three panels: round-trip p50, round-trip p99
// and throughput. A dotted line marks parity. Drawn when C was measured.
func GoVsC(recs []bench.Record, dir string) ([]string, error) {
	ovs := bench.Overheads(recs)
	if len(ovs) == 0 {
		return nil, nil
	}
	panels := []struct {
		title string
		mode  string
		value func(bench.Overhead) float64
	}{
		{"Go / C: round-trip p50 (above 1: Go slower)", bench.Latency, func(o bench.Overhead) float64 { return o.P50 }},
		{"Go / C: round-trip p99 (above 1: Go slower)", bench.Latency, func(o bench.Overhead) float64 { return o.P99 }},
		{"Go / C: throughput, messages/s (below 1: Go slower)", bench.Throughput, func(o bench.Overhead) float64 { return o.Throughput }},
	}
	var rows [][]*gplot.Plot
	for _, pn := range panels {
		p := newPlot(pn.title, "message size", "ratio (log scale)")
		p.X.Scale, p.Y.Scale = gplot.LogScale{}, gplot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = sizeTicks{}, ratioTicks{}
		p.Legend.Left, p.Legend.Top = false, true
		var names []string
		lines := map[string]plotter.XYs{}
		minX, maxX := 0.0, 0.0
		for _, o := range ovs {
			v := pn.value(o)
			if o.Mode != pn.mode || v <= 0 || o.Size == 0 {
				continue
			}
			if _, ok := lines[o.Transport]; !ok {
				names = append(names, o.Transport)
			}
			x := float64(o.Size)
			lines[o.Transport] = append(lines[o.Transport], plotter.XY{X: x, Y: v})
			if minX == 0 || x < minX {
				minX = x
			}
			maxX = max(maxX, x)
		}
		if len(names) == 0 {
			continue
		}
		parity, err := plotter.NewLine(plotter.XYs{{X: minX, Y: 1}, {X: maxX, Y: 1}})
		if err != nil {
			return nil, err
		}
		parity.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
		p.Add(parity)
		for i, name := range names {
			s := &series{color: i}
			if err := s.draw(p, name, lines[name]); err != nil {
				return nil, err
			}
		}
		rows = append(rows, []*gplot.Plot{p})
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return saveTiles(rows, dir, "go_vs_c")
}

// saveTiles draws plots stacked in one column, aligned, as PNG and SVG.
func saveTiles(rows [][]*gplot.Plot, dir, base string) ([]string, error) {
	w, h := 20*vg.Centimeter, vg.Length(len(rows))*10*vg.Centimeter
	var files []string
	for _, ext := range []string{".png", ".svg"} {
		var c vg.CanvasSizer
		var save func(*os.File) error
		if ext == ".png" {
			img := vgimg.New(w, h)
			c, save = img, func(f *os.File) error { _, err := vgimg.PngCanvas{Canvas: img}.WriteTo(f); return err }
		} else {
			svg := vgsvg.New(w, h)
			c, save = svg, func(f *os.File) error { _, err := svg.WriteTo(f); return err }
		}
		dc := draw.New(c)
		tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadY: vg.Centimeter, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3}
		canvases := gplot.Align(rows, tiles, dc)
		for i := range rows {
			rows[i][0].Draw(canvases[i][0])
		}
		path := filepath.Join(dir, base+ext)
		f, err := os.Create(path)
		if err != nil {
			return files, err
		}
		if err := save(f); err != nil {
			f.Close()
			return files, err
		}
		if err := f.Close(); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

// ratioTicks label a log axis of ratios at powers of two: 1/4, 1/2, 1, 2.
type ratioTicks struct{}

func (ratioTicks) Ticks(min, max float64) []gplot.Tick {
	var t []gplot.Tick
	for v := 1.0 / 64; v <= 64; v *= 2 {
		if v < min/1.5 || v > max*1.5 {
			continue
		}
		label := strconv.FormatFloat(v, 'g', 3, 64)
		if v < 1 {
			label = "1/" + strconv.Itoa(int(1/v))
		}
		t = append(t, gplot.Tick{Value: v, Label: label})
	}
	return t
}
