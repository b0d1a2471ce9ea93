package sysipc

import (
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MqAttr is struct mq_attr.
type MqAttr struct {
	Flags   int64 // O_NONBLOCK or 0
	Maxmsg  int64 // queue depth in messages
	Msgsize int64 // largest message in bytes
	Curmsgs int64 // messages queued now
	_       [4]int64
}

// mqName turns "/name" into what the system call takes: glibc strips the
// leading slash before calling the kernel, so do we.
func mqName(name string) (*byte, error) {
	if !strings.HasPrefix(name, "/") || len(name) < 2 || strings.Contains(name[1:], "/") {
		return nil, unix.EINVAL
	}
	return unix.BytePtrFromString(name[1:])
}

// MqOpen is mq_open(3). attr may be nil (the fs.mqueue defaults apply).
func MqOpen(name string, flags int, mode uint32, attr *MqAttr) (int, error) {
	p, err := mqName(name)
	if err != nil {
		return -1, err
	}
	for {
		fd, _, e := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(p)), uintptr(flags),
			uintptr(mode), uintptr(unsafe.Pointer(attr)), 0, 0)
		runtime.KeepAlive(p)
		runtime.KeepAlive(attr)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, errnoErr(e)
		}
		return int(fd), nil
	}
}

// MqUnlink is mq_unlink(3).
func MqUnlink(name string) error {
	p, err := mqName(name)
	if err != nil {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_MQ_UNLINK, uintptr(unsafe.Pointer(p)), 0, 0)
	runtime.KeepAlive(p)
	return errnoErr(e)
}

// MqTimedsend is mq_timedsend(3); a nil deadline (absolute, CLOCK_REALTIME)
// waits forever on a blocking descriptor. ipclab uses non-blocking
// descriptors and Go's poller, so EINTR is retried here.
func MqTimedsend(mqd int, p []byte, prio uint, abs *unix.Timespec) error {
	return Calls{}.MqTimedsend(mqd, p, prio, abs)
}

// MqTimedsend is mq_timedsend(3), held or not (see Calls).
func (c Calls) MqTimedsend(mqd int, p []byte, prio uint, abs *unix.Timespec) error {
	for {
		_, e := c.syscall6(unix.SYS_MQ_TIMEDSEND, uintptr(mqd), uintptr(bufPtr(p)),
			uintptr(len(p)), uintptr(prio), uintptr(unsafe.Pointer(abs)), 0)
		runtime.KeepAlive(p)
		runtime.KeepAlive(abs)
		if e == unix.EINTR {
			continue
		}
		return errnoErr(e)
	}
}

// MqTimedreceive is mq_timedreceive(3). len(p) must be at least the queue's
// mq_msgsize, whatever the size of the message waiting, or it fails with
// EMSGSIZE.
func MqTimedreceive(mqd int, p []byte, abs *unix.Timespec) (n int, prio uint, err error) {
	return Calls{}.MqTimedreceive(mqd, p, abs)
}

// MqTimedreceive is mq_timedreceive(3), held or not (see Calls).
func (c Calls) MqTimedreceive(mqd int, p []byte, abs *unix.Timespec) (n int, prio uint, err error) {
	var pr uint32
	for {
		r, e := c.syscall6(unix.SYS_MQ_TIMEDRECEIVE, uintptr(mqd), uintptr(bufPtr(p)),
			uintptr(len(p)), uintptr(unsafe.Pointer(&pr)), uintptr(unsafe.Pointer(abs)), 0)
		runtime.KeepAlive(p)
		runtime.KeepAlive(abs)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, 0, errnoErr(e)
		}
		return int(r), uint(pr), nil
	}
}

// MqGetsetattr is mq_getsetattr(2): it sets the O_NONBLOCK flag from newAttr
// (if not nil) and returns the attributes in force before.
func MqGetsetattr(mqd int, newAttr *MqAttr) (MqAttr, error) {
	var old MqAttr
	_, _, e := unix.Syscall(unix.SYS_MQ_GETSETATTR, uintptr(mqd), uintptr(unsafe.Pointer(newAttr)),
		uintptr(unsafe.Pointer(&old)))
	runtime.KeepAlive(newAttr)
	return old, errnoErr(e)
}
