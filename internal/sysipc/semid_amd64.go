package sysipc

import "golang.org/x/sys/unix"

// Semid is struct semid64_ds of x86-64, filled by SemctlStat. The kernel
// keeps no creator pid for a semaphore set.
type Semid struct {
	Perm  unix.SysvIpcPerm
	Otime int64 // last semop
	_     uint64
	Ctime int64 // creation or last IPC_SET, SETVAL, SETALL
	_     uint64
	Nsems uint64 // semaphores in the set
	_     [2]uint64
}
