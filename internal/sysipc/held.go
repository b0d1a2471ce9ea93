package sysipc

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Calls makes the system calls of a message path. The zero value goes
// through Go's scheduler, as unix.Syscall does: a call that blocks hands
// its P to other goroutines. Held calls use RawSyscall and keep the
// thread and its P for the whole call, as a C program's thread does.
//
// Why: a ping-pong of two Go processes on one CPU, blocking read(2) and
// write(2) of 64 bytes on a pipe, measured p50 6.6 us and p99 49 us
// through the scheduler, p50 6.3 us and p99 8-11 us held; C did 6.0 and
// 8-10 (50,000 round trips, 3 runs). The scheduler's entry and exit
// around each call, and sysmon taking the P of a call that outlasts
// its tick, make the tail.
//
// The price: while a held call blocks, its P runs nothing else. Other
// goroutines use the remaining Ps; with GOMAXPROCS=1 they wait until the
// call returns or sysmon preempts it (a signal after 10 ms, which makes
// ppoll, msgrcv and the like return EINTR; callers loop). So held calls
// are for a latency-critical process with spare Ps, and only calls that
// return EINTR on a signal whatever SA_RESTART says may block held:
// ppoll, msgsnd, msgrcv, semtimedop (signal(7)), and a futex wait with a
// timeout (see FutexWait). A read or write (or sendmsg, recvmsg) that
// could block is never held, nor mq_timedsend or mq_timedreceive on a
// blocking queue descriptor: SA_RESTART (which Go's handlers set) would
// restart them and the signal could not stop them. ipclab makes those
// calls held only on non-blocking descriptors, where they never wait.
type Calls struct{ Held bool }

// CanHold says whether this process may hold calls: every held wait is
// stopped by a signal, and sysmon's and the garbage collector's come only
// with asynchronous preemption. GODEBUG=asyncpreemptoff=1 turns those off,
// and a held wait with no timeout then stops the whole process at the next
// stop-the-world until the wait ends (seen: runtime.GC during a held ppoll
// on an empty pipe never returned).
func CanHold() error {
	off := false
	for _, kv := range strings.Split(os.Getenv("GODEBUG"), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "asyncpreemptoff" {
			off = v == "1" // the last setting wins, as in the runtime
		}
	}
	if off {
		return errors.New("waits cannot be held with GODEBUG=asyncpreemptoff=1: without preemption signals nothing could stop a held wait, not even the garbage collector's stop-the-world")
	}
	return nil
}

// syscall6 is nosplit: its callers have turned pointers into uintptrs,
// and a stack check here could grow (copy) the stack, leaving a pointer
// to a caller's stack variable naming the old stack, which the kernel
// would then read and write (TestCallsSurviveStackGrowth). From here to
// the kernel nothing may move the stack; syscall.Syscall6 and
// RawSyscall6 are nosplit too. (The methods that call it keep their stack
// checks, where a goroutine back from a held wait's EINTR is preempted.)
//
//go:nosplit
func (c Calls) syscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, syscall.Errno) {
	if c.Held {
		r, _, e := syscall.RawSyscall6(trap, a1, a2, a3, a4, a5, a6)
		return r, e
	}
	r, _, e := syscall.Syscall6(trap, a1, a2, a3, a4, a5, a6)
	return r, e
}

// Ppoll is ppoll(2) without a signal mask; EINTR is returned, not retried.
func (c Calls) Ppoll(fds []unix.PollFd, timeout *unix.Timespec) (int, error) {
	if len(fds) == 0 {
		return 0, unix.EINVAL
	}
	n, e := c.syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)),
		uintptr(unsafe.Pointer(timeout)), 0, 0, 0)
	runtime.KeepAlive(fds)
	runtime.KeepAlive(timeout)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// Read is read(2) on a non-blocking descriptor (see Calls: a read that
// can block must not be held).
func (c Calls) Read(fd int, p []byte) (int, error) {
	n, e := c.syscall6(unix.SYS_READ, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)), 0, 0, 0)
	runtime.KeepAlive(p)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// Write is write(2) on a non-blocking descriptor.
func (c Calls) Write(fd int, p []byte) (int, error) {
	n, e := c.syscall6(unix.SYS_WRITE, uintptr(fd), uintptr(bufPtr(p)), uintptr(len(p)), 0, 0, 0)
	runtime.KeepAlive(p)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// Sendmsg is sendmsg(2); flags must hold MSG_DONTWAIT unless the
// descriptor is non-blocking (see Calls: a send that can block must not
// be held).
func (c Calls) Sendmsg(fd int, msg *unix.Msghdr, flags int) (int, error) {
	n, e := c.syscall6(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags), 0, 0, 0)
	runtime.KeepAlive(msg)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// Recvmsg is recvmsg(2), with the same rule as Sendmsg. It returns what
// the call returns (with MSG_TRUNC, a packet's whole length); the kernel
// updates msg's Flags and Namelen.
func (c Calls) Recvmsg(fd int, msg *unix.Msghdr, flags int) (int, error) {
	n, e := c.syscall6(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(msg)), uintptr(flags), 0, 0, 0)
	runtime.KeepAlive(msg)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(n), nil
}

// Holder is an end's switch for held calls (ipclab.WaitHolder): its
// HoldWaits sets it, its message path asks it for its Calls.
type Holder struct{ held atomic.Bool }

// Set turns holding on or off; on fails where CanHold says no.
func (h *Holder) Set(on bool) error {
	if on {
		if err := CanHold(); err != nil {
			return err
		}
	}
	h.held.Store(on)
	return nil
}

// On says whether calls are held.
func (h *Holder) On() bool { return h.held.Load() }

// Calls are the calls to make now, held or not.
func (h *Holder) Calls() Calls { return Calls{Held: h.held.Load()} }
