package sockconn

import (
	"time"

	"golang.org/x/sys/unix"
)

// lingerIdle is how long a closing datagram end waits for its peer to
// take another of the datagrams still queued for it before giving up.
const lingerIdle = time.Second

// linger keeps a closing datagram socket alive until the peer has taken
// every datagram this end sent, or has taken none for lingerIdle.
//
// Why: both ends are connect()ed to each other, and when a socket sends
// to a connected peer that has been released, the kernel empties the
// sender's own receive queue before failing with ECONNREFUSED
// (unix_dgram_sendmsg finds the peer SOCK_DEAD and calls
// unix_dgram_disconnected, which runs skb_queue_purge on the sender).
// So a peer still reading what we sent, and replying as it goes (a link
// consumer returning credit), would lose the tail of our messages the
// moment it replied after our socket was gone. A stream socket's data
// outlives its sender's close; a datagram's does only while the sender's
// socket lives, or while the receiver sends nothing. (A peer that pauses
// longer than lingerIdle is covered on its side: see early.go.)
//
// How: a datagram is charged to its sender's socket until the receiver
// dequeues it, and SIOCOUTQ (unix_outq_len) reports that charge, so zero
// means the peer has everything. A dead or closed peer frees its queue,
// which also brings it to zero. Meanwhile what arrives here is read and
// dropped (this end is closed), so that a peer blocked sending to us goes
// on to read. There is no event for the charge falling, hence the short
// polls.
func (c *Conn) linger(fd int) {
	var b [1]byte
	last, idleSince := -1, time.Now()
	nap := 100 * time.Microsecond
	for {
		for range 256 { // bounded: a peer may send as fast as we drop
			if _, err := unix.Read(fd, b[:]); err != nil && err != unix.EINTR {
				break // EAGAIN: nothing more; any other error: SIOCOUTQ below ends it
			}
		}
		queued, err := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
		if err != nil || queued <= 0 || c.end.PeerGone() {
			return
		}
		switch {
		case last < 0 || queued < last:
			idleSince, nap = time.Now(), 100*time.Microsecond // the peer is reading
		case time.Since(idleSince) >= lingerIdle:
			return // the peer is not reading: what it has not taken may be lost
		}
		last = queued
		fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		ts := unix.NsecToTimespec(int64(nap))
		unix.Ppoll(fds[:], &ts, nil)
		nap = min(2*nap, 10*time.Millisecond)
	}
}
