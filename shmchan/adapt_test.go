package shmchan

import "testing"

// spinsIn runs n waits whose spins all end as ok says and reports how
// many of them spun.
func spinsIn(s *spinner, n int, ok bool) int {
	spun := 0
	for range n {
		if s.spin() {
			spun++
			s.record(ok)
		}
	}
	return spun
}

// TestSpinnerStopsWhereSpinsFail: a side whose spins always run out (the
// peer on its CPU) stops spinning after offAfter waits, then probes
// ever more rarely, at worst once in maxProbeGap waits.
func TestSpinnerStopsWhereSpinsFail(t *testing.T) {
	var s spinner
	if got := spinsIn(&s, offAfter, false); got != offAfter {
		t.Fatalf("spun in %d of the first %d waits, want all", got, offAfter)
	}
	if s.spin() {
		t.Fatalf("still spinning after %d spins in a row ran out", offAfter)
	}
	// The probes come after 16, 32, ... waits, then every maxProbeGap.
	want, waits := 0, 0
	for gap := firstProbe; gap <= maxProbeGap; gap *= 2 {
		want++
		waits += gap
	}
	waits += 3 * maxProbeGap
	want += 3
	// The check above was the first wait of the first gap.
	if got := spinsIn(&s, waits-1, false); got != want {
		t.Errorf("%d probes in %d waits after spinning stopped, want %d", got, waits, want)
	}
	if got := spinsIn(&s, 10*maxProbeGap, false); got != 10 {
		t.Errorf("%d probes in %d waits, want one in %d", got, 10*maxProbeGap, maxProbeGap)
	}
}

// TestSpinnerKeepsSpinningThroughAHiccup: spins that succeed keep spinning
// on, and fewer than offAfter failures in a row (a preempted peer) do not
// turn it off.
func TestSpinnerKeepsSpinningThroughAHiccup(t *testing.T) {
	var s spinner
	for range 100 {
		if got := spinsIn(&s, offAfter-1, false); got != offAfter-1 {
			t.Fatalf("spun in %d of %d waits after successes, want all", got, offAfter-1)
		}
		if got := spinsIn(&s, 5, true); got != 5 {
			t.Fatalf("spun in %d of 5 waits, want all", got)
		}
	}
}

// TestSpinnerResumes: a probe that succeeds (the peer moved to another
// CPU) turns spinning back on, with the full count of failures to go.
func TestSpinnerResumes(t *testing.T) {
	var s spinner
	spinsIn(&s, 5*maxProbeGap, false)
	for !s.spin() {
	}
	s.record(true)
	if got := spinsIn(&s, offAfter, false); got != offAfter {
		t.Errorf("after a successful probe, spun in %d of the next %d waits, want all", got, offAfter)
	}
	if s.spin() {
		t.Errorf("spinning again after %d failures in a row", offAfter)
	}
	// A new stop probes from firstProbe again, not from maxProbeGap.
	if got := spinsIn(&s, firstProbe, false); got != 1 {
		t.Errorf("%d probes in the first %d waits after spinning stopped again, want 1", got, firstProbe)
	}
}
