package sysipc

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MsgHeader is the size of the mtype (a C long) that precedes mtext in a
// struct msgbuf.
const MsgHeader = 8

// Msqid is struct msqid64_ds, filled by Msgctl(IPC_STAT).
type Msqid struct {
	Perm   unix.SysvIpcPerm
	Stime  int64
	Rtime  int64
	Ctime  int64
	Cbytes uint64 // bytes queued now
	Qnum   uint64 // messages queued now
	Qbytes uint64 // the queue's capacity in bytes (kernel.msgmnb at creation)
	Lspid  int32  // pid of the last msgsnd
	Lrpid  int32  // pid of the last msgrcv
	_      [2]uint64
}

// Msgget is msgget(2).
func Msgget(key Key, flags int) (int, error) {
	id, _, e := unix.Syscall(unix.SYS_MSGGET, uintptr(key), uintptr(flags), 0)
	if e != 0 {
		return -1, errnoErr(e)
	}
	return int(id), nil
}

// PutMtype stores mtype in the first MsgHeader bytes of a msgbuf.
func PutMtype(msgbuf []byte, mtype int64) {
	binary.NativeEndian.PutUint64(msgbuf, uint64(mtype))
}

// Mtype reads the mtype of a msgbuf.
func Mtype(msgbuf []byte) int64 { return int64(binary.NativeEndian.Uint64(msgbuf)) }

// Msgsnd is msgsnd(2). msgbuf is a struct msgbuf: MsgHeader bytes of mtype
// followed by the message text, len(msgbuf)-MsgHeader bytes of it.
func Msgsnd(id int, msgbuf []byte, flags int) error { return Calls{}.Msgsnd(id, msgbuf, flags) }

// Msgsnd is msgsnd(2), held or not (see Calls).
func (c Calls) Msgsnd(id int, msgbuf []byte, flags int) error {
	if len(msgbuf) < MsgHeader {
		return unix.EINVAL
	}
	for {
		_, e := c.syscall6(unix.SYS_MSGSND, uintptr(id), uintptr(unsafe.Pointer(&msgbuf[0])),
			uintptr(len(msgbuf)-MsgHeader), uintptr(flags), 0, 0)
		runtime.KeepAlive(msgbuf)
		if e == unix.EINTR && flags&unix.IPC_NOWAIT != 0 {
			continue
		}
		return errnoErr(e)
	}
}

// Msgrcv is msgrcv(2): it receives into msgbuf (mtype then text) and returns
// the text's length. msgtyp 0 takes the first message, > 0 the first of that
// type, < 0 the first of the lowest type <= -msgtyp. A message longer than
// len(msgbuf)-MsgHeader fails with E2BIG and stays queued (unless
// MSG_NOERROR, which truncates: ipclab never passes it).
// MSG_EXCEPT makes msgrcv with a positive type take the first message of
// any other type (Linux).
const MSG_EXCEPT = 0o20000

// MSG_NOERROR makes msgrcv truncate a message longer than the buffer
// instead of failing with E2BIG.
const MSG_NOERROR = 0o10000

func Msgrcv(id int, msgbuf []byte, msgtyp int64, flags int) (int, error) {
	return Calls{}.Msgrcv(id, msgbuf, msgtyp, flags)
}

// Msgrcv is msgrcv(2), held or not (see Calls).
func (c Calls) Msgrcv(id int, msgbuf []byte, msgtyp int64, flags int) (int, error) {
	if len(msgbuf) < MsgHeader {
		return 0, unix.EINVAL
	}
	for {
		n, e := c.syscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(unsafe.Pointer(&msgbuf[0])),
			uintptr(len(msgbuf)-MsgHeader), uintptr(msgtyp), uintptr(flags), 0)
		runtime.KeepAlive(msgbuf)
		if e == unix.EINTR && flags&unix.IPC_NOWAIT != 0 {
			continue
		}
		if e != 0 {
			return 0, errnoErr(e)
		}
		return int(n), nil
	}
}

// MsgctlStat is msgctl(id, IPC_STAT).
func MsgctlStat(id int) (*Msqid, error) {
	var ds Msqid
	_, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(id), unix.IPC_STAT, uintptr(unsafe.Pointer(&ds)))
	if e != 0 {
		return nil, errnoErr(e)
	}
	return &ds, nil
}

// MsgctlRemove is msgctl(id, IPC_RMID): the queue goes at once and blocked
// callers get EIDRM.
func MsgctlRemove(id int) error {
	_, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(id), unix.IPC_RMID, 0)
	return errnoErr(e)
}
