// Package sysipc holds thin typed wrappers for the System V and POSIX IPC
// system calls that golang.org/x/sys/unix lacks: msg*, sem*, mq_* and ftok.
// Everything x/sys already has (shmget, shmat, futex numbers, tgkill, ...) is
// used from x/sys directly.
//
// EINTR: calls made with IPC_NOWAIT (or on a non-blocking descriptor) are
// retried on EINTR. Calls that may block return EINTR to the caller: the
// kernel never restarts msgrcv, msgsnd or semtimedop after a signal handler,
// and ipclab uses exactly that to wake a blocked call on Close or a deadline
// (see internal/intr), so the caller decides whether to call again.
//
// The layouts below are those of linux/amd64 and linux/arm64.
package sysipc

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// errnoErr is e as an error, nil for 0. Boxing an errno allocates
// nothing (Go boxes integers below 256 without allocating), so there is
// no table of preallocated errors as in x/sys.
func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// zeroByte gives zero-length buffers a valid address to pass to the kernel.
var zeroByte byte

func bufPtr(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return unsafe.Pointer(&zeroByte)
	}
	return unsafe.Pointer(&p[0])
}
