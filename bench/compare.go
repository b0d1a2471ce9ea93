package bench

// Delta is the change of one figure of one case between two sets of runs.
type Delta struct {
	Key
	Metric   string  // "p50", "p99" (round trip) or "msgs/s"
	Old, New Spread  // over runs
	Change   float64 // New's median over Old's, minus 1
	P        float64 // Mann–Whitney U over the runs' values
	// Significant: P <= alpha. When the runs are too few for any P to
	// reach alpha, TooFewRuns says so instead.
	Significant bool
	TooFewRuns  bool
}

// Compare matches the measured cases of old and new and tests each
// figure for a change over the runs, benchstat-style: a change counts
// only if the runs say it is not noise at level alpha.
func Compare(old, new []Record, alpha float64) []Delta {
	byKey := map[Key]*Group{}
	for _, g := range GroupRecords(old) {
		byKey[g.Key] = g
	}
	metrics := map[string][]struct {
		name string
		f    func(Record) float64
	}{
		Latency: {
			{"p50", func(r Record) float64 { return r.RTT.P50 }},
			{"p99", func(r Record) float64 { return r.RTT.P99 }},
		},
		Throughput: {{"msgs/s", func(r Record) float64 { return r.MsgsPerSec }}},
	}
	var out []Delta
	for _, ng := range GroupRecords(new) {
		og := byKey[ng.Key]
		if og == nil || og.Skipped() != "" || ng.Skipped() != "" {
			continue
		}
		for _, m := range metrics[ng.Mode] {
			ov, nv := values(og.Records, m.f), values(ng.Records, m.f)
			d := Delta{Key: ng.Key, Metric: m.name, Old: SpreadOf(ov), New: SpreadOf(nv), P: MannWhitney(ov, nv)}
			d.Change = d.New.Median/d.Old.Median - 1
			d.TooFewRuns = MinMannWhitneyP(len(ov), len(nv)) > alpha
			d.Significant = !d.TooFewRuns && d.P <= alpha
			out = append(out, d)
		}
	}
	return out
}

func values(rs []Record, f func(Record) float64) []float64 {
	v := make([]float64, 0, len(rs))
	for _, r := range rs {
		if r.Skipped == "" {
			v = append(v, f(r))
		}
	}
	return v
}
