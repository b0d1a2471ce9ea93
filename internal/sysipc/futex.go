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
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait, uintptr(val),
		uintptr(unsafe.Pointer(timeout)), 0, 0)
	runtime.KeepAlive(addr)
	runtime.KeepAlive(timeout)
	return errnoErr(e)
}

// FutexWake wakes at most n waiters on addr and returns how many woke.
func FutexWake(addr *uint32, n int) (int, error) {
	r, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0)
	runtime.KeepAlive(addr)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(r), nil
}
