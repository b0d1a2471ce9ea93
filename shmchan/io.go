package shmchan

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

func (c *Chan) tooLarge(n int) error {
	return chanend.TooLarge(n, int(c.hdr.maxMsg), "shmchan Config.MaxMessage",
		fmt.Sprintf("create the channel with a larger MaxMessage and a RingSize of at least twice it, as shmchan.RingSizeFor sizes one, or transports.Options.MaxMessage asks (ring now %d bytes)", c.hdr.ringSize))
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
	if err := c.enterSend(); err != nil {
		return nil, err
	}
	buf, err := c.reserve(n)
	if err != nil {
		c.sendMu.Unlock()
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
	return nil
}

// SendBatch sends msgs in order with one publication (one cache-line
// transfer and at most one wake-up) per ringful, for streams of small
// messages. It returns how many were sent before an error.
func (c *Chan) SendBatch(msgs [][]byte) (int, error) {
	if err := c.enterSend(); err != nil {
		return 0, err
	}
	defer c.sendMu.Unlock()
	done, pending := 0, 0
	if c.hdr.strategy == SysVSem || c.hdr.strategy == PosixSem {
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
			c.tx.publishTail()
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
	if c.creator {
		c.maybeWatchOpener() // one load once watching; else the opener may have come
	}
	if err := c.end.SendReady(); err != nil {
		return nil, err
	}
	if atomic.LoadUint32(c.peerClosed) != 0 {
		return nil, ipclab.ErrPeerGone
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
		switch c.hdr.strategy {
		case SysVSem:
			return nil, corrupt("the semaphore granted room the ring does not have")
		case PosixSem:
			if err := c.psemRoom(c.tx.recordSize(n)); err != nil {
				return nil, err
			}
			continue
		}
		if err := c.await(c.tx.spaceWait, &c.spaceSpin, &c.sendStats, &c.end.Wdl, c.sendCheck, func() (bool, error) {
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
		c.calls().Semop(int(c.hdr.semID), []sysipc.Sembuf{{Num: uint16(c.txSem), Op: 1}})
	case PosixSem:
		c.psem[c.txSem].PostWith(c.calls())
	case Futex, EventFD:
		if c.wake(c.tx.dataWait) {
			c.sendStats.Wakes++
		}
	}
}

// Recv copies the next message into p.
func (c *Chan) Recv(p []byte) (int, error) {
	msg, err := c.take()
	if err != nil {
		return 0, err
	}
	if len(msg) > len(p) {
		c.unpeek()
		return 0, &ipclab.ShortBufferError{Size: len(msg), Buffer: len(p), Kept: true}
	}
	n := copy(p, msg)
	c.consume(len(msg))
	c.recvMu.Unlock()
	return n, nil
}

// RecvInPlace returns the next message where it lies in the ring, without
// copying; call Release, from the same goroutine, when done with it. The
// bytes are in memory the peer process can write: copy what must not
// change under you.
func (c *Chan) RecvInPlace() ([]byte, error) {
	msg, err := c.take()
	if err != nil {
		return nil, err
	}
	c.inPlace = len(msg)
	return msg, nil
}

// take starts a receiving call and waits for the next message, which it
// returns in place still holding recvMu; on an error it has let go.
func (c *Chan) take() ([]byte, error) {
	if err := c.enterRecv(); err != nil {
		return nil, err
	}
	msg, err := c.peek()
	if err != nil {
		c.recvMu.Unlock()
		return nil, err
	}
	return msg, nil
}

// Release consumes the message RecvInPlace returned.
func (c *Chan) Release() error {
	if c.inPlace < 0 {
		return fmt.Errorf("shmchan: Release without RecvInPlace")
	}
	c.consume(c.inPlace)
	c.inPlace = -1
	c.recvMu.Unlock()
	return nil
}

// consume gives the n-byte message peek returned back to the producer as
// room, under recvMu.
func (c *Chan) consume(n int) {
	switch c.hdr.strategy {
	case SysVSem: // the textbook: V(empty) for every message
		freed := c.rx.release(n, true)
		c.calls().Semop(int(c.hdr.semID), []sysipc.Sembuf{{Num: uint16(c.rxSem + 1), Op: int16(freed / c.unit)}})
	case PosixSem: // V(empty) for every message; EOVERFLOW (2^31 tokens nobody waited for) loses nothing
		c.rx.release(n, true)
		c.psem[c.rxSem+1].PostWith(c.calls())
	default:
		// Publish lazily unless the producer said it sleeps for room;
		// peek flushes before this side waits, so nothing is held back
		// from a producer that waits on us while we wait on it.
		sleeping := atomic.LoadUint32(c.rx.spaceWait) != 0
		if c.rx.release(n, sleeping) != 0 && sleeping && c.wake(c.rx.spaceWait) {
			c.recvStats.Wakes++
		}
	}
}

// unpeek gives back a message peeked but not taken (short buffer): for
// SysVSem its P(full) is undone.
func (c *Chan) unpeek() {
	c.inPlace = -1
	switch c.hdr.strategy {
	case SysVSem:
		c.calls().Semop(int(c.hdr.semID), []sysipc.Sembuf{{Num: uint16(c.rxSem), Op: 1}})
	case PosixSem:
		c.psem[c.rxSem].PostWith(c.calls())
	}
	c.recvMu.Unlock()
}

// peek waits for the next message and returns it in place.
func (c *Chan) peek() ([]byte, error) {
	if c.creator {
		c.maybeWatchOpener()
	}
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
		if !ready || c.end.Closed() || c.calls().Semtimedop(int(c.hdr.semID), take, nil) != nil {
			if err := c.semWait(&c.rw, &c.end.Rdl, c.recvCheck, c.rxSem, 1, ready); err != nil {
				// A creator that closed removed the set; what it
				// published before is still in the ring.
				if ok, _ := c.rx.available(); !ok || !errors.Is(err, ipclab.ErrPeerGone) {
					return nil, err
				}
			}
		}
	}
	if c.hdr.strategy == PosixSem {
		ready, err := c.rx.available()
		if err != nil {
			return nil, err
		}
		full := c.psem[c.rxSem]
		if !ready || !full.TryTake() { // delivered whatever the deadline, as above
			switch err := c.psemWait(full, &c.end.Rdl, c.recvCheck); err {
			case nil:
			case errRetry: // the peer is gone but left a message: take its token if it came
				full.TryTake()
			default:
				return nil, err
			}
		}
	}
	for {
		msg, ok, err := c.rx.peek()
		if err != nil || ok {
			return msg, err
		}
		if c.hdr.strategy == SysVSem || c.hdr.strategy == PosixSem {
			if c.peerGone() { // the V of its Close, with nothing after it
				return nil, ipclab.ErrPeerGone
			}
			return nil, corrupt("the semaphore announced a message the ring does not have")
		}
		// About to wait: hand the producer every byte we consumed, and
		// wake it if it sleeps for room, even if flush moved nothing:
		// release's lazy publication looks at spaceWait before its
		// store, so a producer that announced its sleep in between and
		// then read the old head sleeps on room it has, and this look,
		// after flush's barrier, is the last that finds it.
		c.rx.flush()
		if c.wake(c.rx.spaceWait) {
			c.recvStats.Wakes++
		}
		if err := c.await(c.rx.dataWait, &c.dataSpin, &c.recvStats, &c.end.Rdl, c.recvCheck, c.rx.available); err != nil {
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
