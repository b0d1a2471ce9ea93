// The adaptive part of the Futex wait: whether to spin at all, learned
// from how this side's recent spins ended, so spinning stops where it
// cannot succeed (the peer shares our CPU, or is descheduled, or the
// traffic is slower than the budget) and resumes where it does.

package shmchan

const (
	// offAfter is how many spins in a row must run out before spinning
	// stops: one late peer (a preemption, an interrupt) is not enough.
	offAfter = 4
	// While spinning is off, a probe (one spin of the full budget) comes
	// every firstProbe waits, then half as often after each failed probe,
	// down to one in maxProbeGap waits: the placement or the traffic may
	// change, and only a spin can tell. Where the peer shares our CPU a
	// probe costs the budget plus the peer's delay, so its share of the
	// waits shrinks to 1/maxProbeGap, below what moves a p99.
	firstProbe  = 16
	maxProbeGap = 1024
)

// spinner decides, for one direction (waiting for data, or for room),
// whether the coming wait spins. Its zero value spins. It is local to this
// side and touched only under that direction's lock (recvMu, sendMu), so
// it needs no atomics; the peer has no say in it.
//
// A spin that succeeds turns spinning on; offAfter spins in a row that run
// out turn it off, and then the side sleeps on the futex at once, as the
// kernel strategies do, save a probe now and then. Where the peer runs on
// another CPU and answers within the budget, spins succeed and it stays on.
type spinner struct {
	off   bool
	fails int // spins in a row that ran out, while on
	gap   int // while off: waits from one probe to the next
	left  int // while off: waits until the next probe
}

// spin reports whether the coming wait spins (a probe, while off).
func (s *spinner) spin() bool {
	if !s.off {
		return true
	}
	if s.left--; s.left > 0 {
		return false
	}
	return true
}

// record learns from a spin that spin allowed: ok if the condition came
// true (or the wait ended otherwise) before the budget ran out.
func (s *spinner) record(ok bool) {
	switch {
	case ok:
		*s = spinner{}
	case s.off: // a failed probe
		s.gap = min(2*s.gap, maxProbeGap)
		s.left = s.gap
	default:
		if s.fails++; s.fails >= offAfter {
			*s = spinner{off: true, gap: firstProbe, left: firstProbe}
		}
	}
}
