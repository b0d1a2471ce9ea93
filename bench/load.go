package bench

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/record"
)

// saturationShare: a rate achieved below this share of the offered one
// means the transport is saturated, and higher rates are not run.
const saturationShare = 0.9

// loadCounts sends for about a quarter of a second at each rate, at least
// 2,000 and at most 200,000 messages, after a tenth as many unmeasured.
func loadCounts(rate float64) (count, warm int) {
	count = min(max(int(rate/4), 2000), 200000)
	return count, count / 10
}

// sendOpenLoop sends message i at its intended time start + i/rate,
// whether or not the previous sends were slow, and stamps the intended
// time (not the actual one) into the message: the receiver's latency then
// includes any time the message waited because the sender or the channel
// fell behind. A closed loop that waits for each send hides that wait
// (coordinated omission); this one cannot.
//
// The sender paces itself by spinning for the last 2 ms before each send
// (Go's timers wake up to a millisecond late on a virtual machine, which
// would be charged to the transport), so it keeps its CPU busy at low
// rates. How late each send still was is returned as lateness.
func sendOpenLoop(c ipclab.Conn, msg []byte, count, warm int, rate float64, clock *Clock, p *peerproc.Proc) (firstNs int64, u0 usage, lateness []float64, err error) {
	if len(msg) < 8 {
		return 0, u0, nil, fmt.Errorf("the load mode needs messages of at least 8 bytes for the timestamp, not %d", len(msg))
	}
	lateness = make([]float64, 0, count)
	interval := float64(time.Second) / rate
	start := clock.Now() + int64(time.Millisecond)
	for i := 0; i < warm+count; i++ {
		intended := start + int64(float64(i)*interval)
		if i == warm {
			u0 = readUsage()
			firstNs = intended
		}
		now := clock.Now()
		for ; now < intended; now = clock.Now() {
			if left := intended - now; left > int64(3*time.Millisecond) {
				time.Sleep(time.Duration(left) - 2*time.Millisecond)
			}
		}
		if i >= warm {
			lateness = append(lateness, float64(now-intended))
		}
		binary.LittleEndian.PutUint64(msg, uint64(intended))
		if err := sendOnLink(c, msg); err != nil {
			return 0, u0, nil, fmt.Errorf("send %d: %w (peer: %s)", i, err, p.Stderr())
		}
	}
	return firstNs, u0, lateness, nil
}

// openLoop is the load mode's sender (see sendOpenLoop).
func openLoop(s Spec, ss *session, cs Case, r *record.Record) (sent, error) {
	st := sent{stream: true, delivered: r.Count, fromReport: cs.Link.Drops()}
	var late []float64
	var err error
	st.firstNs, st.u0, late, err = sendOpenLoop(ss.conn, message(cs.Size), r.Count, r.Warmup, cs.Rate, NewClock(), ss.peer)
	if err != nil {
		return st, err
	}
	if cs.Link.Drops() {
		if err := endStream(ss.conn, cs.Size); err != nil {
			return st, err
		}
	}
	sum, err := record.Summarize(late)
	if err != nil {
		return st, err
	}
	r.SendLateness = &sum
	return st, nil
}
