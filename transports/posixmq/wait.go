// Waiting for a message, or for room, in ppoll(2) on the calling thread.

package posixmq

import (
	"os"
	"sync"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/deadline"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// A call that finds the queue empty (or full) waits in ppoll on the queue
// descriptor and on an eventfd, not in Go's poller: a goroutine parked
// there is woken through epoll and the scheduler, which on one CPU made a
// 64-byte round trip 2.6x C's (the same finding as package pipe's read.go).
// The deadline is ppoll's timeout; SetDeadline, Close and the peer's death
// write the eventfd so that a waiter re-checks why it waits. Each direction
// has its own eventfd: a waiter empties it, and must not swallow the other
// direction's wake-up.

// wakers are the two eventfds, closed once by Close after the last waiter.
type wakers struct {
	mu     sync.Mutex // a wake-up never writes to a closed (reused) number
	closed bool
	recv   int
	send   int
}

func newWakers() (*wakers, error) {
	r, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	s, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(r)
		return nil, os.NewSyscallError("eventfd", err)
	}
	return &wakers{recv: r, send: s}, nil
}

// wake makes the waiters of the chosen directions look again.
func (w *wakers) wake(recv, send bool) {
	one := [8]byte{1}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if recv {
		unix.Write(w.recv, one[:])
	}
	if send {
		unix.Write(w.send, one[:])
	}
}

// close releases the eventfds; no waiter may be left.
func (w *wakers) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		unix.Close(w.recv)
		unix.Close(w.send)
	}
}

// waitIO runs the receive (recv) or send attempt on the queue descriptor
// fd until it does not report EAGAIN, waiting in ppoll between attempts.
// An attempt comes first, so a message already queued is delivered
// whatever the deadline or the peer's state. It returns why it stopped
// waiting; the attempt's own result is in rop or sop. Callers hold the
// direction's mutex, which Close takes before it releases fd.
func (c *Conn) waitIO(fd int, recv bool) error {
	events, wakeFD, dl := int16(unix.POLLOUT), c.wakers.send, &c.end.Wdl
	if recv {
		events, wakeFD, dl = unix.POLLIN, c.wakers.recv, &c.end.Rdl
	}
	// A receive may ask ppoll first, as the pipe's read does
	// (sysipc.WaitStreak). It checks the state first: a wake-up an earlier
	// call consumed must not leave this one asleep on a closed channel or a
	// dead peer (then it tries first, so what the peer sent before it went
	// is delivered). A passed deadline needs no check: ppoll returns at
	// once.
	pollFirst := recv && c.recvStreak.PollFirst() && !c.end.Closed() && !c.end.PeerGone()
	waited := false
	for {
		if !pollFirst {
			if recv && c.tryRecv(fd) || !recv && c.trySend(fd) {
				if recv {
					c.recvStreak.Done(waited)
				}
				return nil
			}
			if err := c.waitCheck(dl); err != nil {
				return err
			}
		}
		var t0 time.Time
		measure := pollFirst && c.recvStreak.Measure()
		if measure {
			t0 = time.Now()
		}
		if err := c.calls().WaitReady(fd, events, wakeFD, dl.Get()); err != nil {
			return err
		}
		// After a try that found nothing, the ppoll waited; asked first, it
		// may have found the message there.
		waited = waited || !pollFirst || !measure || time.Since(t0) >= sysipc.PollSlept
		pollFirst = false
	}
}

// waitCheck says why a call that found nothing to do must not wait.
func (c *Conn) waitCheck(dl *deadline.Deadline) error {
	switch {
	case c.end.Closed():
		return ipclab.ErrClosed
	case c.end.PeerGone():
		return ipclab.ErrPeerGone
	case dl.Passed():
		return ipclab.ErrTimeout
	}
	return nil
}
