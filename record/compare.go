package record

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Delta is the change of one figure of one case between two sets of runs.
type Delta struct {
	Key
	Metric        string // "p50", "p99" (round trip), "one-way p50" (load) or "msgs/s"
	LowerIsBetter bool   // latency: lower is faster; msgs/s: higher is
	Old, New      Spread // over runs
	// Ratio is New's median over Old's (each run's value with fewer than
	// MinRunsForMedian runs is still summed up by its median here).
	Ratio float64
	// P is the Mann–Whitney U test over the runs' values (a run is the
	// unit of replication: the samples within one run are not independent
	// of each other); Q is P adjusted for the number of figures tested
	// (Comparison.Correction).
	P, Q float64
	// Significant: Q <= alpha. When the runs are too few for any P to
	// reach alpha, TooFewRuns says so instead, NeedRuns how many runs on
	// each side could, and the figure is not counted among those tested.
	Significant bool
	TooFewRuns  bool
	NeedRuns    int
}

// Faster reports whether New is better than Old on this figure: lower
// latency, or higher rate.
func (d Delta) Faster() bool {
	if d.LowerIsBetter {
		return d.Ratio < 1
	}
	return d.Ratio > 1
}

// Change words the change: "1.83× slower", "12% faster", "same". A factor
// of 2 or more is said as a factor; under that, as a percentage of Old.
func (d Delta) Change() string {
	if d.Ratio == 1 || math.IsNaN(d.Ratio) {
		return "same"
	}
	word := "slower"
	if d.Faster() {
		word = "faster"
	}
	// How much better or worse, as a factor >= 1, in the metric's sense:
	// 2× slower is twice the latency or half the rate.
	f := d.Ratio
	if f < 1 {
		f = 1 / f
	}
	if math.IsInf(f, 0) {
		return "infinitely " + word
	}
	if f >= 2 {
		return fmt.Sprintf("%.2f× %s", f, word)
	}
	return fmt.Sprintf("%.0f%% %s", 100*(f-1), word)
}

// Corrections for testing many figures at once.
const (
	// BenjaminiHochberg bounds the expected share of false changes among
	// those reported (the false discovery rate) at alpha. It assumes the
	// tests independent or positively dependent, as figures measured in
	// interleaved runs on one machine are (noise moves them together).
	BenjaminiHochberg = "Benjamini–Hochberg"
	// Holm bounds the chance of reporting even one false change (the
	// family-wise error rate) at alpha, under any dependence. With 5 runs
	// a side no p is below 0.0079, and Holm's first threshold is alpha
	// over the number of figures: past 6 figures it can call nothing.
	Holm = "Holm"
)

// Comparison is Compare's answer.
type Comparison struct {
	Deltas []Delta
	// OnlyOld and OnlyNew are the cases measured on one side only (absent,
	// or skipped, on the other): not compared, and said.
	OnlyOld, OnlyNew []Key
	Env              []EnvDiff
	Alpha            float64
	Correction       string
	Tested           int // figures with enough runs to test, over which Q is adjusted
}

// Compare matches the measured cases of old and new and tests each
// figure for a change over the runs, benchstat-style: a change counts
// only if the runs say it is not noise at level alpha, after correcting
// for the number of figures tested with correction (BenjaminiHochberg or
// Holm).
func Compare(old, new []Record, alpha float64, correction string) Comparison {
	c := Comparison{Env: EnvDiffs(old, new), Alpha: alpha, Correction: correction}
	oldBy := map[Key]*Group{}
	for _, g := range GroupRecords(old) {
		if g.Skipped() == "" {
			oldBy[g.Key] = g
		}
	}
	seen := map[Key]bool{}
	need := RunsToDetect(alpha)
	for _, ng := range GroupRecords(new) {
		if ng.Skipped() != "" {
			continue
		}
		og := oldBy[ng.Key]
		if og == nil {
			c.OnlyNew = append(c.OnlyNew, ng.Key)
			continue
		}
		seen[ng.Key] = true
		for _, m := range MetricsOf(ng.Mode) {
			ov, _ := og.RunValues(m)
			nv, _ := ng.RunValues(m)
			if len(ov) == 0 || len(nv) == 0 {
				continue
			}
			d := Delta{Key: ng.Key, Metric: m.Name, LowerIsBetter: m.LowerIsBetter, Old: SpreadOf(ov), New: SpreadOf(nv), P: MannWhitney(ov, nv)}
			d.Ratio = ratio(d.New.Median, d.Old.Median)
			d.TooFewRuns = MinMannWhitneyP(len(ov), len(nv)) > alpha
			if d.TooFewRuns {
				d.NeedRuns, d.Q = need, math.NaN()
			} else {
				c.Tested++
			}
			c.Deltas = append(c.Deltas, d)
		}
	}
	for _, g := range GroupRecords(old) {
		if g.Skipped() == "" && !seen[g.Key] {
			c.OnlyOld = append(c.OnlyOld, g.Key)
		}
	}
	var idx []int // the tested figures
	var ps []float64
	for i, d := range c.Deltas {
		if !d.TooFewRuns {
			idx = append(idx, i)
			ps = append(ps, d.P)
		}
	}
	qs := AdjustBH(ps)
	if correction == Holm {
		qs = AdjustHolm(ps)
	}
	for j, i := range idx {
		c.Deltas[i].Q = qs[j]
		c.Deltas[i].Significant = qs[j] <= alpha
	}
	return c
}

// MetricsOf are the figures compare tests in a mode.
func MetricsOf(mode string) []Metric {
	switch mode {
	case Latency:
		return []Metric{MetricRTTP50, MetricRTTP99}
	case Load:
		return []Metric{MetricOneWayP50}
	}
	return []Metric{MetricMsgs}
}

// RunsToDetect is the fewest runs on each side with which the Mann–Whitney
// test can reach alpha at all (4 at 0.05: 3 against 3 give p >= 0.1);
// benchstat says the same of its samples.
func RunsToDetect(alpha float64) int {
	for n := 2; n < 1000; n++ {
		if MinMannWhitneyP(n, n) <= alpha {
			return n
		}
	}
	return 1000
}

// AdjustBH returns Benjamini–Hochberg adjusted p values (q values) in the
// order of ps: q(i) = min over ranks k >= rank(i) of m·p(k)/k, capped at 1.
func AdjustBH(ps []float64) []float64 {
	m := len(ps)
	order := sortedOrder(ps)
	q := make([]float64, m)
	run := 1.0
	for k := m - 1; k >= 0; k-- { // from the largest p down
		i := order[k]
		run = min(run, ps[i]*float64(m)/float64(k+1))
		q[i] = run
	}
	return q
}

// AdjustHolm returns Holm's step-down adjusted p values in the order of
// ps: the k-th smallest (from 0) is max over j <= k of (m-j)·p(j), capped at 1.
func AdjustHolm(ps []float64) []float64 {
	m := len(ps)
	order := sortedOrder(ps)
	q := make([]float64, m)
	run := 0.0
	for k, i := range order {
		run = max(run, min(1, ps[i]*float64(m-k)))
		q[i] = run
	}
	return q
}

func sortedOrder(ps []float64) []int {
	order := make([]int, len(ps))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ps[order[a]] < ps[order[b]] })
	return order
}

// EnvDiff is one fact of the environment that differs between two sets
// of runs: the distinct values each side recorded.
type EnvDiff struct {
	Field    string
	Old, New []string
	// Refuse: the two sides measured different things (another placement,
	// kernel or CPU), so a difference between them is not a change of
	// the code. A differing commit is only warned of: comparing two
	// versions of the code is what compare is for.
	Refuse bool
}

func (d EnvDiff) String() string {
	return fmt.Sprintf("%s differs: old %s, new %s", d.Field, listOr(d.Old), listOr(d.New))
}

func listOr(v []string) string {
	if len(v) == 0 {
		return "(not recorded)"
	}
	return strings.Join(v, " + ")
}

// EnvDiffs compares the placement, kernel, CPU model, commit and
// shared-memory ring sizes the measured records of each side were taken
// with.
func EnvDiffs(old, new []Record) []EnvDiff {
	fields := []struct {
		name   string
		refuse bool
		get    func(Record) string
	}{
		{"placement", true, func(r Record) string { return r.Placement }},
		{"kernel", true, func(r Record) string { return envField(r, func(e *Env) string { return e.Kernel }) }},
		{"CPU model", true, func(r Record) string { return envField(r, func(e *Env) string { return e.CPUModel }) }},
		{"commit", false, func(r Record) string { return envField(r, func(e *Env) string { return e.Commit }) }},
		// Warned of, as a commit: a ring size is a choice of the code (and
		// records before ring_bytes have none), but it moves the figures.
		{"shared-memory ring", false, func(r Record) string {
			if !r.SharedMemory || r.RingBytes == 0 {
				return ""
			}
			return SizeLabel(r.RingBytes)
		}},
	}
	var out []EnvDiff
	for _, f := range fields {
		o, n := distinct(old, f.get), distinct(new, f.get)
		if !slices.Equal(o, n) {
			out = append(out, EnvDiff{Field: f.name, Old: o, New: n, Refuse: f.refuse})
		}
	}
	return out
}

func envField(r Record, f func(*Env) string) string {
	if r.Env == nil {
		return ""
	}
	return f(r.Env)
}

func distinct(recs []Record, get func(Record) string) []string {
	var out []string
	for _, r := range recs {
		if r.Skipped != "" {
			continue
		}
		if v := get(r); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}
