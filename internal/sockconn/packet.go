package sockconn

import (
	"bytes"
	"fmt"
	"unsafe"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// recvPacket receives one packet: the message into p, and what does not
// fit p into spare, so that a message longer than p is kept (and
// delivered whole to the next Recv) rather than cut; the trailer after
// it (the kind byte, padded in a long one) lands in p or spare too (p is
// scratch space up to its length), and recvmsg copies the kind to
// recvHdr. recvMu held.
func (c *Conn) recvPacket(p []byte) (int, error) {
	max := c.cfg.Limit.Max
	for {
		if c.hasHeld {
			n := len(c.held)
			if n > len(p) {
				return 0, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true}
			}
			c.hasHeld = false
			return copy(p, c.held), nil
		}
		if room := c.packetRoom(); len(p) < room && c.spare == nil {
			c.spare = make([]byte, room)
		}
		total, err := c.read(p)
		if err != nil {
			return 0, err
		}
		if total == 0 {
			if c.cfg.Kind == SeqPacket {
				return 0, errEOF // every message has its kind byte: 0 is end of file
			}
			continue // an empty datagram is nobody's message
		}
		if c.cfg.PeerName != nil && !bytes.Equal(c.fromName(), c.cfg.PeerName) {
			continue // sent before the pair connected, by another process
		}
		if total < c.recvTrail {
			return 0, fmt.Errorf("sockconn: a packet of %d bytes ending in a %d-byte trailer was dropped: the peer does not speak this protocol", total, c.recvTrail)
		}
		switch c.recvHdr[0] {
		case pktData:
		case pktClose:
			c.end.SetPeerGone()
			return 0, errEOF
		case pktHello:
			continue
		default:
			return 0, fmt.Errorf("sockconn: a packet of unknown kind %d (%d bytes) was dropped: the peer does not speak this protocol", c.recvHdr[0], total)
		}
		n := total - c.recvTrail
		if c.readTrunc || n > max {
			return 0, fmt.Errorf("%w (the message was discarded)", c.tooLarge(n))
		}
		if n > len(p) {
			c.held = append(append(c.held[:0], p...), c.spare[:n-len(p)]...)
			c.hasHeld = true
			return 0, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true}
		}
		return n, nil
	}
}

// recvmsg is one non-blocking recvmsg(2) of a packet into c.readBuf and
// the spare room; it returns the packet's whole length (MSG_TRUNC), sets
// readTrunc if it was longer than the room, and copies its kind, the last
// byte, to recvHdr (pktData for a packet cut short: its kind is lost, and
// it is too long to be anything but data).
func (c *Conn) recvmsg(calls sysipc.Calls, fd int) (int, error) {
	if c.cfg.Kind == Datagram {
		c.early.mu.Lock()
		defer c.early.mu.Unlock()
		if len(c.early.packets) > 0 {
			return c.takeEarly(), nil
		}
	}
	p := c.readBuf
	iov := &c.riov
	iov[0] = iovec(p)
	niov := 1
	if room := c.roomAfter(p); room > 0 {
		iov[1] = iovec(c.spare[:room])
		niov = 2
	}
	msg := &c.rmsg
	*msg = unix.Msghdr{Iov: &iov[0]}
	msg.SetIovlen(niov)
	if c.cfg.PeerName != nil {
		msg.Name = (*byte)(unsafe.Pointer(&c.name))
		msg.Namelen = unix.SizeofSockaddrUnix
	}
	r, err := calls.Recvmsg(fd, msg, unix.MSG_TRUNC|unix.MSG_DONTWAIT)
	if err != nil {
		if err == unix.EAGAIN && c.cfg.Kind == Datagram {
			c.early.emptyAt.Store(monoNow())
		}
		return 0, err
	}
	c.readTrunc = msg.Flags&unix.MSG_TRUNC != 0
	c.setKind(p, r)
	return r, nil
}

// roomAfter is how much of spare a receive into p uses: with p,
// packetRoom.
func (c *Conn) roomAfter(p []byte) int {
	return max(c.packetRoom()-len(p), 0)
}

// packetRoom is the room a packet is received into: the largest message
// with a long trailer, and a byte to spare (MSG_TRUNC marks a longer one).
// The long trailer counts even though this end's Send would not use it
// there: a peer whose limit is larger (a bigger SO_SNDBUF) does.
func (c *Conn) packetRoom() int { return c.cfg.Limit.Max + longTrailer + 1 }

// setKind copies the kind of the packet of total bytes just received
// into p and spare to recvHdr, and its trailer's length to recvTrail.
func (c *Conn) setKind(p []byte, total int) {
	switch i := total - packetHeader; {
	case total == 0 || c.readTrunc:
		c.recvHdr[0] = pktData
	case i < len(p):
		c.recvHdr[0] = p[i]
	default:
		c.recvHdr[0] = c.spare[i-len(p)]
	}
	c.recvTrail = packetHeader
	if c.recvHdr[0]&kindLong != 0 {
		c.recvHdr[0] &^= kindLong
		c.recvTrail = longTrailer
	}
}

// fromName is the sender's address recvmsg reported, as bytes.
func (c *Conn) fromName() []byte {
	n := int(c.rmsg.Namelen) - 2 // less the family
	if n <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&c.name.Path[0])), min(n, len(c.name.Path)))
}

func iovec(b []byte) unix.Iovec {
	var v unix.Iovec
	if len(b) > 0 {
		v.Base = &b[0]
		v.SetLen(len(b))
	}
	return v
}
