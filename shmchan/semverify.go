package shmchan

import (
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// semIdentity is what the kernel said about the semaphore set when the
// opener verified it; the opener removes the set only if it still says so.
type semIdentity struct {
	uid, cuid uint32
	ctime     int64
	mode      uint32 // at attach, for the opener's check (not part of the identity)
}

// semCreationSlack bounds how long after the segment its creator may
// create and initialise the semaphore set (a few system calls; generous
// for a machine that stalls).
const semCreationSlack = 60

// verifySemSet checks that semaphore set id is the one the segment's
// creator made for it: an IPC_PRIVATE set of 4 semaphores, with the
// segment's owner and creator, made (its ctime is that of the creator's
// SETVAL) within semCreationSlack of the segment's ctime (its creation,
// or the IPC_SET a reusing creator does after the SETVAL).
func verifySemSet(id int, seg *unix.SysvShmDesc) (semIdentity, error) {
	ds, err := sysipc.SemctlStat(id)
	if err != nil {
		return semIdentity{}, corrupt("the header names semaphore set %d: %v", id, err)
	}
	s := semIdentity{uid: ds.Perm.Uid, cuid: ds.Perm.Cuid, ctime: ds.Ctime, mode: ds.Perm.Mode}
	switch {
	case ds.Perm.Uid != seg.Perm.Uid || ds.Perm.Cuid != seg.Perm.Cuid:
		return s, corrupt("the header names semaphore set %d, owned by uid %d and created by uid %d; the segment's are %d and %d",
			id, ds.Perm.Uid, ds.Perm.Cuid, seg.Perm.Uid, seg.Perm.Cuid)
	case ds.Perm.Key != 0 || ds.Nsems != 4:
		return s, corrupt("the header names semaphore set %d with key %#x and %d semaphores; a channel's is private with 4",
			id, uint32(ds.Perm.Key), ds.Nsems)
	case ds.Ctime < seg.Ctime-semCreationSlack || ds.Ctime > seg.Ctime+semCreationSlack:
		return s, corrupt("the header names semaphore set %d, changed at %d; the segment was created at %d",
			id, ds.Ctime, seg.Ctime)
	}
	return s, nil
}

// stillSame reports whether set id is the one verified at attach.
func (s semIdentity) stillSame(id int) bool {
	ds, err := sysipc.SemctlStat(id)
	return err == nil && ds.Perm.Uid == s.uid && ds.Perm.Cuid == s.cuid && ds.Ctime == s.ctime
}
