package pipe

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ipclab/ipclab"
	"golang.org/x/sys/unix"
)

// The read side does not park in Go's poller. A goroutine parked there is
// woken through epoll and the scheduler, which on one CPU doubled a 64-byte
// round trip against C (13.6 us against 6.7 us with a blocking read;
// ppoll on the reading thread: 8.4 us). So a read that finds the pipe
// empty blocks in ppoll(2) on its own thread, on the pipe and on an
// eventfd that Close and a moved deadline write to; the deadline itself is
// ppoll's timeout, with no Go timer. (Waking it with a thread-directed
// signal, as package intr does for SysV calls, needs the thread locked,
// which added a context switch per message.)

// read reads what the pipe holds, up to len(p), waiting for something if
// it is empty. It returns io.EOF when the writer is gone, ErrClosed,
// ErrTimeout, or the system call's error. Callers hold recvMu.
func (c *Conn) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return c.readFD(c.rfd, p)
}

func (c *Conn) readFD(fd int, p []byte) (int, error) {
	// A read may ask ppoll first (sysipc.WaitStreak: in a ping-pong the
	// read that would only say EAGAIN is a system call saved per message).
	// Closed is checked first: a wake-up an earlier read consumed must not
	// leave this one asleep. (A passed deadline makes ppoll return at once;
	// a writer gone makes it report POLLHUP.)
	pollFirst := c.readStreak.PollFirst() && !c.end.Closed()
	waited := false
	for {
		if !pollFirst {
			n, err := c.calls().Read(fd, p)
			if err == nil {
				c.readStreak.Done(waited)
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			if err == unix.EINTR {
				continue
			}
			if err != unix.EAGAIN {
				return 0, os.NewSyscallError("read", err)
			}
			// Found empty: only now may closed or a passed deadline stop
			// the read, so that data already there is always delivered.
			// (Polling first, a passed deadline makes ppoll return at
			// once, and Close has written the eventfd.)
			if err := c.readCheck(); err != nil {
				return 0, err
			}
		}
		if err := c.calls().WaitReady(fd, unix.POLLIN, c.wakeFD, c.end.Rdl.Get()); err != nil {
			return 0, err
		}
		waited, pollFirst = true, false
	}
}

// wake makes a blocked read re-check the deadline and whether the
// connection is closed.
func (c *Conn) wake() { c.wakeOne(c.wakeFD) }

// wakeOne writes eventfd fd, wakeFD or sendWakeFD, unless Close has
// closed them: after Close the number may be another file's.
func (c *Conn) wakeOne(fd int) {
	one := [8]byte{1}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.wakeClosed {
		unix.Write(fd, one[:])
	}
}

// readCheck says why a read must not (or no longer) wait.
func (c *Conn) readCheck() error {
	switch {
	case c.end.Closed():
		return ipclab.ErrClosed
	case c.end.Rdl.Passed():
		return ipclab.ErrTimeout
	}
	return nil
}

// SetReadDeadline sets the deadline of Recv; a Recv blocked now re-reads it.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.end.Rdl.Set(t)
	c.wake()
	return nil
}

// Recv reads one frame.
func (c *Conn) Recv(p []byte) (int, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.end.Closed() {
		return 0, c.end.Err("recv", ipclab.ErrClosed)
	}
	if err := c.frames.Broken(); err != nil {
		return 0, c.end.Err("recv", err)
	}
	n, err := c.recv(p)
	if err != nil {
		return 0, c.end.Err("recv", c.mapErr(err))
	}
	return n, nil
}

func (c *Conn) recv(p []byte) (int, error) {
	if _, ok := c.frames.Stopped(); ok {
		return c.frames.Resume(p)
	}
	for {
		size, err := c.frames.Header()
		if err != nil {
			return 0, err
		}
		if size == helloFrame {
			c.frames.Skip()
			if c.fifoOwner {
				c.openerHello()
				continue
			}
			// The creator is connected: EOF from now on means it is gone.
			c.mu.Lock()
			if c.dummy != nil {
				c.dummy.Close()
				c.dummy = nil
			}
			c.mu.Unlock()
			continue
		}
		n := int(size)
		if n > c.max {
			if err := c.frames.Discard(); err != nil {
				return 0, err
			}
			return 0, fmt.Errorf("%w (the message was discarded)", c.tooLarge(n))
		}
		if n > len(p) {
			// Leave the header in the buffer: the next Recv gets the message.
			return 0, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true}
		}
		return c.frames.Take(p)
	}
}
