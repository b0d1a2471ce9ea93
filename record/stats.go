package record

import (
	"errors"
	"math"
	"slices"
	"sort"

	"github.com/montanaflynn/stats"
)

// Summary describes a set of latency samples, in nanoseconds. Percentiles
// interpolate linearly between closest ranks (Hyndman & Fan type 7, as
// NumPy and R do by default), as github.com/montanaflynn/stats does.
type Summary struct {
	N      int     `json:"n"`
	Min    float64 `json:"min_ns"`
	P50    float64 `json:"p50_ns"`
	P90    float64 `json:"p90_ns"`
	P99    float64 `json:"p99_ns"`
	P999   float64 `json:"p999_ns"`
	Max    float64 `json:"max_ns"`
	Mean   float64 `json:"mean_ns"`
	Stddev float64 `json:"stddev_ns"`
	// Slow counts the samples over 3x the median. On this kind of
	// machine a few round trips in a thousand wait out an interruption
	// (the host, the kernel, a runtime thread: 20-50 us against a 9 us
	// median on one CPU); while they are under 1% the p99 sits below
	// them, and once they pass it the p99 jumps to them. Slow says how
	// near a case was, so a p99 that doubles between runs can be read.
	Slow int `json:"slow_over_3x_p50"`
	// Quantiles are the 1st to 99th percentiles and the 99.9th, in order:
	// enough to draw the distribution (CDF) without the raw samples.
	Quantiles []float64 `json:"quantiles_ns,omitempty"`
}

// QuantilePoints are the percentiles Summary.Quantiles holds.
var QuantilePoints = func() []float64 {
	p := make([]float64, 0, 100)
	for i := 1; i <= 99; i++ {
		p = append(p, float64(i))
	}
	return append(p, 99.9)
}()

// Summarize computes the summary of samples (nanoseconds).
func Summarize(samples []float64) (Summary, error) {
	if len(samples) == 0 {
		return Summary{}, errors.New("bench: no samples")
	}
	data := stats.Float64Data(slices.Clone(samples))
	slices.Sort(data)
	s := Summary{N: len(data), Min: data[0], Max: data[len(data)-1]}
	var err error
	pct := func(p float64) float64 {
		v, e := percentileOfSorted(data, p)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	s.P50, s.P90, s.P99, s.P999 = pct(50), pct(90), pct(99), pct(99.9)
	// data is sorted: the slow ones are the tail past 3x the median.
	s.Slow = len(data) - sort.SearchFloat64s(data, math.Nextafter(3*s.P50, math.Inf(1)))
	s.Quantiles = make([]float64, len(QuantilePoints))
	for i, p := range QuantilePoints {
		s.Quantiles[i] = pct(p)
	}
	if s.Mean, err = stats.Mean(data); err != nil {
		return s, err
	}
	if len(data) > 1 {
		s.Stddev, err = stats.StandardDeviationSample(data)
	}
	return s, err
}

// percentileOfSorted is stats.Percentile (linear interpolation between
// closest ranks) of data already sorted. stats.Percentile sorts a copy of
// its input on every call: a summary's 105 percentiles of a 5,000-sample
// case allocated 4 MB, which made the harness's next garbage collection
// due in nearly every case, among the next case's messages.
// TestPercentileOfSortedIsStats holds the two equal.
func percentileOfSorted(data []float64, percent float64) (float64, error) {
	n := len(data)
	switch {
	case n == 0:
		return math.NaN(), stats.EmptyInputErr
	case math.IsNaN(percent) || percent <= 0 || percent > 100:
		return math.NaN(), stats.BoundsErr
	case n == 1:
		return data[0], nil
	case math.IsNaN(data[0]): // sorting puts a NaN first; it has no rank
		return math.NaN(), nil
	}
	rank := percent / 100 * float64(n-1)
	k := int(rank)
	f := rank - float64(k)
	if k+1 >= n || f == 0 || data[k+1] == data[k] {
		return data[k], nil
	}
	if delta := data[k+1] - data[k]; !math.IsInf(delta, 1) {
		return data[k] + f*delta, nil
	}
	return (1-f)*data[k] + f*data[k+1], nil
}

// Spread is the median and range of one measure over repeated runs, and
// each run's value. With fewer than MinRunsForMedian runs the Median is
// not a figure to print as the case's: see Format.
type Spread struct {
	Median, Min, Max float64
	Runs             int
	Values           []float64 // in the order given (run order)
}

// SpreadOf summarises values from repeated runs of one case.
func SpreadOf(values []float64) Spread {
	if len(values) == 0 {
		return Spread{}
	}
	med, _ := stats.Median(values)
	lo, _ := stats.Min(values)
	hi, _ := stats.Max(values)
	return Spread{Median: med, Min: lo, Max: hi, Runs: len(values), Values: slices.Clone(values)}
}
