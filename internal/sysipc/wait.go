package sysipc

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// WaitReady is the wait of the descriptor transports (pipe, posixmq,
// sockconn): ppoll on fd for events and on wakeFD, an eventfd that Close
// and a moved deadline write, until one is ready or deadline dl passes
// (the zero time: none). A wake-up is consumed here. It returns nil
// however the wait ended, EINTR included: the caller tries again and
// re-checks why it waits. Only a failed ppoll is an error. It allocates
// nothing (the timeout stays on the stack).
func (c Calls) WaitReady(fd int, events int16, wakeFD int, dl time.Time) error {
	fds := [2]unix.PollFd{{Fd: int32(fd), Events: events}, {Fd: int32(wakeFD), Events: unix.POLLIN}}
	var ts *unix.Timespec
	if !dl.IsZero() {
		t := unix.NsecToTimespec(max(int64(time.Until(dl)), 0))
		ts = &t
	}
	if _, err := c.Ppoll(fds[:], ts); err != nil && err != unix.EINTR {
		return os.NewSyscallError("ppoll", err)
	}
	if fds[1].Revents != 0 {
		var b [8]byte
		unix.Read(wakeFD, b[:]) // reset; the caller re-checks why it woke
	}
	return nil
}
