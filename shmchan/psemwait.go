// Waiting on POSIX named semaphores (PosixSem).

package shmchan

import (
	"github.com/ipclab/ipclab/internal/deadline"
	"github.com/ipclab/ipclab/internal/posixsem"
)

// psemWait is P(s) for PosixSem. Each sleep is bounded (peerCheckInterval)
// since the semaphore is memory the peer can write, and is cut short by
// this side's own wake-ups (Close, a moved deadline, peer death: wakeAll),
// after which check says whether to go on. An errRetry from check is
// handed back: the caller takes a token if there is one and reads.
func (c *Chan) psemWait(s *posixsem.Sem, dl *deadline.Deadline, check func() error) error {
	for {
		if c.creator {
			c.maybeWatchOpener()
		}
		if err := check(); err != nil {
			return err
		}
		if took, err := s.WaitOnceWith(c.waitLimit(dl, true), c.calls()); took || err != nil {
			return err
		}
	}
}

// psemRoom waits, for PosixSem, until the ring has room for a record of
// rec bytes. "empty" carries a token per message the consumer took, most
// of them posted while this side was not waiting: take them all, look at
// the ring again, and only then sleep, so a token posted after the look
// always wakes us.
func (c *Chan) psemRoom(rec uint64) error {
	empty := c.psem[c.txSem+1]
	for {
		for empty.TryTake() {
		}
		free, err := c.tx.free()
		if err != nil || free >= c.tx.need(rec) {
			return err
		}
		if err := c.psemWait(empty, &c.end.Wdl, c.sendCheck); err != nil {
			return err
		}
	}
}
