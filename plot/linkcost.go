package plot

import (
	"fmt"
	"slices"

	"github.com/ipclab/ipclab/record"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// LinkCost: for each transport, what each link mode costs relative to the
// raw transport at one message size (CDFSize if measured): round-trip p50
// over raw's, and raw's throughput over the mode's, as grouped bars (1 =
// free, 2 = twice the cost). Drawn only when the records have link modes.
// The bars are greys: here the categories are link modes, and a
// transport's colour would say the wrong thing.
func LinkCost(recs []record.Record) ([]*Figure, error) {
	var figs []*Figure
	for _, m := range []struct {
		mode, base, title string
		value             func(record.Record) float64
		higherIsBetter    bool
	}{
		{record.Latency, "link_cost_latency", "round-trip p50 relative to the raw transport", func(r record.Record) float64 { return r.RTT.P50 }, false},
		{record.Throughput, "link_cost_throughput", "the raw transport's throughput relative to the link's", func(r record.Record) float64 { return r.MsgsPerSec }, true},
	} {
		out, err := linkCost(recs, m.mode, m.base, m.title, m.value, m.higherIsBetter)
		if err != nil {
			return figs, err
		}
		figs = append(figs, out...)
	}
	return figs, nil
}

func linkCost(recs []record.Record, mode, base, title string, value func(record.Record) float64, higherIsBetter bool) ([]*Figure, error) {
	// Pick the size: CDFSize if any link record has it, else the smallest.
	size := -1
	var transports, links []string
	vals := map[[2]string][]record.Record{}
	for _, r := range recs {
		if r.Mode != mode || r.Skipped != "" || record.IsC(r.Impl) || r.Tuned() {
			continue
		}
		if r.Size == CDFSize || size < 0 || size != CDFSize && r.Size < size {
			size = r.Size
		}
	}
	for _, r := range recs {
		if r.Mode != mode || r.Skipped != "" || r.Size != size || record.IsC(r.Impl) || r.Tuned() {
			continue
		}
		l := r.Link
		if l == "" {
			l = record.RawLink
		}
		if !slices.Contains(transports, r.Transport) {
			transports = append(transports, r.Transport)
		}
		if l != record.RawLink && !slices.Contains(links, l) {
			links = append(links, l)
		}
		k := [2]string{r.Transport, l}
		vals[k] = append(vals[k], r)
	}
	if len(links) == 0 {
		return nil, nil
	}
	f := newFigure(fmt.Sprintf("Cost of link semantics at %s messages: %s", record.SizeLabel(size), title),
		context(recs), "Ratio of medians over runs; 1 (dashed) = free, 2 = twice the cost; no bar where the raw or the link case is missing.")
	p := newPanel("Cost relative to the raw transport", "transport", "cost (raw transport = 1)")
	w := vg.Points(min(90/float64(len(links)), 18))
	top := 1.0
	for i, l := range links {
		var ys plotter.Values
		for _, t := range transports {
			raw, lk := vals[[2]string{t, record.RawLink}], vals[[2]string{t, l}]
			ratio := 0.0
			rv, ok1 := spreadOf(raw, value)
			lv, ok2 := spreadOf(lk, value)
			if ok1 && ok2 {
				a, b := lv.med, rv.med
				if higherIsBetter {
					a, b = b, a
				}
				if b > 0 {
					ratio = a / b
				}
			}
			ys = append(ys, ratio)
			top = max(top, ratio)
		}
		bars, err := plotter.NewBarChart(ys, w)
		if err != nil {
			return nil, err
		}
		bars.Color = linkGrey(i, len(links)+1)
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(links)-1)/2)
		p.Add(bars)
		f.add(l, bars)
	}
	one, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1}, {X: float64(len(transports)) - 0.5, Y: 1}})
	if err != nil {
		return nil, err
	}
	one.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(one)
	p.NominalX(transports...)
	p.X.Min, p.X.Max = -0.6, float64(len(transports))-0.4 // room for the outer bars
	p.Y.Min, p.Y.Max = 0, top*1.08                        // the tallest bar below the frame's top
	f.mark(p)
	f.row(p)
	return f.named(base)
}
