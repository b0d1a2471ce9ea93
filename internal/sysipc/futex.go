package sysipc

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations on words in memory shared between processes (so not
// the _PRIVATE variants, which key on the process's own address space).
const (
	futexWait = 0 // FUTEX_WAIT
	futexWake = 1 // FUTEX_WAKE
)

// FutexWait sleeps while *addr == val, at most timeout (nil: no limit). It
// returns nil when woken, EAGAIN if *addr != val already, ETIMEDOUT, or
// EINTR; callers re-check their condition in every case.
func FutexWait(addr *uint32, val uint32, timeout *unix.Timespec) error {
	return Calls{}.FutexWait(addr, val, timeout)
}

// FutexWait is FutexWait, held or not (see Calls). Only a wait with a
// timeout may be held: a signal handler makes it return EINTR (the kernel
// turns its restart into EINTR whatever SA_RESTART says), where a wait
// without one is restarted and nothing could stop it. A held call with a
// nil timeout goes through the scheduler instead.
func (c Calls) FutexWait(addr *uint32, val uint32, timeout *unix.Timespec) error {
	if timeout == nil {
		c.Held = false
	}
	_, e := c.syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait, uintptr(val),
		uintptr(unsafe.Pointer(timeout)), 0, 0)
	runtime.KeepAlive(addr)
	runtime.KeepAlive(timeout)
	return errnoErr(e)
}

// FutexWake wakes at most n waiters on addr and returns how many woke.
func FutexWake(addr *uint32, n int) (int, error) { return Calls{}.FutexWake(addr, n) }

// FutexWake is FutexWake, held or not (see Calls): it never blocks.
func (c Calls) FutexWake(addr *uint32, n int) (int, error) {
	r, e := c.syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0)
	runtime.KeepAlive(addr)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(r), nil
}
