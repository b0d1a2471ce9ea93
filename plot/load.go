package plot

import (
	"fmt"
	"sort"

	"github.com/ipclab/ipclab/bench"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// LoadLatency: the open-loop latency (from each message's intended send
// time) against the offered load, per transport, p50 and p99 in two
// panels; a line ends where the transport saturated. Drawn when the load
// mode was measured.
func LoadLatency(recs []bench.Record, dir string) ([]string, error) {
	var rows [][]*gplot.Plot
	for _, pn := range []struct {
		name  string
		value func(*bench.Summary) float64
	}{{"p50", func(s *bench.Summary) float64 { return s.P50 }}, {"p99", func(s *bench.Summary) float64 { return s.P99 }}} {
		ss := group(recs, bench.Load)
		if len(ss) == 0 {
			return nil, nil
		}
		size := ss[0].sizes[0]
		p := newPlot(fmt.Sprintf("Open-loop one-way latency (%s) against offered load, %s messages", pn.name, bench.SizeLabel(size)),
			"offered load (messages/s, log scale)", "latency from intended send (µs, log scale)")
		p.X.Scale, p.Y.Scale = gplot.LogScale{}, gplot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = gplot.LogTicks{Prec: -1}, gplot.LogTicks{Prec: -1}
		for _, s := range ss {
			byRate := map[float64][]bench.Record{}
			for _, r := range s.values[size] {
				if r.OneWay != nil {
					byRate[r.OfferedRate] = append(byRate[r.OfferedRate], r)
				}
			}
			var rates []float64
			for rate := range byRate {
				rates = append(rates, rate)
			}
			sort.Float64s(rates)
			var xy plotter.XYs
			for _, rate := range rates {
				xy = append(xy, plotter.XY{X: rate, Y: max(median(byRate[rate], func(r bench.Record) float64 { return pn.value(r.OneWay) })/1e3, 1e-3)})
			}
			if len(xy) == 0 {
				continue
			}
			if err := s.draw(p, s.name, xy); err != nil {
				return nil, err
			}
		}
		rows = append(rows, []*gplot.Plot{p})
	}
	return saveTiles(rows, dir, "load_latency")
}
