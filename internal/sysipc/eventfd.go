package sysipc

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// EventfdWait sleeps until the non-blocking eventfd fd is readable, at
// most timeout (nil: no limit), and then takes its count. It returns nil
// when it took a count, ETIMEDOUT, EINTR or EAGAIN (another reader took
// it) otherwise; callers re-check their condition in every case.
func EventfdWait(fd int, timeout *unix.Timespec) error { return Calls{}.EventfdWait(fd, timeout) }

// EventfdWait is EventfdWait, held or not (see Calls): the wait is a
// ppoll, which a signal interrupts, and the read does not block.
func (c Calls) EventfdWait(fd int, timeout *unix.Timespec) error {
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := c.Ppoll(fds[:], timeout)
	switch {
	case err != nil:
		return err
	case n == 0:
		return unix.ETIMEDOUT
	}
	var b [8]byte
	_, err = c.Read(fd, b[:])
	return err
}

// EventfdSignal adds one to eventfd fd's count, waking a reader. A count
// at its maximum (EAGAIN) already wakes one, so that is no error.
func EventfdSignal(fd int) error { return Calls{}.EventfdSignal(fd) }

// EventfdSignal is EventfdSignal, held or not (see Calls).
func (c Calls) EventfdSignal(fd int) error {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	_, err := c.Write(fd, b[:])
	if errors.Is(err, unix.EAGAIN) {
		return nil
	}
	return err
}
