package record

import (
	"math"
	"testing"
)

// Reference values from R: wilcox.test(a, b)$p.value (exact without ties;
// with ties, correct = TRUE uses the normal approximation with continuity
// correction, as MannWhitney does).
func TestMannWhitney(t *testing.T) {
	for _, c := range []struct {
		a, b []float64
		p    float64
	}{
		{[]float64{1, 2, 3}, []float64{4, 5, 6}, 0.1},
		{[]float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 0.007937},
		{[]float64{1, 3, 5, 7, 9}, []float64{2, 4, 6, 8, 10}, 0.6905},
		{[]float64{10, 11, 12, 13}, []float64{1, 2, 30, 40}, 1},
		{[]float64{1.1, 2.2, 3.3, 4.4}, []float64{5.5, 6.6, 7.7, 8.8, 9.9, 11}, 0.009524},
		// Ties: U = 0.5, σ² = 16/12·(9 − 18/56), z = (8 − 0.5 − 0.5)/σ = 2.058.
		{[]float64{1, 2, 2, 3}, []float64{3, 4, 5, 5}, 0.03961},
	} {
		if got := MannWhitney(c.a, c.b); math.Abs(got-c.p) > 0.0005 {
			t.Errorf("MannWhitney(%v, %v) = %.5f, want %.5f", c.a, c.b, got, c.p)
		}
		if got, back := MannWhitney(c.a, c.b), MannWhitney(c.b, c.a); math.Abs(got-back) > 1e-12 {
			t.Errorf("not symmetric: %v against %v", got, back)
		}
	}
	if p := MinMannWhitneyP(3, 3); math.Abs(p-0.1) > 1e-9 {
		t.Errorf("smallest p at 3+3 = %v, want 0.1", p)
	}
}
