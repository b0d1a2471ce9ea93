package sysipc

import "golang.org/x/sys/unix"

// Semid is struct semid64_ds of the generic 64-bit layout (arm64), filled
// by SemctlStat. The kernel keeps no creator pid for a semaphore set.
type Semid struct {
	Perm  unix.SysvIpcPerm
	Otime int64  // last semop
	Ctime int64  // creation or last IPC_SET, SETVAL, SETALL
	Nsems uint64 // semaphores in the set
	_     [2]uint64
}
