// Waiting by spin and futex (Futex, Spin), and the kernel wait's bound
// that keeps a dead peer or a scribbled wake word from holding a waiter.

package shmchan

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab/internal/cpuops"
	"github.com/ipclab/ipclab/internal/deadline"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// await waits until ready reports true, by the channel's strategy: spin;
// or (Futex) spin for the budget where sp says spinning pays (adapt.go),
// then announce on word and sleep on it. check is consulted between attempts: closed, peer
// gone, deadline.
func (c *Chan) await(word *uint32, sp *spinner, ws *WaitStats, dl *deadline.Deadline, check func() error, ready func() (bool, error)) error {
	ws.Waits++
	poll := func() (bool, error) {
		if c.creator {
			c.maybeWatchOpener()
		}
		ok, err := ready()
		if err != nil || ok {
			return true, err
		}
		if err := check(); err != nil {
			if err == errRetry {
				return true, nil
			}
			return true, err
		}
		return false, nil
	}
	// Spin: check the ring on every turn, everything else every 64 turns.
	var budget time.Duration
	switch c.hdr.strategy {
	case Spin:
		budget = -1
	case Futex, EventFD:
		if c.spin > 0 && sp.spin() { // negative: sleep at once
			budget = c.spin
		}
	}
	if budget != 0 {
		ws.Spins++
		start := time.Now()
		for i := 0; ; i++ {
			if ok, err := ready(); err != nil || ok {
				if budget > 0 {
					c.recordSpin(sp, true)
				}
				ws.SpinTurns += uint64(i)
				return err
			}
			cpuops.Pause()
			if i&63 == 63 {
				if done, err := poll(); done {
					if budget > 0 {
						c.recordSpin(sp, true)
					}
					ws.SpinTurns += uint64(i)
					return err
				}
				if budget < 0 && runtime.GOMAXPROCS(0) == 1 {
					// Spin never sleeps, but with one P a peer in this
					// process (a goroutine) runs only when we yield it:
					// without this, once per preemption tick (10 ms).
					runtime.Gosched()
				}
				if budget > 0 && time.Since(start) > budget {
					c.recordSpin(sp, false)
					ws.SpinTurns += uint64(i)
					ws.SpinsLost++
					break
				}
			}
		}
	}
	for {
		atomic.StoreUint32(word, 1) // announce: the peer must wake us
		if sp == &c.dataSpin && c.rxFastTail {
			// The producer publishes without a barrier: make it one,
			// between our announcement and our last look (ring.publishTail).
			c.globalBarrier(ws)
		}
		if done, err := poll(); done {
			atomic.StoreUint32(word, 0)
			return err
		}
		// Woken, timed out, EAGAIN or EINTR: look again. The bound makes a
		// missed wake-up (the peer scribbled on the word) cost at most
		// peerCheckInterval.
		ws.Sleeps++
		var err error
		if fd := c.eventFD(word); fd >= 0 {
			err = c.calls().EventfdWait(fd, c.waitTimeout(dl, true))
		} else {
			err = c.calls().FutexWait(word, 1, c.waitTimeout(dl, true))
		}
		if err == unix.ETIMEDOUT && atomic.LoadUint32(word) == 1 {
			if ok, _ := ready(); ok { // nobody woke us, and it was there
				ws.LateWakes++
			}
		}
	}
}

// recordSpin tells sp how a spin ended, and for the data direction lets
// the producer skip its barrier while spinning is on (syncFastTail).
func (c *Chan) recordSpin(sp *spinner, ok bool) {
	sp.record(ok)
	if sp == &c.dataSpin {
		c.syncFastTail(&c.recvStats)
	}
}

// syncFastTail sets rx.fastTail to whether the producer may publish its
// tail without a barrier: while data spins succeed (so sleeps, each of
// which costs a global membarrier then, are rare), where membarrier works
// here and the producer's process is registered for it. When it turns
// off, a barrier follows: a producer that read the old 1 before our
// store has its tail visible once the barrier returns; one that reads
// after it sees 0 and makes its own barrier.
func (c *Chan) syncFastTail(ws *WaitStats) {
	want := c.barrierOK && !c.dataSpin.off && atomic.LoadUint32(c.rx.barrierReg) == 1
	if want == c.rxFastTail {
		return
	}
	c.rxFastTail = want
	if want {
		atomic.StoreUint32(c.rx.fastTail, 1)
		return
	}
	atomic.StoreUint32(c.rx.fastTail, 0)
	c.globalBarrier(ws)
}

// globalBarrier makes the producer's process run a full barrier
// (sysipc.GlobalBarrier). Should the kernel refuse it after all, this side
// stops offering fastTail; a wake-up missed meanwhile costs at most a
// futex wait's bound (peerCheckInterval).
func (c *Chan) globalBarrier(ws *WaitStats) {
	ws.Barriers++
	if sysipc.GlobalBarrier() != nil {
		c.barrierOK, c.rxFastTail = false, false
		atomic.StoreUint32(c.rx.fastTail, 0)
	}
}

// peerCheckInterval bounds a futex wait, so whatever happens to the
// shared wake-up word a dead peer or a closed channel is noticed within it.
const peerCheckInterval = 100 * time.Millisecond

// waitLimit is how long one kernel wait may last: until the deadline;
// at most peerCheckInterval when bounded (every futex wait), or while no
// opener has been seen, so the creator looks for it now and then. A
// semaphore wait needs no bound otherwise, but for the creator's wait for
// room (semWait): its wake-ups are signals (internal/intr), not shared
// memory. Negative means no limit.
func (c *Chan) waitLimit(dl *deadline.Deadline, bounded bool) time.Duration {
	limit := time.Duration(-1)
	if t := dl.Get(); !t.IsZero() {
		limit = max(time.Until(t), 0)
	}
	if (bounded || !c.watching.Load()) && (limit < 0 || limit > peerCheckInterval) {
		limit = peerCheckInterval
	}
	return limit
}

// waitTimeout is waitLimit as a system call's timeout, nil for none. It
// lives in the Chan, one per direction (dl says which; the direction's
// mutex is held), so that a wait allocates nothing.
func (c *Chan) waitTimeout(dl *deadline.Deadline, bounded bool) *unix.Timespec {
	limit := c.waitLimit(dl, bounded)
	if limit < 0 {
		return nil
	}
	ts := &c.sendTimeout
	if dl == &c.end.Rdl {
		ts = &c.recvTimeout
	}
	*ts = unix.NsecToTimespec(int64(limit))
	return ts
}

// wake clears an announcement and makes the wake system call only if
// someone had announced that it sleeps: the data path's wake-up, which
// the peer can defeat only by hurting its own side.
func (c *Chan) wake(word *uint32) bool {
	if atomic.LoadUint32(word) != 0 && atomic.CompareAndSwapUint32(word, 1, 0) {
		if fd := c.eventFD(word); fd >= 0 {
			c.calls().EventfdSignal(fd)
		} else {
			c.calls().FutexWake(word, 1)
		}
		return true
	}
	return false
}

// wakeAlways makes the wake system call whatever the word says: for
// wake-ups this side owes itself (peer death, Close, a moved deadline),
// which must not depend on a word the peer can write.
func (c *Chan) wakeAlways(word *uint32) {
	atomic.StoreUint32(word, 0)
	if fd := c.eventFD(word); fd >= 0 {
		c.calls().EventfdSignal(fd)
		return
	}
	sysipc.FutexWake(word, math.MaxInt32)
}

// eventFD is the eventfd that stands for a wake word under EventFD, or -1.
func (c *Chan) eventFD(word *uint32) int {
	if c.hdr.strategy != EventFD {
		return -1
	}
	for i, w := range [4]*uint32{c.rings[0].dataWait, c.rings[0].spaceWait, c.rings[1].dataWait, c.rings[1].spaceWait} {
		if w == word {
			return c.efd[i]
		}
	}
	return -1
}
