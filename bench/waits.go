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

// waitCounts is w as recorded: the two types have the same fields, so a
// count added to one and not the other stops this conversion compiling.
func waitCounts(w shmchan.WaitStats) record.WaitCounts { return record.WaitCounts(w) }

// waitsSince is what c's channel counted since w0 (taken when the
// measured messages began), nil without a starting point.
func waitsSince(w0 *record.Waits, c ipclab.Conn) *record.Waits {
	w := readWaits(c)
	if w == nil || w0 == nil {
		return nil
	}
	return &record.Waits{Recv: w.Recv.Minus(w0.Recv), Send: w.Send.Minus(w0.Send)}
}
