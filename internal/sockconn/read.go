package sockconn

import (
	"errors"
	"os"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/deadline"
	"golang.org/x/sys/unix"
)

var errEOF = errors.New("sockconn: end of file")

// read does one read of the socket into p (a stream's bytes, or a packet
// as recvPacket sets up), waiting in ppoll while there is nothing. It uses
// the descriptor number directly, without RawConn.Control's reference:
// callers hold recvMu, which Close takes before it closes the socket
// (after waking this read). Callers have the connected socket.
func (c *Conn) read(p []byte) (int, error) {
	c.readBuf = p
	n, err := c.readFD(c.fd, p)
	c.readBuf = nil
	return n, err
}

func (c *Conn) readFD(fd int, p []byte) (int, error) {
	calls := c.calls()
	for {
		var n int
		var err error
		if c.cfg.Kind == Stream {
			if len(p) == 0 {
				return 0, nil
			}
			n, err = calls.Read(fd, p)
			if err == nil && n == 0 {
				return 0, errEOF
			}
		} else {
			n, err = c.recvmsg(calls, fd)
		}
		switch {
		case err == nil:
			return n, nil
		case err == unix.EINTR:
			continue
		case err == unix.ECONNRESET && c.cfg.Kind == SeqPacket:
			// The peer closed with messages of ours unread. The kernel
			// says so once, and before the messages it sent us that are
			// still queued here (__skb_try_recv_datagram checks sk_err
			// first and clears it): read on, they and then end of file
			// follow.
			continue
		case err != unix.EAGAIN:
			return 0, os.NewSyscallError("recv", err)
		}
		if err := c.waitCheck(&c.end.Rdl); err != nil {
			return 0, err
		}
		if err := calls.WaitReady(fd, unix.POLLIN, c.wakeFD, c.end.Rdl.Get()); err != nil {
			return 0, err
		}
	}
}

// waitCheck says why a Recv that found nothing, or a Send that found no
// room, must not wait: closed, the peer known gone (a datagram peer's
// death, seen by the watch), or its direction's deadline dl passed.
func (c *Conn) waitCheck(dl *deadline.Deadline) error {
	switch {
	case c.end.Closed():
		return ipclab.ErrClosed
	case c.end.PeerGone():
		return ipclab.ErrPeerGone
	case dl.Passed():
		return ipclab.ErrTimeout
	}
	return nil
}

// Recv receives one message.
func (c *Conn) Recv(p []byte) (int, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.end.Closed() {
		return 0, c.end.Err("recv", ipclab.ErrClosed)
	}
	if _, err := c.socket(c.end.Rdl.Get); err != nil {
		return 0, c.end.Err("recv", c.mapErr(err))
	}
	var n int
	var err error
	if c.cfg.Kind == Stream {
		n, err = c.recvFrame(p)
	} else {
		n, err = c.recvPacket(p)
	}
	if err != nil {
		return 0, c.end.Err("recv", c.mapErr(err))
	}
	return n, nil
}
