package record

import (
	"math"
	"slices"
)

// MannWhitney is the two-sided Mann–Whitney U test of whether a and b
// come from the same distribution: the probability of a rank difference
// at least this large if they do. Without ties and with at most 50
// values a side it is exact (the U distribution counted by recurrence);
// otherwise it is the normal approximation with the tie correction.
// It makes no assumption about the shape of the distributions, which
// for latency figures of a noisy machine is the point.
func MannWhitney(a, b []float64) float64 {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	type v struct {
		x     float64
		fromA bool
	}
	all := make([]v, 0, n1+n2)
	for _, x := range a {
		all = append(all, v{x, true})
	}
	for _, x := range b {
		all = append(all, v{x, false})
	}
	slices.SortFunc(all, func(p, q v) int {
		switch {
		case p.x < q.x:
			return -1
		case p.x > q.x:
			return 1
		}
		return 0
	})
	// Mid-ranks; ties counted for the correction.
	var rankA, tieTerm float64
	ties := false
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].x == all[i].x {
			j++
		}
		mid := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].fromA {
				rankA += mid
			}
		}
		if t := float64(j - i); t > 1 {
			ties = true
			tieTerm += t*t*t - t
		}
		i = j
	}
	u := rankA - float64(n1*(n1+1))/2
	if !ties && n1 <= 50 && n2 <= 50 {
		return exactU(n1, n2, u)
	}
	n := float64(n1 + n2)
	mean := float64(n1*n2) / 2
	sd := math.Sqrt(float64(n1*n2) / 12 * (n + 1 - tieTerm/(n*(n-1))))
	if sd == 0 {
		return 1
	}
	z := (math.Abs(u-mean) - 0.5) / sd // continuity correction
	return min(1, math.Erfc(max(z, 0)/math.Sqrt2))
}

// exactU is the two-sided p of U = u for sample sizes n1 and n2: counts
// of arrangements by U, from c(n1, n2, u) = c(n1-1, n2, u-n2) + c(n1, n2-1, u).
func exactU(n1, n2 int, u float64) float64 {
	// counts[i][j] is the U distribution for sizes i, j; keep one row per i.
	prev := make([][]float64, n2+1) // i-1
	for j := 0; j <= n2; j++ {
		prev[j] = []float64{1} // i = 0: U is 0 in one way
	}
	for i := 1; i <= n1; i++ {
		cur := make([][]float64, n2+1)
		cur[0] = []float64{1}
		for j := 1; j <= n2; j++ {
			d := make([]float64, i*j+1)
			for k, c := range prev[j] { // the largest value is from the first sample: U grows by j
				d[k+j] += c
			}
			for k, c := range cur[j-1] {
				d[k] += c
			}
			cur[j] = d
		}
		prev = cur
	}
	dist := prev[n2]
	var total, lo, hi float64
	for k, c := range dist {
		total += c
		if float64(k) <= u {
			lo += c
		}
		if float64(k) >= u {
			hi += c
		}
	}
	return min(1, 2*min(lo, hi)/total)
}

// MinMannWhitneyP is the smallest p the test can give for these sample
// sizes: with 3 runs against 3 it is 0.1, so no change can be called
// significant at 0.05.
func MinMannWhitneyP(n1, n2 int) float64 {
	a := make([]float64, n1)
	b := make([]float64, n2)
	for i := range a {
		a[i] = float64(i)
	}
	for i := range b {
		b[i] = float64(n1 + i)
	}
	return MannWhitney(a, b)
}
