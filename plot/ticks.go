package plot

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	gplot "gonum.org/v1/plot"
)

// Tickers for log axes: a labelled tick at each power of ten and an
// unlabelled one at 2..9 times it; when the axis spans less than two
// labelled powers of ten (a single message size, a narrow band) the 2 and 5
// multiples are labelled too, so an axis never has fewer than two
// labels. Labels carry their unit ("10 µs", "100 k/s", "4 KiB"): no
// "1e+06" beside "100000".

// logTicks returns the ticks of a log axis from min to max, labelled by
// format.
func logTicks(min, max float64, format func(float64) string) []gplot.Tick {
	if !(min > 0) || !(max >= min) || math.IsInf(max, 0) {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	var ticks []gplot.Tick
	labelled := 0
	for e := lo; e <= hi; e++ {
		if v := math.Pow(10, float64(e)); v >= min*0.999 && v <= max*1.001 {
			labelled++
		}
	}
	for e := lo; e <= hi; e++ {
		d := math.Pow(10, float64(e))
		for m := 1; m <= 9; m++ {
			v := float64(m) * d
			if v < min*0.999 || v > max*1.001 {
				continue
			}
			t := gplot.Tick{Value: v}
			if m == 1 || labelled < 3 && (m == 2 || m == 5) {
				t.Label = format(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// trim formats v with at most three significant digits and no exponent.
func trim(v float64) string {
	if v == 0 {
		return "0"
	}
	d := 3 - int(math.Ceil(math.Log10(math.Abs(v))))
	p := math.Pow(10, float64(max(d, 0)))
	return strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64)
}

// withPrefix scales v by 1000s to below 1000 and names the step.
func withPrefix(v float64, prefixes []string, first int) string {
	i := first
	for math.Abs(v) >= 999.5 && i < len(prefixes)-1 {
		v /= 1000
		i++
	}
	for math.Abs(v) < 1 && v != 0 && i > 0 {
		v *= 1000
		i--
	}
	return trim(v) + prefixes[i]
}

// FormatNs names a duration in nanoseconds: "250 ns", "1 µs", "1.5 ms".
func FormatNs(ns float64) string {
	return withPrefix(ns, []string{" ns", " µs", " ms", " s"}, 0)
}

// FormatRate names a rate in messages per second: "500/s", "100 k/s",
// "1 M/s".
func FormatRate(perSec float64) string {
	return withPrefix(perSec, []string{"/s", " k/s", " M/s", " G/s"}, 0)
}

// FormatBytesRate names a rate in MB/s (10^6 bytes): "100 MB/s", "2 GB/s".
func FormatBytesRate(mbPerSec float64) string {
	return withPrefix(mbPerSec, []string{" B/s", " kB/s", " MB/s", " GB/s", " TB/s"}, 2)
}

// FormatSize names a message size: "8 B", "4 KiB", "1 MiB"; sizes that
// are not a whole number of KiB or MiB stay in bytes ("1000 B").
func FormatSize(n float64) string {
	switch b := int64(math.Round(n)); {
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	case b >= 1<<10 && b%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", b>>10)
	default:
		return fmt.Sprintf("%d B", b)
	}
}

// TimeTicks label a log axis in nanoseconds ("1 µs", "10 µs").
type TimeTicks struct{}

// Ticks implements gonum's plot.Ticker.
func (TimeTicks) Ticks(min, max float64) []gplot.Tick { return logTicks(min, max, FormatNs) }

// RateTicks label a log axis in messages per second ("100 k/s", "1 M/s").
type RateTicks struct{}

// Ticks implements gonum's plot.Ticker.
func (RateTicks) Ticks(min, max float64) []gplot.Tick { return logTicks(min, max, FormatRate) }

// BytesRateTicks label a log axis in MB/s ("100 MB/s", "1 GB/s").
type BytesRateTicks struct{}

// Ticks implements gonum's plot.Ticker.
func (BytesRateTicks) Ticks(min, max float64) []gplot.Tick {
	return logTicks(min, max, FormatBytesRate)
}

// SizeTicks label a log axis of message sizes: the measured Sizes if
// given ("8 B", "64 B", "4 KiB"), with unlabelled ticks at the other
// powers of two; without Sizes, every power of two, or every other one
// when the axis spans many.
type SizeTicks struct{ Sizes []float64 }

// Ticks implements gonum's plot.Ticker.
func (st SizeTicks) Ticks(min, max float64) []gplot.Tick {
	if !(min > 0) || !(max >= min) || math.IsInf(max, 0) {
		return nil
	}
	in := func(v float64) bool { return v >= min*0.999 && v <= max*1.001 }
	labelled := map[float64]bool{}
	for _, v := range st.Sizes {
		if in(v) {
			labelled[v] = true
		}
	}
	byValue := len(labelled) > 0
	var ticks []gplot.Tick
	lo, hi := int(math.Ceil(math.Log2(min*0.999))), int(math.Floor(math.Log2(max*1.001)))
	every := 1
	if hi-lo > 12 {
		every = 2
	}
	for e := lo; e <= hi; e++ {
		v := math.Pow(2, float64(e))
		t := gplot.Tick{Value: v}
		if !byValue && (e%every == 0 || hi == lo) || labelled[v] {
			t.Label = FormatSize(v)
			delete(labelled, v)
		}
		ticks = append(ticks, t)
	}
	for v := range labelled { // measured sizes that are not powers of two
		ticks = append(ticks, gplot.Tick{Value: v, Label: FormatSize(v)})
	}
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].Value < ticks[j].Value })
	return ticks
}

// sizesOf are the distinct measured sizes of the series, for SizeTicks.
func sizesOf(ss []*series) []float64 {
	var out []float64
	for _, s := range ss {
		for _, z := range s.sizes {
			out = appendNew(out, float64(max(z, 1)))
		}
	}
	return out
}

// RatioTicks label a log axis of ratios at powers of two: "1/4", "1/2",
// "1", "2".
type RatioTicks struct{}

// Ticks implements gonum's plot.Ticker.
func (RatioTicks) Ticks(min, max float64) []gplot.Tick {
	var t []gplot.Tick
	for e := -10; e <= 10; e++ {
		v := math.Pow(2, float64(e))
		if v < min*0.999 || v > max*1.001 {
			continue
		}
		label := strconv.Itoa(int(v))
		if e < 0 {
			label = "1/" + strconv.Itoa(int(1/v))
		}
		t = append(t, gplot.Tick{Value: v, Label: label})
	}
	return t
}

// valueTicks label exactly the given values (producer counts).
type valueTicks []float64

func (vt valueTicks) Ticks(min, max float64) []gplot.Tick {
	var t []gplot.Tick
	for _, v := range vt {
		if v >= min && v <= max {
			t = append(t, gplot.Tick{Value: v, Label: trim(v)})
		}
	}
	return t
}

// padLog widens a log axis's range around its data by a factor on each
// side, so that the extreme points and their error bars sit inside the
// frame, and a single value (one message size) still gets an axis a few
// ticks wide around it instead of gonum's ±1 (which is 0 at x = 1 and
// has no logarithm).
func padLog(a *gplot.Axis) {
	lo, hi := a.Min, a.Max
	if !(lo > 0) || math.IsInf(hi, 0) || math.IsNaN(hi) {
		return
	}
	f := 1.3
	if r := hi / lo; r*f*f < 4 {
		f = math.Sqrt(4 / r)
	}
	a.Min, a.Max = lo/f, hi*f
}
