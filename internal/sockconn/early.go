package sockconn

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The receiving half of linger. A datagram socket that sends to its
// connected peer after that peer's socket was released loses its own
// receive queue (unix_dgram_sendmsg -> unix_dgram_disconnected ->
// skb_queue_purge). The closing peer lingers while we take what it sent,
// but gives up after lingerIdle without progress; a Send that follows a
// longer pause could then destroy the messages still queued here. So a
// Send that has not seen the queue empty for half of lingerIdle first
// takes what is queued into memory (takeQueued), and Recv delivers that
// first.
//
// Why half of lingerIdle is enough: if the queue was empty at time e,
// whatever is queued now was sent after e, so the peer began its Close
// after e, and it gives up no earlier than a full lingerIdle after that:
// it is alive for the next half at least, by which time this Send is
// done. In a steady exchange the queue is seen empty all the time (every
// Recv that waits sees it), so the extra recvmsg runs only after a pause
// and at most once per half lingerIdle.

// earlyQueue holds the datagrams a Send took from the socket.
type earlyQueue struct {
	mu      sync.Mutex // held around every dequeue from the socket
	packets []earlyPacket
	bytes   int
	buf     []byte       // takeQueued's receive buffer
	emptyAt atomic.Int64 // when a recvmsg last found the queue empty (monoNow)
}

type earlyPacket struct {
	data    []byte // the message and its trailer, as much as fit
	total   int    // the whole packet's length
	trunc   bool   // it was longer than the room (MSG_TRUNC)
	name    unix.RawSockaddrUnix
	namelen uint32
}

var epoch = time.Now()

// monoNow is the monotonic clock, in nanoseconds since the package began.
func monoNow() int64 { return int64(time.Since(epoch)) }

func (q *earlyQueue) sawEmptyLately() bool {
	return monoNow()-q.emptyAt.Load() < int64(lingerIdle/2)
}

// earlyCap bounds what takeQueued keeps in memory: past it the kernel's
// queue, and its flow control, hold the rest.
func (c *Conn) earlyCap() int { return max(4*c.cfg.Limit.Max, 1<<20) }

// takeQueued moves the datagrams queued on socket fd to c.early, until
// the queue is empty (or the cap, or a peer sending as fast as we take:
// that peer is alive, and a closing one lingers for us). sendMu held.
func (c *Conn) takeQueued(fd int) {
	q := &c.early
	q.mu.Lock()
	moved := q.takeFrom(fd, c.earlyCap(), c.packetRoom())
	q.mu.Unlock()
	if moved {
		c.wake() // a Recv waiting in ppoll would not see them: the socket is empty now
	}
}

// takeFrom is takeQueued's loop, with q.mu held; room is the largest
// packet kept whole (a longer one is kept cut, and marked so).
func (q *earlyQueue) takeFrom(fd, limit, room int) (moved bool) {
	if q.buf == nil {
		q.buf = make([]byte, room)
	}
	for range 4096 {
		if q.bytes >= limit {
			return moved
		}
		var pkt earlyPacket
		iov := iovec(q.buf)
		msg := unix.Msghdr{Name: (*byte)(unsafe.Pointer(&pkt.name)), Namelen: unix.SizeofSockaddrUnix, Iov: &iov}
		msg.SetIovlen(1)
		r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_TRUNC|unix.MSG_DONTWAIT)
		switch {
		case e == unix.EINTR:
			continue
		case e == unix.EAGAIN:
			q.emptyAt.Store(monoNow())
			return moved
		case e != 0:
			return moved // Recv will meet it
		}
		pkt.total, pkt.trunc, pkt.namelen = int(r), msg.Flags&unix.MSG_TRUNC != 0, msg.Namelen
		pkt.data = append([]byte(nil), q.buf[:min(int(r), len(q.buf))]...)
		q.packets = append(q.packets, pkt)
		q.bytes += len(pkt.data)
		moved = true
	}
	return moved
}

// takeEarly is recvmsg for a datagram takeQueued took: it lays it out as
// the system call would have, in c.readBuf and the spare room, and sets
// its kind. early.mu held.
func (c *Conn) takeEarly() int {
	q := &c.early
	pkt := q.packets[0]
	q.packets[0] = earlyPacket{}
	q.packets = q.packets[1:]
	q.bytes -= len(pkt.data)
	p := c.readBuf
	n := copy(p, pkt.data)
	m := copy(c.spare[:c.roomAfter(p)], pkt.data[n:])
	c.readTrunc = pkt.trunc || n+m < len(pkt.data)
	c.setKind(p, pkt.total)
	c.name = pkt.name
	c.rmsg = unix.Msghdr{Namelen: pkt.namelen}
	return pkt.total
}
