package record

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// What can honestly be said of one figure measured in several runs.
//
// A run is the unit of replication: the samples inside one run share its
// process pair, placement, cache state and neighbours, so they say how a
// run varies, not how runs do. The statistics here are over per-run
// values (one p50, one msgs/s per run), as x/perf's benchmath treats one
// benchmark result per line.
const (
	// MinRunsForMedian is the fewest runs whose median is given as the
	// figure of a case. With 2 runs the "median" is the mean of two
	// values, a number no run measured; then each run's value is shown.
	MinRunsForMedian = 3
	// WideSpreadRatio: runs disagree when the largest per-run value is
	// more than this times the smallest. 1.5 is far beyond the few per
	// cent by which runs of one behaviour differ: a spread this wide is
	// not noise around one figure but runs that did not measure the same
	// thing (another CPU, a neighbour, a frequency change).
	WideSpreadRatio = 1.5
	// BimodalGap: sorted per-run values that split, at their largest
	// ratio between neighbours, into two groups of 2 or more runs each
	// with a gap of at least this factor, wider than either group's own
	// spread and than the square of any other neighbour ratio, are two
	// modes (e.g. runs where the peers shared a CPU and
	// runs where they did not).
	BimodalGap = 1.25
	// MinRunsForBimodal and MinRunsForOutliers: two groups need 2 runs
	// each; Tukey's fences need quartiles, which 3 values do not give.
	MinRunsForBimodal  = 4
	MinRunsForOutliers = 4
	// TukeyK is the fence distance in interquartile ranges (Tukey's 1.5).
	TukeyK = 1.5
	// OutlierMinDeviation: a run outside the fences is reported only when
	// it is also this far (relative) from the median. With tight runs the
	// IQR can be a fraction of a per cent, and a run a few per cent off
	// is no news on a shared machine.
	OutlierMinDeviation = 0.10
)

// WarningKind names a way runs can disagree.
type WarningKind string

const (
	WarnWideSpread WarningKind = "wide-spread" // largest over smallest per-run value above WideSpreadRatio
	WarnBimodal    WarningKind = "bimodal"     // per-run values fall in two separated groups
	WarnOutlier    WarningKind = "outlier"     // a run beyond Tukey's fences
)

// Warning says that the runs of one case disagree on one figure, and how.
type Warning struct {
	Kind   WarningKind `json:"kind"`
	Case   string      `json:"case"`   // Key.String of the case
	Metric string      `json:"metric"` // the figure, as Metric.Name
	// Runs are the run numbers the warning points at: the outlier; the
	// upper group of a bimodal case; the runs of the highest and the
	// lowest value of a wide spread.
	Runs    []int  `json:"runs,omitempty"`
	Message string `json:"message"` // what was seen and the rule it broke, in one sentence
	Short   string `json:"short"`   // the gist in a few words: "outlier run 2 +45%"
}

func (w Warning) String() string {
	return fmt.Sprintf("%s, %s: %s: %s", w.Case, w.Metric, w.Kind, w.Message)
}

// Metric is one figure of a case, read from each run's record.
type Metric struct {
	Name          string // "p50", "p99", "msgs/s", "one-way p50"
	LowerIsBetter bool   // latency and cost; false for rates
	Of            func(Record) float64
	Format        func(float64) string
}

// The figures the statistics look at.
var (
	MetricRTTP50    = Metric{"p50", true, func(r Record) float64 { return of(r.RTT, func(s *Summary) float64 { return s.P50 }) }, ns}
	MetricRTTP99    = Metric{"p99", true, func(r Record) float64 { return of(r.RTT, func(s *Summary) float64 { return s.P99 }) }, ns}
	MetricMsgs      = Metric{"msgs/s", false, func(r Record) float64 { return r.MsgsPerSec }, rate}
	MetricOneWayP50 = Metric{"one-way p50", true, func(r Record) float64 { return of(r.OneWay, func(s *Summary) float64 { return s.P50 }) }, ns}
)

// of reads a figure of a summary a record may lack (NaN then).
func of(s *Summary, f func(*Summary) float64) float64 {
	if s == nil {
		return math.NaN()
	}
	return f(s)
}

func rate(v float64) string { return fmt.Sprintf("%.0f", v) }

// PrimaryMetric is the figure of a mode whose per-run values are checked
// for disagreement: each run's median round trip (latency), its rate
// (throughput, fan-in), its median one-way latency (load).
func PrimaryMetric(mode string) Metric {
	switch mode {
	case Latency:
		return MetricRTTP50
	case Load:
		return MetricOneWayP50
	}
	return MetricMsgs
}

// RunValues are the values of m in the runs of g that measured it, in
// run order, and those runs' numbers. A value that is not a number (a
// record without the summary m reads) is left out.
func (g *Group) RunValues(m Metric) (values []float64, runs []int) {
	for _, r := range g.Records {
		if r.Skipped != "" {
			continue
		}
		if v := m.Of(r); !math.IsNaN(v) && !math.IsInf(v, 0) {
			values = append(values, v)
			runs = append(runs, r.Run)
		}
	}
	return values, runs
}

// Disagreement checks per-run values of one figure (runs are their run
// numbers, for the messages) for a wide spread, two modes and Tukey
// outliers, each only with the runs its rule needs; the warnings have
// Kind, Runs and Message set.
func Disagreement(values []float64, runs []int, m Metric) []Warning {
	n := len(values)
	if n < 2 {
		return nil
	}
	format := m.Format
	if format == nil {
		format = func(v float64) string { return fmt.Sprint(v) }
	}
	idx := make([]int, n) // indices sorted by value
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(values[a], values[b]) })
	sorted := make([]float64, n)
	for i, j := range idx {
		sorted[i] = values[j]
	}
	var out []Warning
	lo, hi := sorted[0], sorted[n-1]
	if r := ratio(hi, lo); r > WideSpreadRatio {
		out = append(out, Warning{Kind: WarnWideSpread, Runs: []int{runs[idx[n-1]], runs[idx[0]]},
			Short: fmt.Sprintf("wide spread %s (low run %d, high run %d)", times(r), runs[idx[0]], runs[idx[n-1]]),
			Message: fmt.Sprintf("the runs' %s range from %s (run %d) to %s (run %d), %s apart; runs agreeing within %.1f× are expected",
				m.Name, format(lo), runs[idx[0]], format(hi), runs[idx[n-1]], times(r), WideSpreadRatio)})
	}
	if n >= MinRunsForBimodal {
		gap, at, next := 0.0, 0, 1.0 // the largest neighbour ratio, between sorted[at-1] and sorted[at], and the next largest
		for i := 1; i < n; i++ {
			switch r := ratio(sorted[i], sorted[i-1]); {
			case r > gap:
				gap, at, next = r, i, gap
			case r > next:
				next = r
			}
		}
		next = max(next, 1)
		low, high := sorted[:at], sorted[at:]
		// The gap must stand out: wider than either group's own spread,
		// and than the square of any other gap (evenly spread values are
		// one wide mode, not two).
		if len(low) >= 2 && len(high) >= 2 && gap >= BimodalGap && gap >= next*next &&
			gap > ratio(low[len(low)-1], low[0]) && gap > ratio(high[len(high)-1], high[0]) {
			var upper []int
			for _, j := range idx[at:] {
				upper = append(upper, runs[j])
			}
			slices.Sort(upper)
			out = append(out, Warning{Kind: WarnBimodal, Runs: upper,
				Short: fmt.Sprintf("bimodal %d+%d runs, gap %s", len(low), len(high), times(gap)),
				Message: fmt.Sprintf("the runs' %s fall in two groups, %d runs at %s..%s and %d (runs %s) at %s..%s, %s apart with nothing between: two behaviours, not one noisy figure",
					m.Name, len(low), format(low[0]), format(low[len(low)-1]), len(high), joinInts(upper),
					format(high[0]), format(high[len(high)-1]), times(gap))})
		}
	}
	if n >= MinRunsForOutliers {
		q1, q3 := quantile7(sorted, 0.25), quantile7(sorted, 0.75)
		med := quantile7(sorted, 0.5)
		iqr := q3 - q1
		loF, hiF := q1-TukeyK*iqr, q3+TukeyK*iqr
		for i, v := range values {
			if (v < loF || v > hiF) && math.Abs(v-med) > OutlierMinDeviation*math.Abs(med) {
				side := "above"
				fence := hiF
				if v < loF {
					side, fence = "below", loF
				}
				out = append(out, Warning{Kind: WarnOutlier, Runs: []int{runs[i]},
					Short: fmt.Sprintf("outlier run %d %+.0f%%", runs[i], 100*(v/med-1)),
					Message: fmt.Sprintf("run %d's %s, %s, is %s Tukey's fence %s (quartiles %s..%s, fences 1.5 IQR beyond them), %+.0f%% off the median %s",
						runs[i], m.Name, format(v), side, format(fence), format(q1), format(q3), 100*(v/med-1), format(med))})
			}
		}
	}
	return out
}

// RunWarnings checks every measured case of recs for runs that disagree
// on its primary figure (PrimaryMetric), in the order cases first appear.
func RunWarnings(recs []Record) []Warning {
	var out []Warning
	for _, g := range GroupRecords(recs) {
		if g.Skipped() != "" {
			continue
		}
		m := PrimaryMetric(g.Mode)
		v, runs := g.RunValues(m)
		for _, w := range Disagreement(v, runs, m) {
			w.Case, w.Metric = g.Key.String(), m.Name
			out = append(out, w)
		}
	}
	return out
}

// String names a case as the summary and the warnings do: transport, link
// mode (when there is one), size, mode, offered rate or producers, and
// the C baseline: "sysvshm-futex cap-16-block 64 B latency".
func (k Key) String() string {
	s := k.Transport
	if k.Link != RawLink && k.Link != "" {
		s += " " + k.Link
	}
	s += " " + SizeLabel(k.Size) + " " + k.Mode
	if k.Rate > 0 {
		s += fmt.Sprintf(" at %s/s", rate(k.Rate))
	}
	if k.Producers > 0 {
		s += fmt.Sprintf(" from %d producers", k.Producers)
	}
	if k.Batch > 0 {
		s += fmt.Sprintf(" in batches of %d", k.Batch)
	}
	if k.Held {
		s += " with held waits"
	}
	return s + ImplSuffix(k.Impl)
}

// Format writes a spread honestly: with MinRunsForMedian runs or more
// the median and the range, "45.6µs (40.8µs..54µs)"; with fewer each
// run's value, in run order, "410ns, 109µs (2 runs)"; one run's value
// alone.
func (s Spread) Format(f func(float64) string) string {
	switch {
	case s.Runs >= MinRunsForMedian:
		return fmt.Sprintf("%s (%s..%s)", f(s.Median), f(s.Min), f(s.Max))
	case s.Runs > 1 && len(s.Values) == s.Runs:
		parts := make([]string, len(s.Values))
		for i, v := range s.Values {
			parts[i] = f(v)
		}
		return fmt.Sprintf("%s (%d runs)", strings.Join(parts, ", "), s.Runs)
	case s.Runs > 1: // a Spread made without its values
		return fmt.Sprintf("%s..%s (%d runs)", f(s.Min), f(s.Max), s.Runs)
	case s.Runs == 1:
		return f(s.Median)
	}
	return "-"
}

// Value writes a spread in one short cell: the median with
// MinRunsForMedian runs or more, or one run's value; with fewer runs each
// run's value, "410ns,109µs", never their mean (a value never observed).
// Format is the long form, with the range.
func (s Spread) Value(f func(float64) string) string {
	if s.Runs > 1 && s.Runs < MinRunsForMedian && len(s.Values) == s.Runs {
		parts := make([]string, len(s.Values))
		for i, v := range s.Values {
			parts[i] = f(v)
		}
		return strings.Join(parts, ",")
	}
	if s.Runs == 0 {
		return "-"
	}
	return f(s.Median)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ratio is a/b for positive values; +Inf when b is 0 and a is not, 1 when
// both are (a figure that is 0 in every run does not disagree).
func ratio(a, b float64) float64 {
	switch {
	case a == b:
		return 1
	case b <= 0:
		return math.Inf(1)
	}
	return a / b
}

func times(r float64) string {
	if math.IsInf(r, 1) {
		return "infinitely"
	}
	return fmt.Sprintf("%.2f×", r)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// quantile7 is the p-quantile (0..1) of sorted values, type 7 (linear
// between closest ranks), as Summarize's percentiles.
func quantile7(sorted []float64, p float64) float64 {
	h := p * float64(len(sorted)-1)
	i := int(math.Floor(h))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// WriteWarnings writes warnings under a heading, one line a case and
// metric, and the rules that made them.
func WriteWarnings(w io.Writer, warns []Warning) {
	if t := warningTable(warns); t != nil {
		WriteText(w, []Table{*t})
	}
}

// warningTable is the warnings as a table of notes, nil if none.
func warningTable(warns []Warning) *Table {
	if len(warns) == 0 {
		return nil
	}
	type line struct{ name, gist string }
	var lines []line
	at := map[string]int{}
	for _, x := range warns {
		name := x.Case + ", " + x.Metric
		i, ok := at[name]
		if !ok {
			i = len(lines)
			at[name] = i
			lines = append(lines, line{name: name})
		} else {
			lines[i].gist += "; "
		}
		lines[i].gist += x.Short
	}
	t := Table{Title: fmt.Sprintf("WARNING: the runs of %d case(s) disagree (their median hides it):", len(lines))}
	for _, l := range lines {
		t.Notes = append(t.Notes, fmt.Sprintf("  %s: %s", l.name, l.gist))
	}
	t.Notes = append(t.Notes, "  rules: "+WarningRules)
	return &t
}

// WarningRules says in one line when each warning fires.
var WarningRules = fmt.Sprintf("wide-spread: largest per-run value over smallest above %.1f; bimodal (%d+ runs): a gap of %.2f× or more between two groups of 2+ runs, wider than either group and than any other gap squared; outlier (%d+ runs): beyond Tukey's %.1f IQR fences and %.0f%% off the median",
	WideSpreadRatio, MinRunsForBimodal, BimodalGap, MinRunsForOutliers, TukeyK, 100*OutlierMinDeviation)
