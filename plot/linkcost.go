package plot

import (
	"fmt"
	"slices"

	"github.com/ipclab/ipclab/bench"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// LinkCost: for each transport, what each link mode costs relative to the
// raw transport at one message size (CDFSize if measured): round-trip p50
// over raw's, and raw's throughput over the mode's, as grouped bars (1 =
// free, 2 = twice the cost). Drawn only when the records have link modes.
func LinkCost(recs []bench.Record, dir string) ([]string, error) {
	var files []string
	for _, m := range []struct {
		mode, base, title string
		value             func(bench.Record) float64
		higherIsBetter    bool
	}{
		{bench.Latency, "link_cost_latency", "round-trip p50 relative to the raw transport", func(r bench.Record) float64 { return r.RTT.P50 }, false},
		{bench.Throughput, "link_cost_throughput", "throughput of the raw transport relative to the link's", func(r bench.Record) float64 { return r.MsgsPerSec }, true},
	} {
		out, err := linkCost(recs, dir, m.mode, m.base, m.title, m.value, m.higherIsBetter)
		if err != nil {
			return files, err
		}
		files = append(files, out...)
	}
	return files, nil
}

func linkCost(recs []bench.Record, dir, mode, base, title string, value func(bench.Record) float64, higherIsBetter bool) ([]string, error) {
	// Pick the size: CDFSize if any link record has it, else the smallest.
	size := -1
	var transports, links []string
	vals := map[[2]string][]bench.Record{}
	for _, r := range recs {
		if r.Mode != mode || r.Skipped != "" {
			continue
		}
		if r.Size == CDFSize || size < 0 || size != CDFSize && r.Size < size {
			size = r.Size
		}
	}
	for _, r := range recs {
		if r.Mode != mode || r.Skipped != "" || r.Size != size {
			continue
		}
		l := r.Link
		if l == "" {
			l = "raw"
		}
		if !slices.Contains(transports, r.Transport) {
			transports = append(transports, r.Transport)
		}
		if l != "raw" && !slices.Contains(links, l) {
			links = append(links, l)
		}
		k := [2]string{r.Transport, l}
		vals[k] = append(vals[k], r)
	}
	if len(links) == 0 {
		return nil, nil
	}
	p := newPlot(fmt.Sprintf("Cost of link semantics at %d-byte messages: %s", size, title), "transport", "cost (raw transport = 1)")
	p.Legend.Left, p.Legend.Top = true, true
	w := vg.Points(min(60/float64(len(links)), 12))
	for i, l := range links {
		var ys plotter.Values
		for _, t := range transports {
			raw, lk := vals[[2]string{t, "raw"}], vals[[2]string{t, l}]
			ratio := 0.0 // no bar where either side is missing
			if len(raw) > 0 && len(lk) > 0 {
				rv, lv := median(raw, value), median(lk, value)
				if higherIsBetter {
					rv, lv = lv, rv
				}
				if rv > 0 {
					ratio = lv / rv
				}
			}
			ys = append(ys, ratio)
		}
		bars, err := plotter.NewBarChart(ys, w)
		if err != nil {
			return nil, err
		}
		bars.Color = plotutil.Color(i)
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(links)-1)/2)
		p.Add(bars)
		p.Legend.Add(l, bars)
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(one)
	p.NominalX(transports...)
	p.X.Min, p.X.Max = -0.6, float64(len(transports))-0.4 // room for the outer bars
	p.X.Label.Text = "transport (dashed line: no cost)"
	p.Y.Min = 0
	return save(p, dir, base)
}
