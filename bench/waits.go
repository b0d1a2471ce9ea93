package bench

import (
	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/shmchan"
)

// readWaits returns the wait counts of c's shared-memory channel now, or
// nil if c is not one (another transport, or a link over it).
func readWaits(c ipclab.Conn) *record.Waits {
	ch, ok := c.(interface{ Chan() *shmchan.Chan })
	if !ok {
		return nil
	}
	r, s := ch.Chan().WaitStats()
	return &record.Waits{Recv: waitCounts(r), Send: waitCounts(s)}
}

func waitCounts(w shmchan.WaitStats) record.WaitCounts {
	return record.WaitCounts{Waits: w.Waits, Spins: w.Spins, SpinsLost: w.SpinsLost, SpinTurns: w.SpinTurns, Sleeps: w.Sleeps, Wakes: w.Wakes, Barriers: w.Barriers, LateWakes: w.LateWakes}
}

// waitsSince is what c's channel counted since w0 (taken when the
// measured messages began), nil without a starting point.
func waitsSince(w0 *record.Waits, c ipclab.Conn) *record.Waits {
	w := readWaits(c)
	if w == nil || w0 == nil {
		return nil
	}
	sub := func(a, b record.WaitCounts) record.WaitCounts {
		return record.WaitCounts{Waits: a.Waits - b.Waits, Spins: a.Spins - b.Spins, SpinsLost: a.SpinsLost - b.SpinsLost,
			SpinTurns: a.SpinTurns - b.SpinTurns, Sleeps: a.Sleeps - b.Sleeps, Wakes: a.Wakes - b.Wakes, Barriers: a.Barriers - b.Barriers, LateWakes: a.LateWakes - b.LateWakes}
	}
	return &record.Waits{Recv: sub(w.Recv, w0.Recv), Send: sub(w.Send, w0.Send)}
}
