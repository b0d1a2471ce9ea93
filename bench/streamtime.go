package bench

import (
	"fmt"
	"time"

	"github.com/ipclab/ipclab/record"
)

// A throughput case of a fixed volume is over in milliseconds on a fast
// mechanism (16 MiB of 64 B messages through shared memory: 10 ms), so
// process start and scheduling noise decide its figure. Sized by time
// instead, every case streams about Spec.StreamTime: a pilot stream of
// the same case measures the rate first.

const (
	pilotBytes = 1 << 20 // a pilot streams this much, within pilotMin..pilotMax messages
	pilotMin   = 200
	pilotMax   = 5000
	// minStream and maxStream bound a case's count whatever the pilot
	// says: below 500 the rate is noise; above 10^8 messages (at 30 M/s
	// a few seconds) a pilot that ran badly slow would not be the reason.
	minStream = 500
	maxStream = 100_000_000
)

// sizedByTime runs a throughput case through measure sized by
// Spec.StreamTime, as Go's testing package sizes b.N: a pilot of the same
// case (as measure runs it), then the case with the count its rate gives,
// again from that run's rate while a run lasts under half of StreamTime.
// A short pilot underestimates a fast mechanism badly (process start and
// first page faults weigh on it), so one prediction is not enough. The
// last run is the case's record. Any other case, or a Spec that streams a
// volume, is measured once as it is.
func (s Spec) sizedByTime(c Case, measure func(Case) (record.Record, error)) (record.Record, error) {
	if c.Mode != Throughput || s.StreamTime <= 0 || c.Count > 0 {
		return measure(c)
	}
	c.Count = min(max(pilotBytes/max(c.Size, 1), pilotMin), pilotMax)
	for tries := 0; ; tries++ {
		r, err := measure(c)
		if err != nil && tries == 0 {
			err = fmt.Errorf("pilot stream of %d messages: %w", c.Count, err)
		}
		if err != nil || r.Skipped != "" || tries > 0 && time.Duration(r.ElapsedNs) >= s.StreamTime/2 ||
			c.Count >= maxStream || tries == maxResizes {
			return r, err
		}
		// Grow at most 100x a step, as testing does, so one freak fast
		// run cannot ask for minutes.
		c.Count = min(streamCount(r.MsgsPerSec, s.StreamTime), 100*c.Count)
	}
}

// maxResizes bounds how often a case is run again to reach StreamTime.
const maxResizes = 4

// streamCount is how many messages at rate (per second) take d.
func streamCount(rate float64, d time.Duration) int {
	n := rate * d.Seconds()
	switch {
	case !(n >= minStream): // also NaN
		return minStream
	case n > maxStream:
		return maxStream
	}
	return int(n)
}
