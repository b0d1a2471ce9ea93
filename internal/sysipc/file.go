package sysipc

import (
	"os"

	"golang.org/x/sys/unix"
)

// UnpolledFile makes an *os.File of descriptor fd, left non-blocking,
// without handing it to Go's poller, for a descriptor whose waits happen
// in ppoll on the waiting thread. A descriptor in the poller's epoll set
// wakes an idle runtime thread for every message that arrives: on one CPU
// that was two context switches more per round trip. os.NewFile registers
// a descriptor it finds non-blocking, so the flag is set after it looked.
// The file still owns the number; a caller that uses the number directly
// must keep Close from releasing it meanwhile (the transports hold a mutex
// that Close takes, or a gate it shuts).
func UnpolledFile(fd int, name string) *os.File {
	unix.SetNonblock(fd, false)
	f := os.NewFile(uintptr(fd), name)
	unix.SetNonblock(fd, true)
	return f
}
