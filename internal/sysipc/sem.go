package sysipc

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sembuf is struct sembuf: one operation of a semop call.
type Sembuf struct {
	Num uint16 // semaphore index in the set
	Op  int16  // > 0 add, < 0 wait then subtract, 0 wait for zero
	Flg int16  // IPC_NOWAIT
}

// semctl commands (linux/sem.h) that x/sys does not name.
const (
	GETVAL = 12
	SETVAL = 16
)

// Semget is semget(2).
func Semget(key Key, nsems, flags int) (int, error) {
	id, _, e := unix.Syscall(unix.SYS_SEMGET, uintptr(key), uintptr(nsems), uintptr(flags))
	if e != 0 {
		return -1, errnoErr(e)
	}
	return int(id), nil
}

// Semtimedop is semtimedop(2); a nil timeout waits forever. It may block, so
// it returns EINTR unless every op has IPC_NOWAIT.
func Semtimedop(id int, ops []Sembuf, timeout *unix.Timespec) error {
	return Calls{}.Semtimedop(id, ops, timeout)
}

// Semtimedop is semtimedop(2), held or not (see Calls).
func (c Calls) Semtimedop(id int, ops []Sembuf, timeout *unix.Timespec) error {
	if len(ops) == 0 {
		return unix.EINVAL
	}
	nowait := true
	for _, op := range ops {
		nowait = nowait && op.Flg&unix.IPC_NOWAIT != 0
	}
	for {
		_, e := c.syscall6(unix.SYS_SEMTIMEDOP, uintptr(id), uintptr(unsafe.Pointer(&ops[0])),
			uintptr(len(ops)), uintptr(unsafe.Pointer(timeout)), 0, 0)
		runtime.KeepAlive(ops)
		runtime.KeepAlive(timeout)
		if e == unix.EINTR && nowait {
			continue
		}
		return errnoErr(e)
	}
}

// Semop is semtimedop without a timeout.
func Semop(id int, ops []Sembuf) error { return Semtimedop(id, ops, nil) }

// Semop is semtimedop without a timeout, held or not (see Calls).
func (c Calls) Semop(id int, ops []Sembuf) error { return c.Semtimedop(id, ops, nil) }

// SemctlGetVal returns the value of semaphore num.
func SemctlGetVal(id, num int) (int, error) {
	v, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), uintptr(num), GETVAL, 0, 0, 0)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return int(v), nil
}

// SemctlSetVal sets semaphore num to val.
func SemctlSetVal(id, num, val int) error {
	_, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), uintptr(num), SETVAL, uintptr(val), 0, 0)
	return errnoErr(e)
}

// SemctlRemove is semctl(id, 0, IPC_RMID): blocked callers get EIDRM.
func SemctlRemove(id int) error {
	_, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), 0, unix.IPC_RMID, 0, 0, 0)
	return errnoErr(e)
}

// SemctlStat is semctl(id, 0, IPC_STAT).
func SemctlStat(id int) (*Semid, error) {
	var ds Semid
	_, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), 0, unix.IPC_STAT, uintptr(unsafe.Pointer(&ds)), 0, 0)
	if e != 0 {
		return nil, errnoErr(e)
	}
	return &ds, nil
}
