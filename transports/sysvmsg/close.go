package sysvmsg

import (
	"errors"
	"time"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// How a Close reaches the other end (see the package doc): the opener's
// markers, and the creator's linger before it removes the queue.

// Close wakes blocked calls. The creator's end (or an opener whose creator
// died) removes the queue; an opener queues its close marker.
func (c *Conn) Close() error {
	return c.end.Close(func() error {
		c.wakeAll()
		if !c.end.Removes(c.creator) {
			c.sendMarker(TypeClosed)
			return nil
		}
		if c.creator && !c.end.PeerGone() {
			c.linger()
		}
		registry.Forget(registry.Entry{Kind: ipcobj.SysVMsg, ID: c.id})
		if e := sysipc.MsgctlRemove(c.id); e != nil && !errors.Is(e, unix.EINVAL) && !errors.Is(e, unix.EIDRM) {
			return c.end.Err("close", e)
		}
		return nil
	})
}

// linger waits, up to CloseLinger, until the queue holds nothing for the
// opener. Messages for this end are discarded first (nobody will read
// them), so what the count shows is the opener's; it polls, with back-off,
// since no event says "the queue is empty", and only at Close.
func (c *Conn) linger() {
	var discard [sysipc.MsgHeader]byte
	backoff := time.Millisecond
	for end := time.Now().Add(CloseLinger); time.Now().Before(end) && !c.end.PeerGone(); {
		for {
			if _, err := sysipc.Msgrcv(c.id, discard[:], c.sendType, sysipc.MSG_EXCEPT|sysipc.MSG_NOERROR|unix.IPC_NOWAIT); err != nil {
				break
			}
			if c.marker(sysipc.Mtype(discard[:])) && c.end.PeerGone() {
				return // every opener closed: nobody takes the rest
			}
		}
		if ds, err := sysipc.MsgctlStat(c.id); err != nil || ds.Qnum == 0 {
			return
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 10*time.Millisecond)
	}
}

// sendMarker queues an empty message of type mtype, without waiting: it
// fits unless the queue holds msg_qbytes messages, and then a creator
// still learns of this process's exit from its watch.
func (c *Conn) sendMarker(mtype int64) {
	var m [sysipc.MsgHeader]byte
	sysipc.PutMtype(m[:], mtype)
	sysipc.Msgsnd(c.id, m[:], unix.IPC_NOWAIT)
}

// marker counts an opener's open and close markers, and makes the peer
// gone once every opener that opened has closed; it reports whether mtype
// was a marker.
func (c *Conn) marker(mtype int64) bool {
	switch mtype {
	case TypeOpened:
		c.openers.Opened()
	case TypeClosed:
		if c.openers.Closed() {
			c.end.SetPeerGone()
			c.wakeAll()
		}
	default:
		return false
	}
	return true
}
