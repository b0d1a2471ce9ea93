package plot

import (
	"fmt"
	"math"

	"github.com/ipclab/ipclab/record"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

const cNote = "Solid lines, filled markers: Go; dashed lines, hollow markers: the same mechanism driven from C (baseline)"

// LatencyVsSize: round-trip latency against message size, log-log, p50
// in one panel and p99 in another, one line per transport (and C
// baseline), with run-to-run error bars.
//
// p50 and p99 are two panels, not a line and a shaded band: seven
// transports' p50–p99 bands overlap on a log axis (the tails of every
// sleeping mechanism lie within a factor of three), and stacked
// translucent bands blend into one colour that names no transport.
func LatencyVsSize(recs []record.Record) ([]*Figure, error) {
	ss := group(recs, record.Latency)
	if len(ss) == 0 {
		return nil, nil
	}
	f := newFigure("Round-trip latency against message size (ping-pong, two processes)",
		context(recs), cNote+". "+barsNote+".")
	for _, q := range []struct {
		name string
		get  func(*record.Summary) float64
	}{{"p50 (median)", func(s *record.Summary) float64 { return s.P50 }}, {"p99", func(s *record.Summary) float64 { return s.P99 }}} {
		p := newPanel("Round trip, "+q.name, "message size, log scale", "round trip, log")
		logLog(p, SizeTicks{sizesOf(ss)}, TimeTicks{})
		for _, s := range ss {
			var ps points
			for _, z := range s.sizes {
				sp, ok := spreadOf(s.values[z], func(r record.Record) float64 {
					if r.RTT == nil {
						return math.NaN()
					}
					return q.get(r.RTT)
				})
				if ok {
					ps = append(ps, point{float64(max(z, 1)), sp})
				}
			}
			if err := plotSeries(f, p, s, ps.floor(1)); err != nil {
				return nil, err
			}
		}
		finish(p)
		f.row(p)
	}
	return f.named("latency_vs_size")
}

// ThroughputVsSize: streaming throughput in MB/s against size, log-log.
func ThroughputVsSize(recs []record.Record) ([]*Figure, error) {
	ss := group(recs, record.Throughput)
	if len(ss) == 0 {
		return nil, nil
	}
	f := newFigure("One-way streaming throughput against message size",
		context(recs), "MB/s = 10⁶ bytes per second, every byte read by the receiver. "+cNote+". "+barsNote+".")
	p := newPanel("Throughput in MB/s", "message size, log scale", "throughput, log")
	logLog(p, SizeTicks{sizesOf(ss)}, BytesRateTicks{})
	for _, s := range ss {
		var ps points
		for _, z := range s.sizes {
			if z == 0 {
				continue // no bytes: no MB/s on a log scale
			}
			// A Drop link may deliver nothing after the warm-up: no point on a log scale.
			if sp, ok := spreadOf(s.values[z], func(r record.Record) float64 { return r.MBPerSec }); ok && sp.med > 0 {
				ps = append(ps, point{float64(z), sp})
			}
		}
		if err := plotSeries(f, p, s, ps.floor(1e-6)); err != nil {
			return nil, err
		}
	}
	finish(p)
	f.row(p)
	return f.named("throughput_vs_size")
}

// LatencyCDF: the distribution of round trips at one size, per transport,
// from the percentiles each record keeps, of the run whose p50 is the
// median of the runs (a typical run, not the first).
func LatencyCDF(recs []record.Record) ([]*Figure, error) {
	ss := group(recs, record.Latency)
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
	f := newFigure(fmt.Sprintf("Round-trip latency distribution at %s messages", record.SizeLabel(size)),
		context(recs), "For each transport the run with the median p50 (marker: its median). "+cNote+".")
	p := newPanel("Fraction of round trips at or below a latency", "round trip, log scale", "fraction of round trips")
	p.X.Scale = gplot.LogScale{}
	p.X.Tick.Marker = TimeTicks{}
	p.Y.Min, p.Y.Max = 0, 1
	for _, s := range ss {
		q := typicalRun(s.values[size])
		if q == nil {
			continue
		}
		xy := plotter.XYs{{X: q.Min, Y: 0}}
		for j, pct := range record.QuantilePoints {
			xy = append(xy, plotter.XY{X: q.Quantiles[j], Y: pct / 100})
		}
		xy = append(xy, plotter.XY{X: q.Max, Y: 1})
		for j := range xy {
			xy[j].X = max(xy[j].X, 1) // a log axis needs > 0
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, err
		}
		st := styleOf(s.transport)
		l.Color, l.Width = st.Color, vg.Points(1.8)
		if s.c {
			l.Dashes, l.Width = cDashes, vg.Points(1.3)
		} else if s.link != record.RawLink {
			l.Dashes = linkDashes[s.linkIndex%len(linkDashes)]
		}
		// A marker at the median makes the line findable by its shape.
		med, err := plotter.NewScatter(plotter.XYs{{X: max(q.P50, 1), Y: 0.5}})
		if err != nil {
			return nil, err
		}
		styleScatter(med, s.transport, s.c)
		p.Add(l, med)
		f.add(s.name(), l, med)
		f.mark(p)
	}
	finish(p)
	p.Y.Min, p.Y.Max = 0, 1
	f.row(p)
	return f.named(fmt.Sprintf("latency_cdf_%dB", size))
}

// typicalRun is the round-trip summary of the run with the median p50,
// or nil if none has the full percentiles.
func typicalRun(rs []record.Record) *record.Summary {
	var ok []*record.Summary
	for _, r := range rs {
		if r.RTT != nil && len(r.RTT.Quantiles) == len(record.QuantilePoints) {
			ok = append(ok, r.RTT)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	for i := 1; i < len(ok); i++ { // insertion sort by p50: a handful of runs
		for j := i; j > 0 && ok[j].P50 < ok[j-1].P50; j-- {
			ok[j], ok[j-1] = ok[j-1], ok[j]
		}
	}
	return ok[(len(ok)-1)/2]
}
