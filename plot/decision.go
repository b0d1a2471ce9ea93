package plot

import (
	"fmt"
	"slices"

	"github.com/ipclab/ipclab/record"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DecisionSizes are the message sizes the decision figure shows when
// they were measured: a small message, where the wake-up dominates, and
// a page, where the copy starts to count.
var DecisionSizes = []int{64, 4096}

// Decision answers "which mechanism should I choose": for each placement
// and size, one point per mechanism (Go) at its round-trip latency
// (filled: p50 with run-to-run bars; hollow: p99, joined to it) against
// the CPU time both processes spent per round trip. Lower is faster,
// left is cheaper; the dotted diagonal is where the CPU time equals the
// round-trip time (two processes that spin the whole time sit at twice
// that).
func Decision(recs []record.Record) ([]*Figure, error) {
	var lat []record.Record
	present := map[int]bool{}
	var placements []string
	for _, r := range recs {
		if r.Mode != record.Latency || r.Skipped != "" || record.IsC(r.Impl) || r.Tuned() || r.RTT == nil || (r.Link != "" && r.Link != record.RawLink) {
			continue
		}
		lat = append(lat, r)
		present[r.Size] = true
		if !slices.Contains(placements, r.Placement) {
			placements = append(placements, r.Placement)
		}
	}
	if len(lat) == 0 {
		return nil, nil
	}
	sizes := decisionSizes(present)
	f := newFigure("Which mechanism? Round-trip latency against the CPU it costs",
		context(recs),
		"Go, raw transports. Filled marker: round-trip p50 (median over runs, bars min..max over runs, horizontal bars: CPU min..max); "+
			"hollow marker joined by a thin line: p99. CPU: user + system time of both processes per round trip (getrusage). "+
			"Down is faster, left is cheaper; dotted: CPU time = round-trip time.")
	for _, pl := range placements {
		var row []*gplot.Plot
		for _, z := range sizes {
			title := fmt.Sprintf("%s messages: round trip against CPU", record.SizeLabel(z))
			if pl != "" {
				title = fmt.Sprintf("placement %s, %s", pl, title)
			}
			p := newPanel(title, "CPU per round trip (both processes)", "")
			logLog(p, TimeTicks{}, TimeTicks{})
			drawn := 0
			for _, s := range group(filterPlacement(lat, pl), record.Latency) {
				ok, err := decisionPoint(f, p, s, s.values[z])
				if err != nil {
					return nil, err
				}
				if ok {
					drawn++
				}
			}
			if drawn == 0 {
				continue // no CPU recorded: nothing to place
			}
			finish(p)
			row = append(row, p)
		}
		shareRanges(row)
		for _, p := range row {
			if err := addDiagonal(p); err != nil {
				return nil, err
			}
		}
		f.row(row...)
	}
	f.add("p50 (median over runs)", keyGlyph(false))
	f.add("p99", keyGlyph(true))
	return f.named("decision")
}

// decisionSizes picks DecisionSizes that were measured, else the
// smallest and largest size measured.
func decisionSizes(present map[int]bool) []int {
	var out, all []int
	for _, z := range DecisionSizes {
		if present[z] {
			out = append(out, z)
		}
	}
	for z := range present {
		all = append(all, z)
	}
	slices.Sort(all)
	if len(out) > 0 {
		return out
	}
	if len(all) == 1 {
		return all
	}
	return []int{all[0], all[len(all)-1]}
}

func filterPlacement(recs []record.Record, pl string) []record.Record {
	var out []record.Record
	for _, r := range recs {
		if r.Placement == pl {
			out = append(out, r)
		}
	}
	return out
}

// decisionPoint draws one mechanism in the decision figure: p50 with
// error bars both ways, p99 hollow above it, a thin line between.
func decisionPoint(f *figure, p *gplot.Plot, s *series, rs []record.Record) (bool, error) {
	cpu, ok1 := spreadOf(rs, func(r record.Record) float64 { return r.Sender.CPUNsPerMsg + r.Receiver.CPUNsPerMsg })
	p50, ok2 := spreadOf(rs, func(r record.Record) float64 { return r.RTT.P50 })
	p99, ok3 := spreadOf(rs, func(r record.Record) float64 { return r.RTT.P99 })
	if !ok1 || !ok2 || !ok3 || !(cpu.med > 0) || !(p50.med > 0) {
		return false, nil
	}
	st := styleOf(s.transport)
	x := cpu.med
	med := xyErr{x: cpu, y: p50}
	tail := plotter.XYs{{X: x, Y: max(p99.med, p50.med)}}
	join, err := plotter.NewLine(plotter.XYs{{X: x, Y: p50.med}, tail[0]})
	if err != nil {
		return false, err
	}
	join.Color, join.Width = st.Color, vg.Points(0.8)
	yb, err := plotter.NewYErrorBars(med)
	if err != nil {
		return false, err
	}
	xb, err := plotter.NewXErrorBars(med)
	if err != nil {
		return false, err
	}
	for _, b := range []*draw.LineStyle{&yb.LineStyle, &xb.LineStyle} {
		b.Color, b.Width = st.Color, vg.Points(1)
	}
	yb.CapWidth, xb.CapWidth = vg.Points(5), vg.Points(5)
	dot, err := plotter.NewScatter(med)
	if err != nil {
		return false, err
	}
	styleScatter(dot, s.transport, false)
	dot.Radius = vg.Points(5)
	hollow, err := plotter.NewScatter(tail)
	if err != nil {
		return false, err
	}
	styleScatter(hollow, s.transport, true)
	hollow.Radius = vg.Points(5)
	p.Add(join, yb, xb, dot, hollow)
	f.add(s.name(), dot)
	f.mark(p)
	return true, nil
}

// xyErr is one point with run-to-run spreads on both axes.
type xyErr struct{ x, y spread }

func (e xyErr) Len() int                      { return 1 }
func (e xyErr) XY(int) (float64, float64)     { return e.x.med, e.y.med }
func (e xyErr) XError(int) (float64, float64) { return e.x.med - e.x.lo, e.x.hi - e.x.med }
func (e xyErr) YError(int) (float64, float64) { return e.y.med - e.y.lo, e.y.hi - e.y.med }

// addDiagonal draws y = x across the part of the panel where both axes
// overlap, without changing the panel's ranges.
func addDiagonal(p *gplot.Plot) error {
	lo, hi := max(p.X.Min, p.Y.Min), min(p.X.Max, p.Y.Max)
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	saved := [4]float64{p.X.Min, p.X.Max, p.Y.Min, p.Y.Max}
	l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
	if err != nil {
		return err
	}
	l.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
	l.Color = linkGrey(1, 3)
	p.Add(l)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = saved[0], saved[1], saved[2], saved[3]
	return nil
}

// keyGlyph is a grey marker for a legend entry that explains a style,
// not a transport.
func keyGlyph(hollow bool) *plotter.Scatter {
	s, _ := plotter.NewScatter(plotter.XYs{{}})
	s.GlyphStyle = draw.GlyphStyle{Color: linkGrey(0, 1), Radius: vg.Points(5), Shape: glyph{hollow: hollow}}
	return s
}

// shareRanges gives the panels of a row the same axes, so that 64 B and
// 4 KiB can be compared by eye.
func shareRanges(row []*gplot.Plot) {
	if len(row) == 0 {
		return
	}
	x, y := row[0].X, row[0].Y
	for _, p := range row[1:] {
		x.Min, x.Max = min(x.Min, p.X.Min), max(x.Max, p.X.Max)
		y.Min, y.Max = min(y.Min, p.Y.Min), max(y.Max, p.Y.Max)
	}
	for _, p := range row {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = x.Min, x.Max, y.Min, y.Max
	}
}
