package sockconn

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/framing"
	"golang.org/x/sys/unix"
)

// Send sends one message: a frame on a stream, one packet otherwise.
func (c *Conn) Send(p []byte) error {
	if len(p) > c.cfg.Limit.Max {
		return c.end.Err("send", c.tooLarge(len(p)))
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.end.Closed() {
		return c.end.Err("send", ipclab.ErrClosed)
	}
	if c.wbroken != nil {
		return c.end.Err("send", c.wbroken)
	}
	if _, err := c.socket(c.end.Wdl.Get); err != nil {
		return c.end.Err("send", c.mapErr(err))
	}
	if c.end.Wdl.Passed() {
		// writeWait tries before it looks at the deadline; one already
		// passed sends nothing.
		return c.end.Err("send", ipclab.ErrTimeout)
	}
	var hdr []byte
	var n int
	var err error
	if c.cfg.Kind == Stream {
		hdr = framing.PutHeader(c.sendHdr[:], len(p), c.cfg.PadFrames && framing.PadHeader(p))
		n, err = c.writev(hdr, p)
	} else {
		hdr = c.packetTrailer(len(p))
		n, err = c.writev(p, hdr) // the kind goes last (packetHeader)
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.EMSGSIZE) {
		return c.end.Err("send", fmt.Errorf("%w (the kernel refused it: %v)", c.tooLarge(len(p)), err))
	}
	if total := len(hdr) + len(p); n > 0 && n < total {
		c.wbroken = fmt.Errorf("sockconn: the stream is broken: a write stopped after %d of %d bytes of a frame (%v)", n, total, err)
	}
	return c.end.Err("send", c.mapErr(err))
}

// packetTrailer is what follows a data packet's n bytes: the kind byte,
// or the long trailer where the kind alone would leave the packet's pages
// 4K-aliased and the longer packet is no longer than the limit allows a
// packet (Max+1: unixsock's SO_SNDBUF-32, past which the kernel refuses
// it). The receiver's room takes a long trailer after its own largest
// message (packetRoom).
func (c *Conn) packetTrailer(n int) []byte {
	if nearAliasEdge(n+packetHeader) && n+longTrailer <= c.cfg.Limit.Max+packetHeader {
		t := c.sendHdr[:longTrailer]
		clear(t)
		t[longTrailer-1] = pktData | kindLong
		return t
	}
	t := c.sendHdr[:packetHeader]
	t[0] = pktData
	return t
}

// nearAliasEdge reports whether a packet of n bytes, over a page, would
// put its pages' bytes 1-31 bytes past a page boundary in a page-aligned
// buffer, or 1-31 short of one: the offsets where a copy between the
// kernel's pages and the buffer runs slow. (The kernel uses pages only
// over about 16 KiB, a kernel-build constant; below, the long trailer
// costs 63 bytes of copying and nothing else.)
func nearAliasEdge(n int) bool {
	r := n % framing.AliasSpan
	return n > framing.AliasSpan && (framing.SlowOffset(r) || framing.SlowOffset(-r))
}

// writev writes a and b with sendmsg(2), waiting in ppoll while the
// socket is full, until the write deadline or Close. It uses the
// descriptor number directly: sendMu is held, and Close takes it before it
// closes the socket (after waking this wait). A stream may take the bytes
// in several calls; a packet goes whole or not at all.
func (c *Conn) writev(a, b []byte) (int, error) {
	c.wa, c.wb, c.wdone, c.werr = a, b, 0, nil
	err := c.writeWait(c.fd)
	n := c.wdone
	c.wa, c.wb, c.werr = nil, nil, nil
	return n, err
}

// writeWait is writev's body: it writes, and while the socket is full
// waits for room, or for a reason to stop.
func (c *Conn) writeWait(fd int) error {
	for {
		if c.writeFD(fd) {
			return c.werr
		}
		if err := c.waitCheck(&c.end.Wdl); err != nil {
			return err
		}
		if err := c.calls().WaitReady(fd, unix.POLLOUT, c.sendWakeFD, c.end.Wdl.Get()); err != nil {
			return err
		}
	}
}

// writeFD is writeWait's attempt: false means the socket is full.
func (c *Conn) writeFD(fd int) bool {
	total := len(c.wa) + len(c.wb)
	for c.wdone < total || total == 0 {
		a, b := c.wa, c.wb
		if d := c.wdone; d < len(a) {
			a = a[d:]
		} else {
			a, b = nil, b[d-len(a):]
		}
		if c.cfg.Kind == Datagram && !c.early.sawEmptyLately() {
			c.takeQueued(fd) // right before the send that could destroy them (early.go)
		}
		n, err := c.sendmsg(fd, a, b)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false
		case err != nil:
			c.werr = os.NewSyscallError("sendmsg", err)
			return true
		}
		c.wdone += n
		if c.cfg.Kind != Stream || total == 0 {
			c.wdone = total
			return true
		}
	}
	return true
}

func (c *Conn) sendmsg(fd int, a, b []byte) (int, error) {
	iov := [2]unix.Iovec{iovec(a), iovec(b)}
	msg := unix.Msghdr{Iov: &iov[0]}
	msg.SetIovlen(2)
	n, err := c.calls().Sendmsg(fd, &msg, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	return n, err
}

// sayGoodbye runs in Close before the socket is closed: a datagram end
// lingers until the peer has taken what it was sent (see linger), and
// then sends the close marker (sendCloseMarker); a TCP or Unix
// stream/seqpacket end reads what it has not, so that its close is not a
// reset that destroys what the peer has yet to read (Config.Drain).
func (c *Conn) sayGoodbye() {
	rc := c.rc
	switch {
	case c.cfg.Kind == Datagram:
		rc.Control(func(fd uintptr) { c.linger(int(fd)) })
	case c.cfg.Drain:
		rc.Control(func(fd uintptr) {
			var b [4096]byte
			for {
				if n, err := unix.Read(int(fd), b[:]); n <= 0 && err != unix.EINTR {
					return
				}
			}
		})
	}
}

// sendCloseMarker sends a datagram end's close marker, since the peer has
// no end of file to see (once the peer has taken everything, there is
// room for it; if the peer gave up reading, it may not get it, and its
// next send or a watch of its process tells it instead). Close runs it
// after the linger, with sendMu held: no data may follow it.
func (c *Conn) sendCloseMarker() {
	c.rc.Control(func(fd uintptr) {
		marker := []byte{pktClose}
		for {
			if _, err := c.sendmsg(int(fd), marker, nil); err != unix.EINTR {
				return
			}
		}
	})
}
