package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// Identity is what the kernel says about an object when it is recorded,
// and what it must still say before clean removes it: an id or a name
// alone can be reused by anyone (another namespace, a later object).
//
// System V objects: owner and creator uid, key and ctime from IPC_STAT,
// plus the creator pid for segments and the size of a semaphore set (the
// kernel keeps no creator pid for queues and sets). POSIX queues, FIFOs
// and /dev/shm files (shared memory, semaphores): owner, device and inode (and a FIFO's birth time, since a file
// system such as ext4 hands a freed inode number to the next file); their
// ctime moves with every message, so the live one may only be later than
// the recorded one.
type Identity struct {
	NS    uint64 `json:"ipc_ns"` // inode of /proc/self/ns/ipc
	UID   uint32 `json:"uid"`
	CUID  uint32 `json:"cuid,omitempty"`
	CPID  int32  `json:"cpid,omitempty"`
	Size  uint64 `json:"size,omitempty"` // segment bytes, or semaphores in a set
	Ctime int64  `json:"ctime"`          // seconds (System V), nanoseconds (files)
	Dev   uint64 `json:"dev,omitempty"`
	Ino   uint64 `json:"ino,omitempty"`
	Btime int64  `json:"btime,omitempty"` // FIFO birth time in nanoseconds, where the file system keeps one

	key int32 // System V key now (recorded in Entry.Key)
}

// currentNS is the inode of this process's IPC namespace, 0 if unknown.
func currentNS() uint64 {
	var st unix.Stat_t
	if unix.Stat("/proc/self/ns/ipc", &st) != nil {
		return 0
	}
	return st.Ino
}

// Probe reads the live object's identity. Its error wraps os.ErrNotExist
// when the object is gone.
func Probe(e Entry) (Identity, error) {
	id := Identity{NS: currentNS()}
	if id.NS == 0 {
		return id, errors.New("cannot read /proc/self/ns/ipc")
	}
	gone := func(err error) error {
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EIDRM) || errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("%w (%w)", os.ErrNotExist, err)
		}
		return err
	}
	switch e.Kind {
	case ipcobj.SysVMsg:
		ds, err := sysipc.MsgctlStat(e.ID)
		if err != nil {
			return id, gone(err)
		}
		id.UID, id.CUID, id.Ctime, id.key = ds.Perm.Uid, ds.Perm.Cuid, ds.Ctime, ds.Perm.Key
	case ipcobj.SysVSem:
		ds, err := sysipc.SemctlStat(e.ID)
		if err != nil {
			return id, gone(err)
		}
		id.UID, id.CUID, id.Ctime, id.Size, id.key = ds.Perm.Uid, ds.Perm.Cuid, ds.Ctime, ds.Nsems, ds.Perm.Key
	case ipcobj.SysVShm:
		var ds unix.SysvShmDesc
		if _, err := unix.SysvShmCtl(e.ID, unix.IPC_STAT, &ds); err != nil {
			return id, gone(err)
		}
		id.UID, id.CUID, id.Ctime, id.CPID, id.Size, id.key = ds.Perm.Uid, ds.Perm.Cuid, ds.Ctime, ds.Cpid, ds.Segsz, ds.Perm.Key
	case ipcobj.PosixMQ:
		fd, err := sysipc.MqOpen(e.Name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0, nil)
		if err != nil {
			return id, gone(err)
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		unix.Close(fd)
		if err != nil {
			return id, err
		}
		id.fromStat(&st)
	case ipcobj.PosixShm, ipcobj.PosixSem:
		// O_PATH: no open of the file itself, so nothing it is can act.
		fd, err := unix.Open(ipcobj.ShmPath(e.Kind, e.Name), unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return id, gone(err)
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		unix.Close(fd)
		if err != nil {
			return id, err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return id, fmt.Errorf("%s is not a regular file", ipcobj.ShmPath(e.Kind, e.Name))
		}
		id.fromStat(&st)
	case ipcobj.FIFO, ipcobj.UnixSocket:
		d, base, err := openParent(e.Name)
		if err != nil {
			return id, gone(err)
		}
		defer unix.Close(d)
		var stx unix.Statx_t
		if err := unix.Statx(d, base, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &stx); err != nil {
			return id, gone(err)
		}
		if uint32(stx.Mode)&unix.S_IFMT != fileType(e.Kind) {
			return id, fmt.Errorf("%s is not a %s", e.Name, e.Kind)
		}
		id.UID, id.Dev, id.Ino = stx.Uid, unix.Mkdev(stx.Dev_major, stx.Dev_minor), stx.Ino
		id.Ctime = stx.Ctime.Sec*1e9 + int64(stx.Ctime.Nsec)
		if stx.Mask&unix.STATX_BTIME != 0 {
			id.Btime = stx.Btime.Sec*1e9 + int64(stx.Btime.Nsec)
		}
	default:
		return id, fmt.Errorf("unknown kind %q", e.Kind)
	}
	return id, nil
}

func (id *Identity) fromStat(st *unix.Stat_t) {
	id.UID, id.Dev, id.Ino, id.Ctime = st.Uid, st.Dev, st.Ino, st.Ctim.Nano()
}

// openParent opens the directory of an absolute path, so that what is
// checked and what is unlinked are the same directory entry.
func openParent(path string) (int, string, error) {
	if !filepath.IsAbs(path) {
		return -1, "", fmt.Errorf("%s is not an absolute path", path)
	}
	fd, err := unix.Open(filepath.Dir(path), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", err
	}
	return fd, filepath.Base(path), nil
}

// State is what Verify found.
type State int

const (
	// Ours: the live object has the recorded identity.
	Ours State = iota
	// Gone: the recorded object no longer exists (its id or name may now
	// name something else, which is left alone).
	Gone
	// NotVerified: the object cannot be shown to be the recorded one: an
	// entry without identity, from another IPC namespace, or a live
	// object that differs. It is never removed.
	NotVerified
)

// Verdict is Verify's answer; Why explains Gone and NotVerified.
type Verdict struct {
	State State
	Why   string
}

// Verify compares the recorded identity with the live object's.
func (e Entry) Verify() Verdict {
	rec := e.Ident
	if rec == nil {
		return Verdict{NotVerified, "the entry records no identity"}
	}
	if ns := currentNS(); rec.NS != ns {
		return Verdict{NotVerified, fmt.Sprintf("recorded in IPC namespace %d, this is %d", rec.NS, ns)}
	}
	live, err := Probe(e)
	if errors.Is(err, os.ErrNotExist) {
		return Verdict{Gone, "the object is gone"}
	}
	if err != nil {
		return Verdict{NotVerified, err.Error()}
	}
	if why := rec.differs(e, live); why != "" {
		// The id or name now names another object: ours is gone.
		return Verdict{Gone, "the id now names another object (" + why + ")"}
	}
	if e.Kind == ipcobj.SysVShm && int(rec.CPID) != e.PID {
		return Verdict{NotVerified, fmt.Sprintf("the entry says pid %d created it, the kernel says %d", e.PID, rec.CPID)}
	}
	if rec.UID != uint32(os.Geteuid()) {
		return Verdict{NotVerified, fmt.Sprintf("owned by uid %d, not by this user", rec.UID)}
	}
	return Verdict{Ours, ""}
}

// differs says how live differs from the recorded identity, or "".
func (rec *Identity) differs(e Entry, live Identity) string {
	switch e.Kind {
	case ipcobj.SysVMsg, ipcobj.SysVSem, ipcobj.SysVShm:
		if live.UID != rec.UID || live.CUID != rec.CUID {
			return fmt.Sprintf("owner %d/creator %d, recorded %d/%d", live.UID, live.CUID, rec.UID, rec.CUID)
		}
		if live.Ctime != rec.Ctime || live.CPID != rec.CPID || live.Size != rec.Size {
			return fmt.Sprintf("ctime %d, creator pid %d, size %d; recorded %d, %d, %d",
				live.Ctime, live.CPID, live.Size, rec.Ctime, rec.CPID, rec.Size)
		}
		if key := live.key; key != e.Key && !(e.Kind == ipcobj.SysVShm && key == 0) {
			// A segment marked for removal shows key 0 until it is freed.
			return fmt.Sprintf("key 0x%08x, recorded 0x%08x", uint32(key), uint32(e.Key))
		}
	default:
		if live.UID != rec.UID || live.Dev != rec.Dev || live.Ino != rec.Ino || live.Ctime < rec.Ctime || live.Btime != rec.Btime {
			return fmt.Sprintf("owner %d, inode %d:%d, ctime %d, birth %d; recorded %d, %d:%d, %d, %d",
				live.UID, live.Dev, live.Ino, live.Ctime, live.Btime, rec.UID, rec.Dev, rec.Ino, rec.Ctime, rec.Btime)
		}
	}
	return ""
}

// removeVerified removes an object Verify found to be ours. A FIFO or a
// /dev/shm file is checked again through the same directory descriptor it
// is unlinked by.
func removeVerified(e Entry) error {
	switch e.Kind {
	case ipcobj.SysVMsg, ipcobj.SysVSem, ipcobj.SysVShm, ipcobj.PosixMQ:
		return ipcobj.Remove(ipcobj.Object{Kind: e.Kind, ID: e.ID, Name: e.Name})
	case ipcobj.FIFO, ipcobj.UnixSocket, ipcobj.PosixShm, ipcobj.PosixSem:
		path, want := e.Name, fileType(e.Kind)
		if e.Kind == ipcobj.PosixShm || e.Kind == ipcobj.PosixSem {
			path, want = ipcobj.ShmPath(e.Kind, e.Name), unix.S_IFREG
		}
		d, base, err := openParent(path)
		if err != nil {
			return err
		}
		defer unix.Close(d)
		var st unix.Stat_t
		if err := unix.Fstatat(d, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != want || st.Dev != e.Ident.Dev || st.Ino != e.Ident.Ino {
			return fmt.Errorf("%s changed before it could be removed; left alone", path)
		}
		return unix.Unlinkat(d, base, 0)
	}
	return fmt.Errorf("registry: unknown kind %q", e.Kind)
}

// fileType is the file type of the objects of kind that live in the file
// system: a FIFO, or a Unix socket bound to a path.
func fileType(k ipcobj.Kind) uint32 {
	if k == ipcobj.UnixSocket {
		return unix.S_IFSOCK
	}
	return unix.S_IFIFO
}
