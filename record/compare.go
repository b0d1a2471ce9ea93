package record

import (
	"fmt"
	"io"
	"text/tabwriter"
)

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

// WriteComparison writes deltas as a table, one figure of one case a row,
// and what the verdicts mean under it; it returns how many figures changed
// significantly.
func WriteComparison(w io.Writer, deltas []Delta, alpha float64) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "case\tsize\t\told\tnew\tchange\t\t\n")
	changed, tooFew := 0, false
	for _, d := range deltas {
		name := d.Transport
		if d.Link != RawLink {
			name += " " + d.Link
		}
		if d.Impl != ImplGo {
			name += " [" + d.Impl + "]"
		}
		format := ns
		if d.Metric == "msgs/s" {
			format = func(v float64) string { return fmt.Sprintf("%.0f", v) }
		}
		verdict := "~"
		switch {
		case d.TooFewRuns:
			verdict, tooFew = "? (too few runs)", true
		case d.Significant:
			verdict = fmt.Sprintf("%+.1f%%", 100*d.Change)
			changed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t(p=%.3f n=%d+%d)\t\n", name, SizeLabel(d.Size), d.Metric,
			format(d.Old.Median), format(d.New.Median), verdict, d.P, d.Old.Runs, d.New.Runs)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d of %d figures changed significantly (Mann–Whitney U, alpha %.2f); ~ means no significant change\n", changed, len(deltas), alpha)
	if tooFew {
		fmt.Fprintf(w, "? : with these run counts no p can reach %.2f; measure with more -runs\n", alpha)
	}
	return changed
}
