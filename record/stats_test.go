package record

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/montanaflynn/stats"
)

func TestSummarizeKnownInputs(t *testing.T) {
	// 1..100: type-7 percentile p is 1 + p/100*99.
	var s []float64
	for i := 100; i >= 1; i-- { // unsorted on purpose
		s = append(s, float64(i))
	}
	got, err := Summarize(s)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{N: 100, Min: 1, P50: 50.5, P90: 90.1, P99: 99.01, P999: 99.901, Max: 100, Mean: 50.5}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if got.N != want.N || !near(got.Min, want.Min) || !near(got.P50, want.P50) || !near(got.P90, want.P90) ||
		!near(got.P99, want.P99) || !near(got.P999, want.P999) || !near(got.Max, want.Max) || !near(got.Mean, want.Mean) {
		t.Fatalf("Summarize(1..100) = %+v, want %+v", got, want)
	}
	if sd := math.Sqrt(841.6666666666666); !near(got.Stddev, sd) { // sample stddev of 1..100
		t.Fatalf("stddev %v, want %v", got.Stddev, sd)
	}
	if len(got.Quantiles) != 100 || !near(got.Quantiles[0], 1.99) || !near(got.Quantiles[99], 99.901) {
		t.Fatalf("quantiles: %d points, first %v, last %v", len(got.Quantiles), got.Quantiles[0], got.Quantiles[99])
	}
	if s[0] != 100 {
		t.Fatal("Summarize reordered its input")
	}
}

func TestSummarizeEdges(t *testing.T) {
	if _, err := Summarize(nil); err == nil {
		t.Fatal("no samples accepted")
	}
	one, err := Summarize([]float64{7})
	if err != nil || one.P50 != 7 || one.P999 != 7 || one.Stddev != 0 {
		t.Fatalf("one sample: %+v, %v", one, err)
	}
	two, _ := Summarize([]float64{10, 20})
	if two.P50 != 15 || two.P90 != 19 {
		t.Fatalf("two samples: p50 %v p90 %v, want 15 and 19", two.P50, two.P90)
	}
}

func TestSpreadOf(t *testing.T) {
	s := SpreadOf([]float64{3, 1, 2, 10})
	if s.Median != 2.5 || s.Min != 1 || s.Max != 10 || s.Runs != 4 {
		t.Fatalf("SpreadOf = %+v", s)
	}
}

// TestPercentileOfSortedIsStats: the summary's percentiles, taken from one
// sorted copy, are stats.Percentile's, bit for bit, at every length and
// percent the summary uses and at the edges.
func TestPercentileOfSortedIsStats(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	percents := append([]float64{0, -1, 0.001, 50, 100, 100.5, math.NaN()}, QuantilePoints...)
	for _, n := range []int{0, 1, 2, 3, 7, 100, 1001, 5000} {
		data := make([]float64, n)
		for i := range data {
			data[i] = float64(rng.IntN(1000)) * 10 // repeats, as timings have
			if i%97 == 5 {
				data[i] = math.Inf(1)
			}
		}
		sorted := slices.Sorted(slices.Values(data))
		for _, p := range percents {
			want, wantErr := stats.Percentile(data, p)
			got, gotErr := percentileOfSorted(sorted, p)
			if !errors.Is(gotErr, wantErr) || !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("n=%d p=%v: got %v, %v; stats.Percentile %v, %v", n, p, got, gotErr, want, wantErr)
			}
		}
	}
}

// TestSummarizeCopiesOnce: a summary sorts one copy of its samples, where
// stats.Percentile would sort one per percentile (105 of them, 4 MB for
// 5,000 samples: a garbage collection due in the harness every case).
func TestSummarizeCopiesOnce(t *testing.T) {
	samples := make([]float64, 5000)
	for i := range samples {
		samples[i] = float64(len(samples) - i)
	}
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := Summarize(samples); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 { // the copy, the quantiles, and room for a closure
		t.Errorf("Summarize of %d samples: %.0f allocations, want at most 4", len(samples), allocs)
	}
}

// TestSummarizeCountsSlow: Slow counts the samples strictly over 3x the
// median, wherever they are in the input.
func TestSummarizeCountsSlow(t *testing.T) {
	var s []float64
	for i := 0; i < 980; i++ {
		s = append(s, 10)
	}
	for i := 0; i < 10; i++ {
		s = append(s, 30) // 3x the median exactly: not slow
	}
	for i := 0; i < 7; i++ {
		s = slices.Insert(s, 100*i, 30.5) // spread through the input
	}
	s = append(s, 1e6, 45, 31)
	got, err := Summarize(s)
	if err != nil {
		t.Fatal(err)
	}
	if got.P50 != 10 || got.Slow != 10 {
		t.Fatalf("median %v, slow %d; want 10 and 10 (seven at 30.5, then 31, 45 and 1e6)", got.P50, got.Slow)
	}
	if one, _ := Summarize([]float64{5}); one.Slow != 0 {
		t.Fatalf("one sample: slow %d, want 0", one.Slow)
	}
}
