package plot

import (
	"fmt"
	"sort"

	"github.com/ipclab/ipclab/bench"
	"gonum.org/v1/plot/plotter"
)

// FanInThroughput: the messages per second one consumer receives from 1,
// 2, 4 and 8 producer processes, per transport (median of runs). Drawn
// when the fan-in mode was measured.
func FanInThroughput(recs []bench.Record, dir string) ([]string, error) {
	ss := group(recs, bench.FanIn)
	if len(ss) == 0 {
		return nil, nil
	}
	size := ss[0].sizes[0]
	p := newPlot(fmt.Sprintf("Fan-in: aggregate throughput into one consumer, %s messages", bench.SizeLabel(size)),
		"producer processes", "messages/s received (median of runs)")
	for _, s := range ss {
		byN := map[int][]bench.Record{}
		for _, r := range s.values[size] {
			byN[r.Producers] = append(byN[r.Producers], r)
		}
		var ns []int
		for n := range byN {
			ns = append(ns, n)
		}
		sort.Ints(ns)
		var xy plotter.XYs
		for _, n := range ns {
			xy = append(xy, plotter.XY{X: float64(n), Y: median(byN[n], func(r bench.Record) float64 { return r.MsgsPerSec })})
		}
		if err := s.draw(p, s.name, xy); err != nil {
			return nil, err
		}
	}
	return save(p, dir, "fanin_throughput")
}
