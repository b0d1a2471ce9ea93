package pipe

import (
	"os"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// The write side, like the read side (read.go), does not wait in Go's
// poller. A write that finds the pipe full waits in ppoll(2) on its own
// thread, on the pipe and on an eventfd that Close and a moved write
// deadline write to, with the deadline as ppoll's timeout. Through
// os.File the writer parked in the poller, and was woken through epoll,
// another thread and the scheduler: in a 4 KiB stream at split placement
// it switched context 4-14 times per 1,000 messages against C's 0-2, and
// spent 1.2-1.5 us of system time a message against C's 0.8-1.0.

// HoldWaits makes Recv's reads and waits, and Send's writes and waits,
// keep their thread and P (ipclab.WaitHolder). Every call that may block
// here returns on a signal (ppoll), as sysipc.Calls requires.
func (c *Conn) HoldWaits(on bool) error { return c.hold.Set(on) }

func (c *Conn) calls() sysipc.Calls { return c.hold.Calls() }

// testHookWrite, when set by a test, runs right before each write(2).
var testHookWrite func()

// write writes all of p to w, waiting while the pipe is full, until the
// write deadline or Close. It uses w's descriptor number directly, without
// RawConn.Control's reference per call: sendMu is held, and Close takes it
// (after waking this wait) before it closes w. It returns the bytes
// written, which a failure may leave short of len(p).
func (c *Conn) write(w *os.File, p []byte) (int, error) {
	// Expired, not Passed: no clock read per message. A write after the
	// deadline writes nothing, though the pipe has room.
	if c.end.Wdl.Expired() {
		return 0, ipclab.ErrTimeout
	}
	fd, err := c.writeFD(w)
	if err != nil {
		return 0, err
	}
	done := 0
	for {
		if testHookWrite != nil {
			testHookWrite()
		}
		n, err := c.calls().Write(fd, p[done:])
		switch {
		case err == nil:
			if done += n; done == len(p) {
				return done, nil
			}
			continue // part went: a large write into a pipe with some room
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return done, os.NewSyscallError("write", err)
		}
		// Full: only now may Close or a passed deadline stop the write.
		switch {
		case c.end.Closed():
			return done, ipclab.ErrClosed
		case c.end.Wdl.Passed():
			return done, ipclab.ErrTimeout
		}
		if err := c.calls().WaitReady(fd, unix.POLLOUT, c.sendWakeFD, c.end.Wdl.Get()); err != nil {
			return done, err
		}
	}
}

// writeFD is w's descriptor, taken once. sendMu held.
func (c *Conn) writeFD(w *os.File) (int, error) {
	if c.wfile == w {
		return c.wfd, nil
	}
	rc, err := w.SyscallConn()
	if err != nil {
		return 0, err
	}
	fd := -1
	if err := rc.Control(func(d uintptr) { fd = int(d) }); err != nil {
		return 0, err
	}
	c.wfile, c.wfd = w, fd
	return fd, nil
}

// wakeSend makes a Send waiting for room re-check the deadline and
// whether the connection is closed.
func (c *Conn) wakeSend() { c.wakeOne(c.sendWakeFD) }
