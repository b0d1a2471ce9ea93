package shmchan

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/deadline"
	"github.com/ipclab/ipclab/internal/intr"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

func (c *Chan) tooLarge(n int) error {
	return chanend.TooLarge(n, int(c.hdr.maxMsg), "shmchan Config.MaxMessage",
		fmt.Sprintf("create the channel with a larger MaxMessage and a RingSize of at least twice it (ring now %d bytes)", c.hdr.ringSize))
}

// Send copies p into the ring as one message.
func (c *Chan) Send(p []byte) error {
	buf, err := c.Reserve(len(p))
	if err != nil {
		return err
	}
	copy(buf, p)
	return c.Commit()
}

// Reserve returns n bytes of ring space for the next message: write the
// message there and call Commit, from the same goroutine, with no Send in
// between; a large message is then copied once, by its writer. Close waits
// for the Commit.
func (c *Chan) Reserve(n int) ([]byte, error) {
	if n < 0 || uint64(n) > c.hdr.maxMsg {
		return nil, c.tooLarge(n)
	}
	if err := c.enter(); err != nil {
		return nil, err
	}
	c.sendMu.Lock()
	buf, err := c.reserve(n)
	if err != nil {
		c.sendMu.Unlock()
		c.exit()
		return nil, err
	}
	c.reserved = n
	return buf, nil
}

// Commit publishes the message Reserve handed out.
func (c *Chan) Commit() error {
	if c.reserved < 0 {
		return fmt.Errorf("shmchan: Commit without Reserve")
	}
	c.tx.commit(c.reserved)
	c.reserved = -1
	c.signalData()
	c.sendMu.Unlock()
	c.exit()
	return nil
}

// SendBatch sends msgs in order with one publication (one cache-line
// transfer and at most one wake-up) per ringful, for streams of small
// messages. It returns how many were sent before an error.
func (c *Chan) SendBatch(msgs [][]byte) (int, error) {
	if err := c.enter(); err != nil {
		return 0, err
	}
	defer c.exit()
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	done, pending := 0, 0
	if c.hdr.strategy == SysVSem {
		// The textbook keeps P and V around every message.
		for _, m := range msgs {
			if uint64(len(m)) > c.hdr.maxMsg {
				return done, c.tooLarge(len(m))
			}
			buf, err := c.reserve(len(m))
			if err != nil {
				return done, err
			}
			copy(buf, m)
			c.tx.commit(len(m))
			c.signalData()
			done++
		}
		return done, nil
	}
	publish := func() {
		if pending > 0 {
			atomic.StoreUint64(c.tx.tail, c.tx.pos)
			c.signalData()
			pending = 0
		}
	}
	for _, m := range msgs {
		if uint64(len(m)) > c.hdr.maxMsg {
			publish()
			return done, c.tooLarge(len(m))
		}
		buf, ok, err := c.tx.reserve(len(m)) // no side effect unless ok
		if err != nil {
			publish()
			return done, err
		}
		if !ok {
			publish() // let the consumer drain what we have, then wait for room
			if buf, err = c.reserve(len(m)); err != nil {
				return done, err
			}
		}
		copy(buf, m)
		c.tx.pos += c.tx.recordSize(len(m)) // published by publish
		pending++
		done++
	}
	publish()
	return done, nil
}

// reserve waits for room for an n-byte message and reserves it.
func (c *Chan) reserve(n int) ([]byte, error) {
	if err := c.sendCheck(); err != nil {
		return nil, err
	}
	if c.hdr.strategy == SysVSem {
		units := c.tx.need(c.tx.recordSize(n)) / c.unit
		if err := c.semWait(&c.sw, &c.end.Wdl, c.sendCheck, c.txSem+1, int16(units), true); err != nil {
			return nil, err
		}
	}
	for {
		buf, ok, err := c.tx.reserve(n)
		if err != nil || ok {
			return buf, err
		}
		if c.hdr.strategy == SysVSem {
			return nil, corrupt("the semaphore granted room the ring does not have")
		}
		if err := c.await(c.tx.spaceWait, &c.end.Wdl, c.sendCheck, func() (bool, error) {
			free, err := c.tx.free()
			return free >= c.tx.need(c.tx.recordSize(n)), err
		}); err != nil {
			return nil, err
		}
	}
}

func (c *Chan) sendCheck() error {
	if err := c.end.SendCheck(); err != nil {
		return err
	}
	if atomic.LoadUint32(c.peerClosed) != 0 {
		return ipclab.ErrPeerGone
	}
	return nil
}

// signalData tells the consumer a message is there: V(full), or a futex
// wake if, and only if, it announced that it sleeps.
func (c *Chan) signalData() {
	switch c.hdr.strategy {
	case SysVSem:
		sysipc.Semop(int(c.hdr.semID), []sysipc.Sembuf{{Num: uint16(c.txSem), Op: 1}})
	case Futex:
		wake(c.tx.dataWait)
	}
}

// Recv copies the next message into p.
func (c *Chan) Recv(p []byte) (int, error) {
	msg, err := c.recvInPlace()
	if err != nil {
		return 0, err
	}
	if len(msg) > len(p) {
		c.unpeek()
		return 0, &ipclab.ShortBufferError{Size: len(msg), Buffer: len(p), Kept: true}
	}
	n := copy(p, msg)
	c.Release()
	return n, nil
}

// RecvInPlace returns the next message where it lies in the ring, without
// copying; call Release, from the same goroutine, when done with it. The
// bytes are in memory the peer process can write: copy what must not
// change under you.
func (c *Chan) RecvInPlace() ([]byte, error) { return c.recvInPlace() }

func (c *Chan) recvInPlace() ([]byte, error) {
	if err := c.enter(); err != nil {
		return nil, err
	}
	c.recvMu.Lock()
	msg, err := c.peek()
	if err != nil {
		c.recvMu.Unlock()
		c.exit()
		return nil, err
	}
	c.inPlace = len(msg)
	return msg, nil
}

// Release consumes the message RecvInPlace returned.
func (c *Chan) Release() error {
	if c.inPlace < 0 {
		return fmt.Errorf("shmchan: Release without RecvInPlace")
	}
	switch c.hdr.strategy {
	case SysVSem: // the textbook: V(empty) for every message
		freed := c.rx.release(c.inPlace, true)
		sysipc.Semop(int(c.hdr.semID), []sysipc.Sembuf{{Num: uint16(c.rxSem + 1), Op: int16(freed / c.unit)}})
	default:
		// Publish lazily unless the producer said it sleeps for room;
		// peek flushes before this side waits, so nothing is held back
		// from a producer that waits on us while we wait on it.
		sleeping := atomic.LoadUint32(c.rx.spaceWait) != 0
		if c.rx.release(c.inPlace, sleeping) != 0 && sleeping {
			wake(c.rx.spaceWait)
		}
	}
	c.inPlace = -1
	c.recvMu.Unlock()
	c.exit()
	return nil
}

// unpeek gives back a message peeked but not taken (short buffer): for
// SysVSem its P(full) is undone.
func (c *Chan) unpeek() {
	c.inPlace = -1
	if c.hdr.strategy == SysVSem {
		sysipc.Semop(int(c.hdr.semID), []sysipc.Sembuf{{Num: uint16(c.rxSem), Op: 1}})
	}
	c.recvMu.Unlock()
	c.exit()
}

// peek waits for the next message and returns it in place.
func (c *Chan) peek() ([]byte, error) {
	if c.end.Closed() {
		return nil, ipclab.ErrClosed
	}
	if c.hdr.strategy == SysVSem {
		ready, err := c.rx.available()
		if err != nil {
			return nil, err
		}
		// A message already there is delivered whatever the deadline, as
		// every other transport does: a reader polling with a short
		// deadline (a link collecting acknowledgements) must see it.
		take := []sysipc.Sembuf{{Num: uint16(c.rxSem), Op: -1, Flg: unix.IPC_NOWAIT}}
		if !ready || c.end.Closed() || sysipc.Semtimedop(int(c.hdr.semID), take, nil) != nil {
			if err := c.semWait(&c.rw, &c.end.Rdl, c.recvCheck, c.rxSem, 1, ready); err != nil {
				// A creator that closed removed the set; what it
				// published before is still in the ring.
				if ok, _ := c.rx.available(); !ok || !errors.Is(err, ipclab.ErrPeerGone) {
					return nil, err
				}
			}
		}
	}
	for {
		msg, ok, err := c.rx.peek()
		if err != nil || ok {
			return msg, err
		}
		if c.hdr.strategy == SysVSem {
			if c.peerGone() { // the V of its Close, with nothing after it
				return nil, ipclab.ErrPeerGone
			}
			return nil, corrupt("the semaphore announced a message the ring does not have")
		}
		// About to wait: hand the producer every byte we consumed.
		if c.rx.flush() != 0 {
			wake(c.rx.spaceWait)
		}
		if err := c.await(c.rx.dataWait, &c.end.Rdl, c.recvCheck, c.rx.available); err != nil {
			return nil, err
		}
	}
}

func (c *Chan) recvCheck() error {
	switch {
	case c.end.Closed():
		return ipclab.ErrClosed
	case c.peerGone():
		// The ring was found empty just before this check; look once more
		// so nothing the peer published before it went is lost.
		if ok, _ := c.rx.available(); ok {
			return errRetry
		}
		return ipclab.ErrPeerGone
	case c.end.Rdl.Passed():
		return ipclab.ErrTimeout
	}
	return nil
}

// errRetry from a check means: the condition may hold now, look again.
var errRetry = fmt.Errorf("shmchan: retry")

// await waits until ready reports true, by the channel's strategy: spin;
// or (Futex) spin for the budget, then announce on word and sleep on it.
// check is consulted between attempts: closed, peer gone, deadline.
func (c *Chan) await(word *uint32, dl *deadline.Deadline, check func() error, ready func() (bool, error)) error {
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
	case Futex:
		budget = max(c.spin, 0) // negative: sleep at once
	}
	if budget != 0 {
		start := time.Now()
		for i := 0; ; i++ {
			if ok, err := ready(); err != nil || ok {
				return err
			}
			if i&63 == 63 {
				if done, err := poll(); done {
					return err
				}
				if budget > 0 && time.Since(start) > budget {
					break
				}
			}
		}
	}
	for {
		atomic.StoreUint32(word, 1) // announce: the peer must wake us
		if done, err := poll(); done {
			atomic.StoreUint32(word, 0)
			return err
		}
		// Woken, timed out, EAGAIN or EINTR: look again. The bound makes a
		// missed wake-up (the peer scribbled on the word) cost at most
		// peerCheckInterval.
		sysipc.FutexWait(word, 1, c.waitTimeout(dl, true))
	}
}

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
		if sysipc.Semtimedop(int(c.hdr.semID), op, nil) == nil {
			return nil
		}
	}
	op[0].Flg = 0
	noDeadline := func() time.Time { return time.Time{} } // the kernel times out, not a Go timer
	for {
		err := ws.Block(noDeadline, func() error {
			if c.creator {
				c.maybeWatchOpener()
			}
			return check()
		}, func() error {
			return sysipc.Semtimedop(int(c.hdr.semID), op, c.waitTimeout(dl, false))
		})
		switch err {
		case nil:
			return nil
		case errRetry:
			// The peer is dead but left a message: take the count if its V
			// came, and read the message in any case, since a dead peer
			// whose V never came cannot wake us.
			op[0].Flg = unix.IPC_NOWAIT
			sysipc.Semop(int(c.hdr.semID), op)
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

// peerCheckInterval bounds a futex wait, so whatever happens to the
// shared wake-up word a dead peer or a closed channel is noticed within it.
const peerCheckInterval = 100 * time.Millisecond

// waitTimeout is how long one kernel wait may last: until the deadline;
// at most peerCheckInterval when bounded (every futex wait), or while no
// opener has been seen, so the creator looks for it now and then. A
// semaphore wait needs no bound otherwise: its wake-ups are signals
// (internal/intr), not shared memory. nil means no limit.
func (c *Chan) waitTimeout(dl *deadline.Deadline, bounded bool) *unix.Timespec {
	limit := time.Duration(-1)
	if t := dl.Get(); !t.IsZero() {
		limit = max(time.Until(t), 0)
	}
	if (bounded || !c.watching.Load()) && (limit < 0 || limit > peerCheckInterval) {
		limit = peerCheckInterval
	}
	if limit < 0 {
		return nil
	}
	ts := unix.NsecToTimespec(int64(limit))
	return &ts
}

// wake clears an announcement and makes the wake system call only if
// someone had announced that it sleeps: the data path's wake-up, which
// the peer can defeat only by hurting its own side.
func wake(word *uint32) {
	if atomic.LoadUint32(word) != 0 && atomic.CompareAndSwapUint32(word, 1, 0) {
		sysipc.FutexWake(word, 1)
	}
}

// wakeAlways makes the wake system call whatever the word says: for
// wake-ups this side owes itself (peer death, Close, a moved deadline),
// which must not depend on a word the peer can write.
func wakeAlways(word *uint32) {
	atomic.StoreUint32(word, 0)
	sysipc.FutexWake(word, math.MaxInt32)
}
