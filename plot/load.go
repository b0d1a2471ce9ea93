package plot

import (
	"fmt"
	"math"
	"sort"

	"github.com/ipclab/ipclab/record"
)

// loadPoints are a load series' values per offered rate over runs.
func loadPoints(s *series, size int, f func(record.Record) float64) points {
	byRate := map[float64][]record.Record{}
	for _, r := range s.values[size] {
		byRate[r.OfferedRate] = append(byRate[r.OfferedRate], r)
	}
	var rates []float64
	for rate := range byRate {
		if rate > 0 {
			rates = append(rates, rate)
		}
	}
	sort.Float64s(rates)
	var ps points
	for _, rate := range rates {
		if sp, ok := spreadOf(byRate[rate], f); ok {
			ps = append(ps, point{rate, sp})
		}
	}
	return ps
}

// loadSize is the message size the load figures show: the smallest
// measured.
func loadSize(ss []*series) int {
	size := -1
	for _, s := range ss {
		if len(s.sizes) > 0 && (size < 0 || s.sizes[0] < size) {
			size = s.sizes[0]
		}
	}
	return size
}

// LoadLatency: the open-loop latency (from each message's intended send
// time) against the offered load, per transport, p50 and p99 in two
// panels; a line ends where the transport saturated. Drawn when the load
// mode was measured.
func LoadLatency(recs []record.Record) ([]*Figure, error) {
	ss := group(recs, record.Load)
	if len(ss) == 0 {
		return nil, nil
	}
	size := loadSize(ss)
	f := newFigure(fmt.Sprintf("Open loop: one-way latency against offered load, %s messages", record.SizeLabel(size)),
		context(recs),
		"Latency from each message's intended send time (queueing behind a late sender or a full channel included); "+
			"a line ends at the last rate the transport achieved within 90 %. "+barsNote+".")
	for _, q := range []struct {
		name string
		get  func(*record.Summary) float64
	}{{"p50 (median)", func(s *record.Summary) float64 { return s.P50 }}, {"p99", func(s *record.Summary) float64 { return s.P99 }}} {
		p := newPanel("One-way latency, "+q.name, "offered load, log scale", "latency, log")
		logLog(p, RateTicks{}, TimeTicks{})
		for _, s := range ss {
			ps := loadPoints(s, size, func(r record.Record) float64 {
				if r.OneWay == nil {
					return math.NaN()
				}
				return q.get(r.OneWay)
			})
			if err := plotSeries(f, p, s, ps.floor(1)); err != nil {
				return nil, err
			}
		}
		finish(p)
		f.row(p)
	}
	return f.named("load_latency")
}

// LoadCPU: what each message costs in CPU under open-loop load, against
// the offered rate. The receiver's CPU time per message (user + system)
// is the channel's cost. The sender's is not: it spins for the last 2 ms
// before every due time to send on schedule, so at 1,000 messages/s it
// burns a millisecond per message whatever the mechanism. Its system
// time alone (the send calls and wake-ups, not the user-space pacing
// spin) is drawn apart, in the second panel.
func LoadCPU(recs []record.Record) ([]*Figure, error) {
	ss := group(recs, record.Load)
	if len(ss) == 0 {
		return nil, nil
	}
	size := loadSize(ss)
	f := newFigure(fmt.Sprintf("Open loop: CPU per message against offered load, %s messages", record.SizeLabel(size)),
		context(recs),
		"CPU from getrusage over the measured part. The sender's user time is left out: it is the harness's pacing spin before each due time, "+
			"not the channel; its system time (send calls, wake-ups) is the lower panel. A run whose time is 0 (below getrusage's resolution) is left out. "+barsNote+".")
	panels := []struct {
		title, y string
		get      func(record.Record) float64
	}{
		{"Receiver: CPU time per message (user + system)", "",
			func(r record.Record) float64 { return positive(r.Receiver.CPUNsPerMsg) }},
		{"Sender: system time per message (its pacing spin excluded)", "",
			func(r record.Record) float64 {
				if r.Count <= 0 {
					return math.NaN()
				}
				return positive(float64(r.Sender.SysNs) / float64(r.Count))
			}},
	}
	for _, pn := range panels {
		p := newPanel(pn.title, "offered load, log scale", pn.y)
		logLog(p, RateTicks{}, TimeTicks{})
		for _, s := range ss {
			if err := plotSeries(f, p, s, loadPoints(s, size, pn.get).floor(1)); err != nil {
				return nil, err
			}
		}
		finish(p)
		f.row(p)
	}
	return f.named("load_cpu")
}

// positive is v, or NaN (left out) when it is not above 0: a CPU time of
// 0 is below getrusage's resolution and has no place on a log axis.
func positive(v float64) float64 {
	if v > 0 {
		return v
	}
	return math.NaN()
}
