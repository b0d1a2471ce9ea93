// Package plot draws the harness's figures from result records with
// gonum.org/v1/plot, each as PNG and SVG, to files or to bytes: latency and throughput against
// message size, the latency distribution at one size, a decision figure
// (latency against CPU cost per mechanism), and, when measured, the cost
// of link modes, Go against C, latency and CPU under open-loop load, and
// fan-in throughput.
//
// Every figure follows the same rules: a transport has one colour and
// marker everywhere (palette.go); the legend sits beside the panels,
// never on the data; values are medians over runs with error bars from
// the lowest to the highest run; axes are labelled with units ("10 µs",
// "1 M/s", "4 KiB"); and a caption names the placement, the machine and
// the date.
package plot

import (
	"math"
	"slices"
	"sort"

	"github.com/ipclab/ipclab/record"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// CDFSize is the message size whose latency distribution is drawn, when
// it was measured (else the smallest measured size is used).
const CDFSize = 64

// All draws every figure the records allow into dir, as PNG and SVG, and
// returns the files.
func All(recs []record.Record, dir string) ([]string, error) {
	figs, err := Figures(recs)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range figs {
		out, err := f.WriteFiles(dir)
		files = append(files, out...)
		if err != nil {
			return files, err
		}
	}
	return files, nil
}

// Figures draws every figure the records allow, in memory, in the order
// a reader meets them.
func Figures(recs []record.Record) ([]*Figure, error) {
	var figs []*Figure
	for _, f := range []func([]record.Record) ([]*Figure, error){
		LatencyVsSize, ThroughputVsSize, LatencyCDF, Decision, LinkCost, GoVsC,
		LoadLatency, LoadCPU, FanInThroughput,
	} {
		out, err := f(recs)
		if err != nil {
			return figs, err
		}
		figs = append(figs, out...)
	}
	return figs, nil
}

// series groups measured records of one mode by transport, link and
// implementation, in first-seen order, and within one by size.
type series struct {
	transport string
	link      string // record.RawLink for none
	linkIndex int    // order of the link among the non-raw ones seen
	c         bool   // the C baseline
	sizes     []int
	values    map[int][]record.Record
}

func (s *series) name() string {
	n := s.transport
	if s.link != record.RawLink {
		n += " (" + s.link + ")"
	}
	if s.c {
		n += " [C]"
	}
	return n
}

func group(recs []record.Record, mode string) []*series {
	var out []*series
	by := map[string]*series{}
	var links []string
	for _, r := range recs {
		// The figures draw the default figures; the tuned ones (batches,
		// held waits) and the C baseline waiting in ppoll are rows of the
		// tables, beside them.
		if r.Mode != mode || r.Skipped != "" || r.Tuned() || r.Impl == record.ImplCPoll {
			continue
		}
		link := r.Link
		if link == "" {
			link = record.RawLink
		}
		if link != record.RawLink && !slices.Contains(links, link) {
			links = append(links, link)
		}
		s := &series{transport: r.Transport, link: link, linkIndex: slices.Index(links, link), c: r.Impl == record.ImplC}
		if old := by[s.name()]; old != nil {
			s = old
		} else {
			s.values = map[int][]record.Record{}
			by[s.name()] = s
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

// spread is a value over runs: median, lowest and highest.
type spread struct{ med, lo, hi float64 }

// spreadOf reduces f over the records (runs of one case), skipping
// values that are not finite.
func spreadOf(rs []record.Record, f func(record.Record) float64) (spread, bool) {
	var v []float64
	for _, r := range rs {
		if x := f(r); !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return spread{}, false
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return spread{med, v[0], v[len(v)-1]}, true
}

// point is one x with a value over runs.
type point struct {
	x float64
	y spread
}

// points are what a series draws; they implement gonum's XYer and
// YErrorer so the same data give the line, the markers and the bars.
type points []point

func (ps points) Len() int                    { return len(ps) }
func (ps points) XY(i int) (float64, float64) { return ps[i].x, ps[i].y.med }
func (ps points) YError(i int) (float64, float64) {
	return ps[i].y.med - ps[i].y.lo, ps[i].y.hi - ps[i].y.med
}

// floor keeps values on a log axis (> 0): a zero median or a bar down to
// zero is drawn at floorV instead of breaking the scale.
func (ps points) floor(floorV float64) points {
	out := slices.Clone(ps)
	for i := range out {
		out[i].y.med = max(out[i].y.med, floorV)
		out[i].y.lo = max(out[i].y.lo, floorV)
		out[i].y.hi = max(out[i].y.hi, out[i].y.med)
	}
	return out
}

// newPanel is a plot with a grid and no legend of its own (the figure
// has one, beside the panels).
func newPanel(title, x, y string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(12.5)
	p.Title.Padding = vg.Points(4)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.TextStyle.Font.Size = vg.Points(11)
	p.X.Tick.Label.Font.Size = vg.Points(10)
	p.Y.Tick.Label.Font.Size = vg.Points(10)
	p.Add(plotter.NewGrid())
	return p
}

// logLog makes both axes logarithmic with the given tickers.
func logLog(p *gplot.Plot, x, y gplot.Ticker) {
	p.X.Scale, p.X.Tick.Marker = gplot.LogScale{}, x
	logY(p, y)
}

// logY makes the vertical axis logarithmic. Its label goes: the panel's
// title says what is drawn and the ticks carry the unit. gonum (v0.17)
// reserves room for a vertical label at the arithmetic middle of the
// range, which on a log axis is near the top, and so pushes the data
// down, leaving a band of white under the title.
func logY(p *gplot.Plot, y gplot.Ticker) {
	p.Y.Scale, p.Y.Tick.Marker = gplot.LogScale{}, y
	p.Y.Label.Text = ""
}

// finish pads log axes once all data are in.
func finish(p *gplot.Plot) {
	if _, ok := p.X.Scale.(gplot.LogScale); ok {
		padLog(&p.X)
	}
	if _, ok := p.Y.Scale.(gplot.LogScale); ok {
		padLog(&p.Y)
	}
}

// plotSeries draws ps in p as s's line, markers and run-to-run error
// bars, and names it in f's legend. A single point still gets its marker
// (and the C baseline its hollow one): nothing depends on a line.
func plotSeries(f *figure, p *gplot.Plot, s *series, ps points) error {
	if len(ps) == 0 {
		return nil
	}
	st := styleOf(s.transport)
	line, err := plotter.NewLine(ps)
	if err != nil {
		return err
	}
	line.Color = st.Color
	line.Width = vg.Points(1.5)
	if s.c {
		line.Dashes = cDashes
		line.Width = vg.Points(1.2)
	} else if s.link != record.RawLink {
		line.Dashes = linkDashes[s.linkIndex%len(linkDashes)]
	}
	pts, err := plotter.NewScatter(ps)
	if err != nil {
		return err
	}
	styleScatter(pts, s.transport, s.c)
	bars, err := plotter.NewYErrorBars(ps)
	if err != nil {
		return err
	}
	bars.Color = st.Color
	bars.Width = vg.Points(1)
	bars.CapWidth = vg.Points(5)
	p.Add(line, bars, pts)
	f.add(s.name(), line, pts)
	f.mark(p)
	return nil
}
