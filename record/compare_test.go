package record

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func latencyRuns(transport string, p50s ...float64) []Record {
	var rs []Record
	for i, v := range p50s {
		rs = append(rs, Record{Schema: SchemaVersion, Run: i + 1, Transport: transport, Impl: "go", Mode: Latency, Link: "raw", Size: 64,
			Placement: "split", RTT: &Summary{P50: v, P99: 10 * v}})
	}
	return rs
}

func throughputRuns(transport string, rates ...float64) []Record {
	var rs []Record
	for i, v := range rates {
		rs = append(rs, Record{Schema: SchemaVersion, Run: i + 1, Transport: transport, Impl: "go", Mode: Throughput, Link: "raw", Size: 4096,
			Placement: "split", MsgsPerSec: v})
	}
	return rs
}

func TestCompare(t *testing.T) {
	old := slices.Concat(latencyRuns("slowed", 10, 11, 12, 13, 14), latencyRuns("same", 10, 11, 12, 13, 14),
		latencyRuns("few", 10, 11, 12), latencyRuns("gone", 1, 2, 3, 4, 5), throughputRuns("sped", 100, 101, 102, 103, 104))
	new := slices.Concat(latencyRuns("slowed", 20, 21, 22, 23, 24), latencyRuns("same", 10.5, 11.5, 12.5, 9.5, 13.5),
		latencyRuns("few", 30, 31, 32), latencyRuns("new", 1, 2, 3, 4, 5), throughputRuns("sped", 300, 301, 302, 303, 304))
	c := Compare(old, new, 0.05, BenjaminiHochberg)
	got := map[string]Delta{}
	for _, d := range c.Deltas {
		got[d.Transport+" "+d.Metric] = d
	}
	if len(got) != 7 {
		t.Fatalf("%d deltas, want 7 (3 latency cases x p50, p99; 1 msgs/s): %v", len(got), got)
	}
	if c.Tested != 5 {
		t.Errorf("%d figures tested, want 5 (the 3-run case cannot reach alpha)", c.Tested)
	}
	if d := got["slowed p50"]; !d.Significant || d.Change() != "83% slower" || d.Q < d.P {
		t.Errorf("slowed: %+v (%s), want a significant 83%% slower, q >= p", d, d.Change())
	}
	if d := got["sped msgs/s"]; !d.Significant || d.Change() != "2.96× faster" {
		t.Errorf("sped: %+v (%s), want 2.96× faster: a higher rate is faster", d, d.Change())
	}
	if d := got["same p50"]; d.Significant || d.TooFewRuns {
		t.Errorf("same: %+v, want no significant change", d)
	}
	if d := got["few p99"]; d.Significant || !d.TooFewRuns || d.NeedRuns != 4 || !math.IsNaN(d.Q) {
		t.Errorf("3 runs against 3: %+v, want too few runs, need 4", d)
	}
	if len(c.OnlyOld) != 1 || c.OnlyOld[0].Transport != "gone" || len(c.OnlyNew) != 1 || c.OnlyNew[0].Transport != "new" {
		t.Errorf("one side only: old %v, new %v", c.OnlyOld, c.OnlyNew)
	}
	var out strings.Builder
	if n := WriteComparison(&out, c); n != 3 {
		t.Errorf("%d figures changed, want 3 (slowed p50 and p99, sped msgs/s):\n%s", n, out.String())
	}
	for _, want := range []string{"83% slower", "2.96× faster", "? (too few runs)", "need >= 4 runs on each side to detect a difference at alpha level 0.05",
		"measured only in OLD, not compared (1):\n  gone 64 B latency", "measured only in NEW, not compared (1):\n  new 64 B latency",
		"Benjamini–Hochberg correction over the 5 figures"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the comparison lacks %q:\n%s", want, out.String())
		}
	}
}

// The two corrections against values computed by hand (and by R's
// p.adjust(p, "BH") and p.adjust(p, "holm")).
func TestAdjust(t *testing.T) {
	ps := []float64{0.01, 0.04, 0.03, 0.005}
	bh := []float64{0.02, 0.04, 0.04, 0.02}
	holm := []float64{0.03, 0.06, 0.06, 0.02}
	near := func(a, b []float64) bool {
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-12 {
				return false
			}
		}
		return len(a) == len(b)
	}
	if got := AdjustBH(ps); !near(got, bh) {
		t.Errorf("BH %v, want %v", got, bh)
	}
	if got := AdjustHolm(ps); !near(got, holm) {
		t.Errorf("Holm %v, want %v", got, holm)
	}
	if got := AdjustHolm([]float64{0.5, 0.9}); !near(got, []float64{1, 1}) {
		t.Errorf("Holm caps at 1: %v", got)
	}
}

// Holm is the stricter: with many figures and few runs it can call
// nothing where Benjamini–Hochberg calls the real changes.
func TestHolmWithFewRunsCallsNothing(t *testing.T) {
	var old, new []Record
	for _, tr := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		old = append(old, latencyRuns(tr, 10, 11, 12, 13, 14)...)
		new = append(new, latencyRuns(tr, 20, 21, 22, 23, 24)...)
	}
	count := func(c Comparison) (n int) {
		for _, d := range c.Deltas {
			if d.Significant {
				n++
			}
		}
		return n
	}
	if n := count(Compare(old, new, 0.05, BenjaminiHochberg)); n != 16 {
		t.Errorf("BH: %d of 16 significant, want all", n)
	}
	if n := count(Compare(old, new, 0.05, Holm)); n != 0 {
		t.Errorf("Holm: %d of 16 significant, want none (16 × 0.0079 > 0.05)", n)
	}
}

func TestEnvDiffs(t *testing.T) {
	env := func(kernel, cpu, commit string) *Env { return &Env{Kernel: kernel, CPUModel: cpu, Commit: commit} }
	a := latencyRuns("pipe", 1, 2)
	b := latencyRuns("pipe", 1, 2)
	for i := range a {
		a[i].Env, b[i].Env = env("6.1", "X", "c1"), env("6.1", "X", "c1")
	}
	if d := EnvDiffs(a, b); len(d) != 0 {
		t.Fatalf("same environment: %v", d)
	}
	b[1].Env = env("6.2", "Y", "c2")
	b[0].Placement = "same"
	d := EnvDiffs(a, b)
	var got []string
	for _, x := range d {
		got = append(got, x.String())
		if x.Refuse != (x.Field != "commit") {
			t.Errorf("%s: refuse %v", x.Field, x.Refuse)
		}
	}
	want := []string{"placement differs: old split, new same + split", "kernel differs: old 6.1, new 6.1 + 6.2",
		"CPU model differs: old X, new X + Y", "commit differs: old c1, new c1 + c2"}
	if !slices.Equal(got, want) {
		t.Errorf("%q\nwant %q", got, want)
	}

	// Shared-memory rings: warned of, not refused; records from before
	// ring_bytes count as not recorded.
	old, cur := latencyRuns("sysvshm-futex", 1, 2), latencyRuns("sysvshm-futex", 1, 2)
	for i := range cur {
		old[i].SharedMemory, cur[i].SharedMemory, cur[i].RingBytes = true, true, 256<<10
	}
	d = EnvDiffs(old, cur)
	if len(d) != 1 || d[0].String() != "shared-memory ring differs: old (not recorded), new 256 KiB" || d[0].Refuse {
		t.Errorf("rings: %v", d)
	}
}

func TestChangeWords(t *testing.T) {
	for _, c := range []struct {
		ratio float64
		lower bool
		want  string
	}{
		{1, true, "same"}, {1.25, true, "25% slower"}, {0.8, true, "25% faster"}, {252.79, true, "252.79× slower"},
		{2, false, "2.00× faster"}, {0.5, false, "2.00× slower"}, {math.Inf(1), true, "infinitely slower"},
	} {
		if got := (Delta{Ratio: c.ratio, LowerIsBetter: c.lower}).Change(); got != c.want {
			t.Errorf("ratio %v lower-is-better %v: %q, want %q", c.ratio, c.lower, got, c.want)
		}
	}
}
