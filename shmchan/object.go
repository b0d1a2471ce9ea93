// The kernel object behind a channel's memory. A System V segment is this
// package's own (Create, Attach); a POSIX shared-memory object or a memfd
// is package transports/posixshm's, which maps it and hands it to CreateOn
// and AttachOn. Everything else (layout, header checks, rings, waits,
// close and peer death) is the same code for both.

package shmchan

import (
	"fmt"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/posixsem"
	"github.com/ipclab/ipclab/internal/registry"
	"golang.org/x/sys/unix"
)

// Object is the kernel object a channel's memory comes from, as the channel
// needs it once mapped. Its methods are called by the channel only.
type Object interface {
	// Unlink makes the object (and its semaphores) unreachable to new
	// openers while both mappings stay valid: IPC_RMID, shm_unlink. The
	// creator calls it as soon as it sees the opener attached, and at
	// Close; an opener when its creator died. It is idempotent, safe from
	// any goroutine, and removes a name only while the name still leads to
	// the object this side mapped.
	Unlink()
	// Close ends this side's use of the object, once every operation has
	// returned: the creator's, or an opener's whose creator died (remove),
	// removes what is left of it, then the mapping goes.
	Close(remove bool)
	// PosixSems creates (the creator) or opens (the opener) the four named
	// semaphores of the PosixSem strategy: ring 0's "full" and "empty",
	// then ring 1's. An object without names fails with the reason.
	PosixSems(create bool) ([4]*posixsem.Sem, error)
	// EventFDs are the four eventfds of the EventFD strategy, standing
	// for ring 0's data and space wake words, then ring 1's; the object
	// owns them and closes them in Close. An object without them fails
	// with the reason.
	EventFDs() ([4]int, error)
}

// sysvObject is a System V segment.
type sysvObject struct {
	id       int
	seg      []byte
	creator  bool
	register bool
}

func (o *sysvObject) Unlink() { unix.SysvShmCtl(o.id, unix.IPC_RMID, nil) }

func (o *sysvObject) Close(remove bool) {
	if o.creator {
		unix.SysvShmCtl(o.id, unix.IPC_RMID, nil)
		registry.Forget(registry.Entry{Kind: ipcobj.SysVShm, ID: o.id})
	}
	unix.SysvShmDetach(o.seg)
}

func (o *sysvObject) EventFDs() ([4]int, error) {
	return [4]int{-1, -1, -1, -1}, fmt.Errorf("shmchan: the %s strategy needs eventfds inherited from the creator, which a System V segment's opener has no way to get: use posixshm's inherited memfd pair", EventFD)
}

func (o *sysvObject) PosixSems(bool) ([4]*posixsem.Sem, error) {
	return [4]*posixsem.Sem{}, fmt.Errorf("shmchan: the %s strategy needs named POSIX semaphores, which a System V segment has no name for: use the posixshm transport", PosixSem)
}
