// Waiting on the textbook's System V semaphores (SysVSem).

package shmchan

import (
	"fmt"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/deadline"
	"github.com/ipclab/ipclab/internal/intr"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// semWait is P(sem, n) for SysVSem. When likely says the count is there
// (the ring shows the message, or room), it first tries without blocking,
// which spares the set-up of an interruptible wait; otherwise it goes
// straight to a blocking P, as the C textbook does, so a ping-pong makes
// no system call C would not. A blocking P carries the deadline to the
// kernel (semtimedop's timeout) and is woken for Close, peer death and
// moved deadlines like the message-queue transport (internal/intr).
func (c *Chan) semWait(ws *intr.Waiters, dl *deadline.Deadline, check func() error, sem int, n int16, likely bool) error {
	op := []sysipc.Sembuf{{Num: uint16(sem), Op: -n, Flg: unix.IPC_NOWAIT}}
	if likely && check() == nil {
		if c.calls().Semtimedop(int(c.hdr.semID), op, nil) == nil {
			return nil
		}
	}
	op[0].Flg = 0
	noDeadline := func() time.Time { return time.Time{} } // the kernel times out, not a Go timer
	// The opener's Close cannot reach a creator waiting for room: it can V
	// only "full" (an extra "empty" would grant room the ring lacks), and
	// only the creator removes the set. That wait looks at the close flag
	// every peerCheckInterval instead.
	bounded := c.creator && sem == c.txSem+1
	for {
		err := ws.Block(noDeadline, func() error {
			if c.creator {
				c.maybeWatchOpener()
			}
			return check()
		}, func() error {
			return c.calls().Semtimedop(int(c.hdr.semID), op, c.waitTimeout(dl, bounded))
		})
		switch err {
		case nil:
			return nil
		case errRetry:
			// The peer is dead but left a message: take the count if its V
			// came, and read the message in any case, since a dead peer
			// whose V never came cannot wake us.
			op[0].Flg = unix.IPC_NOWAIT
			c.calls().Semop(int(c.hdr.semID), op)
			return nil
		case unix.EAGAIN: // the timeout: check says why (deadline, look-out)
			continue
		case unix.EIDRM, unix.EINVAL:
			if c.end.Closed() {
				return ipclab.ErrClosed
			}
			return fmt.Errorf("%w: the semaphore set was removed (%w)", ipclab.ErrPeerGone, err)
		}
		return err
	}
}

// HoldWaits makes the kernel waits and wake-ups keep their thread and P
// (ipclab.WaitHolder): semop, ppoll on an eventfd, and futex waits, which
// always carry a timeout here (at most peerCheckInterval), return EINTR on
// a signal, so Close, deadlines and sysmon's preemption still stop them.
// Spin never waits in the kernel: there is nothing to hold, and it says so.
func (c *Chan) HoldWaits(on bool) error {
	if on && c.hdr.strategy == Spin {
		return fmt.Errorf("shmchan: the spin strategy has no waits to hold: it never waits in the kernel")
	}
	return c.hold.Set(on)
}

// calls are the kernel waits' and wake-ups' calls (semop, futex, eventfd),
// held or not.
func (c *Chan) calls() sysipc.Calls { return c.hold.Calls() }
