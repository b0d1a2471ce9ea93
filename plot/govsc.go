package plot

import (
	"math"

	"github.com/ipclab/ipclab/record"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// GoVsC: Go's figures over the C baseline's for the same mechanism and
// size (record.Overheads, from medians over runs), in three panels:
// round-trip p50, round-trip p99 and throughput. A dotted line marks
// parity. Drawn when C was measured.
func GoVsC(recs []record.Record) ([]*Figure, error) {
	ovs := defaultOverheads(recs)
	if len(ovs) == 0 {
		return nil, nil
	}
	f := newFigure("Go against C: the same mechanism and protocol, Go's figure over C's",
		context(recs), "Ratios of medians over runs; 1 = parity (dotted). Above 1 on the latency panels and below 1 on the throughput panel: Go slower.")
	panels := []struct {
		title string
		mode  string
		value func(record.Overhead) float64
	}{
		{"Round-trip p50, Go / C (above 1: Go slower)", record.Latency, func(o record.Overhead) float64 { return o.P50 }},
		{"Round-trip p99, Go / C (above 1: Go slower)", record.Latency, func(o record.Overhead) float64 { return o.P99 }},
		{"Throughput in messages/s, Go / C (below 1: Go slower)", record.Throughput, func(o record.Overhead) float64 { return o.Throughput }},
	}
	for _, pn := range panels {
		p := newPanel(pn.title, "message size, log scale", "Go / C, log")
		var order []string
		var sizes []float64
		lines := map[string]points{}
		minX, maxX := math.Inf(1), math.Inf(-1)
		for _, o := range ovs {
			v := pn.value(o)
			if o.Mode != pn.mode || !(v > 0) || math.IsInf(v, 0) || o.Size == 0 || (o.Link != "" && o.Link != record.RawLink) {
				continue
			}
			if _, ok := lines[o.Transport]; !ok {
				order = append(order, o.Transport)
			}
			x := float64(o.Size)
			lines[o.Transport] = append(lines[o.Transport], point{x, spread{v, v, v}})
			minX, maxX = min(minX, x), max(maxX, x)
			sizes = appendNew(sizes, x)
		}
		if len(order) == 0 {
			continue
		}
		logLog(p, SizeTicks{sizes}, RatioTicks{})
		parity, err := plotter.NewLine(plotter.XYs{{X: minX, Y: 1}, {X: maxX, Y: 1}})
		if err != nil {
			return nil, err
		}
		parity.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
		p.Add(parity)
		for _, name := range order {
			if err := plotSeries(f, p, &series{transport: name, link: record.RawLink}, lines[name]); err != nil {
				return nil, err
			}
		}
		finish(p)
		f.row(p)
	}
	return f.named("go_vs_c")
}

// defaultOverheads are the Go/C ratios of the default Go figures: a
// held-waits case is paired with the same C case as the default one
// (record.Overheads), and must not join the default's line; its ratio is
// a row of the summary's table.
func defaultOverheads(recs []record.Record) []record.Overhead {
	var out []record.Overhead
	for _, o := range record.Overheads(recs) {
		if !o.Held && o.Batch == 0 {
			out = append(out, o)
		}
	}
	return out
}
