package plot

import (
	"fmt"
	"sort"

	"github.com/ipclab/ipclab/record"
)

// FanInThroughput: the messages per second one consumer receives from 1,
// 2, 4 and 8 producer processes, per transport. Drawn when the fan-in
// mode was measured.
func FanInThroughput(recs []record.Record) ([]*Figure, error) {
	ss := group(recs, record.FanIn)
	if len(ss) == 0 {
		return nil, nil
	}
	size := loadSize(ss)
	f := newFigure(fmt.Sprintf("Fan-in: aggregate throughput into one consumer, %s messages", record.SizeLabel(size)),
		context(recs), "Every producer's order checked by the consumer. "+barsNote+".")
	p := newPanel("Messages per second received", "producer processes", "received, log")
	logY(p, RateTicks{})
	var ns []float64
	for _, s := range ss {
		byN := map[int][]record.Record{}
		for _, r := range s.values[size] {
			byN[r.Producers] = append(byN[r.Producers], r)
		}
		var keys []int
		for n := range byN {
			keys = append(keys, n)
		}
		sort.Ints(keys)
		var ps points
		for _, n := range keys {
			if sp, ok := spreadOf(byN[n], func(r record.Record) float64 { return r.MsgsPerSec }); ok {
				ps = append(ps, point{float64(n), sp})
				ns = appendNew(ns, float64(n))
			}
		}
		if err := plotSeries(f, p, s, ps.floor(1e-3)); err != nil {
			return nil, err
		}
	}
	sort.Float64s(ns)
	p.X.Tick.Marker = valueTicks(ns)
	finish(p)
	if len(ns) > 0 { // room for the markers at both ends
		span := max(ns[len(ns)-1]-ns[0], 1)
		p.X.Min, p.X.Max = ns[0]-span*0.05, ns[len(ns)-1]+span*0.05
	}
	f.row(p)
	return f.named("fanin_throughput")
}

func appendNew(xs []float64, x float64) []float64 {
	for _, v := range xs {
		if v == x {
			return xs
		}
	}
	return append(xs, x)
}
