// Package plot draws the harness's figures from result records with
// gonum.org/v1/plot, each as PNG and SVG: latency against message size,
// throughput against message size, the latency distribution (CDF) of
// every transport at one size, and, when link modes were measured, their
// cost relative to the raw transport.
package plot

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"
	"sort"

	"github.com/ipclab/ipclab/bench"
	"github.com/montanaflynn/stats"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// CDFSize is the message size whose latency distribution is drawn, when
// it was measured (else the smallest measured size is used).
const CDFSize = 64

// All draws every figure the records allow into dir and returns the files.
func All(recs []bench.Record, dir string) ([]string, error) {
	var files []string
	for _, f := range []func([]bench.Record, string) ([]string, error){LatencyVsSize, ThroughputVsSize, LatencyCDF, LinkCost, GoVsC, LoadLatency, FanInThroughput} {
		out, err := f(recs, dir)
		if err != nil {
			return files, err
		}
		files = append(files, out...)
	}
	return files, nil
}

// series groups measured records by transport and implementation, in
// first-seen order, and within one by size; values over runs are reduced
// to their median. A C baseline series shares its Go series' colour and
// is drawn dashed.
type series struct {
	name   string
	color  int // index of the Go series it belongs to
	c      bool
	sizes  []int
	values map[int][]bench.Record
}

func group(recs []bench.Record, mode string) []*series {
	var out []*series
	byName := map[string]*series{}
	colors := map[string]int{}
	for _, r := range recs {
		if r.Mode != mode || r.Skipped != "" {
			continue
		}
		base := r.Transport
		if r.Link != "" && r.Link != "raw" {
			base += " (" + r.Link + ")"
		}
		if _, ok := colors[base]; !ok {
			colors[base] = len(colors)
		}
		name, isC := base, r.Impl == "c"
		if isC {
			name += " [C]"
		}
		s := byName[name]
		if s == nil {
			s = &series{name: name, color: colors[base], c: isC, values: map[int][]bench.Record{}}
			byName[name] = s
			out = append(out, s)
		}
		if _, ok := s.values[r.Size]; !ok {
			s.sizes = append(s.sizes, r.Size)
		}
		s.values[r.Size] = append(s.values[r.Size], r)
	}
	for _, s := range out {
		sort.Ints(s.sizes)
	}
	return out
}

func median(rs []bench.Record, f func(bench.Record) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	m, _ := stats.Median(v)
	return m
}

func newPlot(title, x, y string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// sizeTicks label message sizes as 8 B, 1 KiB, 1 MiB.
type sizeTicks struct{}

func (sizeTicks) Ticks(min, max float64) []gplot.Tick {
	var t []gplot.Tick
	for v := 1.0; v <= max*1.01; v *= 2 {
		if v < min*0.99 {
			continue
		}
		label := ""
		if n := int(v); n&(n-1) == 0 && (n <= 8 || n%8 == 0) {
			switch {
			case n >= 1<<20:
				label = fmt.Sprintf("%d MiB", n>>20)
			case n >= 1<<10:
				label = fmt.Sprintf("%d KiB", n>>10)
			default:
				label = fmt.Sprintf("%d B", n)
			}
		}
		t = append(t, gplot.Tick{Value: v, Label: label})
	}
	return t
}

func save(p *gplot.Plot, dir, base string) ([]string, error) {
	var files []string
	for _, ext := range []string{".png", ".svg"} {
		path := filepath.Join(dir, base+ext)
		if err := p.Save(20*vg.Centimeter, 13*vg.Centimeter, path); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

// draw adds xy to p as s's line with points, and to the legend as name.
func (s *series) draw(p *gplot.Plot, name string, xy plotter.XYs) error {
	l, pts, err := plotter.NewLinePoints(xy)
	if err != nil {
		return err
	}
	s.style(l, pts)
	p.Add(l, pts)
	p.Legend.Add(name, l, pts)
	return nil
}

// style colours a line by its series, dashed and without points for C.
func (s *series) style(l *plotter.Line, pts *plotter.Scatter) {
	col := plotutil.Color(s.color)
	l.Color = col
	if s.c {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	if pts != nil {
		pts.Color, pts.Shape = col, plotutil.Shape(s.color)
		if s.c {
			pts.Radius = 0
		}
	}
}

func faded(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 50}
}

// LatencyVsSize: round-trip latency against size, log-log, one line (p50)
// and one shaded band (p50 to p99) per transport.
func LatencyVsSize(recs []bench.Record, dir string) ([]string, error) {
	ss := group(recs, bench.Latency)
	if len(ss) == 0 {
		return nil, nil
	}
	p := newPlot("Round-trip latency by message size (line: p50, band: p50 to p99; dashed: C baseline p50)", "message size", "round trip (µs, log scale)")
	p.X.Scale, p.Y.Scale = gplot.LogScale{}, gplot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = sizeTicks{}, gplot.LogTicks{Prec: -1}
	for _, s := range ss {
		var line, band plotter.XYs
		for _, z := range s.sizes {
			x := float64(max(z, 1))
			line = append(line, plotter.XY{X: x, Y: median(s.values[z], func(r bench.Record) float64 { return r.RTT.P50 }) / 1e3})
			band = append(band, plotter.XY{X: x, Y: median(s.values[z], func(r bench.Record) float64 { return r.RTT.P99 }) / 1e3})
		}
		col := plotutil.Color(s.color)
		poly := append(slices.Clone(line), reversed(band)...)
		if len(line) > 1 && !s.c { // C: the p50 line only, dashed
			pg, err := plotter.NewPolygon(poly)
			if err != nil {
				return nil, err
			}
			pg.Color = faded(col)
			pg.LineStyle.Width = 0
			p.Add(pg)
		}
		if err := s.draw(p, s.name, line); err != nil {
			return nil, err
		}
	}
	return save(p, dir, "latency_vs_size")
}

func reversed(xy plotter.XYs) plotter.XYs {
	out := slices.Clone(xy)
	slices.Reverse(out)
	return out
}

// ThroughputVsSize: streaming throughput in MB/s against size, log-log.
func ThroughputVsSize(recs []bench.Record, dir string) ([]string, error) {
	ss := group(recs, bench.Throughput)
	if len(ss) == 0 {
		return nil, nil
	}
	p := newPlot("One-way streaming throughput by message size (median of runs; dashed: C baseline)", "message size", "throughput (MB/s = 10⁶ bytes/s, log scale)")
	p.X.Scale, p.Y.Scale = gplot.LogScale{}, gplot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = sizeTicks{}, gplot.LogTicks{Prec: -1}
	for _, s := range ss {
		var xy plotter.XYs
		for _, z := range s.sizes {
			if z == 0 {
				continue // no bytes: no MB/s on a log scale
			}
			// A Drop link may deliver nothing after the warm-up: no point on a log scale.
			if y := median(s.values[z], func(r bench.Record) float64 { return r.MBPerSec }); y > 0 {
				xy = append(xy, plotter.XY{X: float64(z), Y: y})
			}
		}
		if len(xy) == 0 {
			continue
		}
		if err := s.draw(p, s.name, xy); err != nil {
			return nil, err
		}
	}
	return save(p, dir, "throughput_vs_size")
}

// LatencyCDF: the distribution of round trips at one size, per transport,
// from the quantiles each record keeps (run 1 of each).
func LatencyCDF(recs []bench.Record, dir string) ([]string, error) {
	ss := group(recs, bench.Latency)
	size := -1
	for _, s := range ss {
		for _, z := range s.sizes {
			if z == CDFSize {
				size = CDFSize
			} else if size != CDFSize && (size < 0 || z < size) {
				size = z
			}
		}
	}
	if size < 0 {
		return nil, nil
	}
	p := newPlot(fmt.Sprintf("Round-trip latency distribution at %d-byte messages", size), "round trip (µs, log scale)", "fraction of round trips at or below")
	p.X.Scale = gplot.LogScale{}
	p.X.Tick.Marker = gplot.LogTicks{Prec: -1}
	p.Legend.Left, p.Legend.Top = false, false
	for _, s := range ss {
		rs := s.values[size]
		if len(rs) == 0 || rs[0].RTT == nil || len(rs[0].RTT.Quantiles) != len(bench.QuantilePoints) {
			continue
		}
		q := rs[0].RTT
		xy := plotter.XYs{{X: q.Min / 1e3, Y: 0}}
		for j, pct := range bench.QuantilePoints {
			xy = append(xy, plotter.XY{X: q.Quantiles[j] / 1e3, Y: pct / 100})
		}
		xy = append(xy, plotter.XY{X: q.Max / 1e3, Y: 1})
		for j := range xy {
			xy[j].X = max(xy[j].X, 1e-3) // a log axis needs > 0
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, err
		}
		s.style(l, nil)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	return save(p, dir, fmt.Sprintf("latency_cdf_%dB", size))
}
