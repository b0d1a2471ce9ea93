package sockconn

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// AcceptFunc takes the next connection from the creator's socket lfd,
// which is readable. ErrNotThisOne means it refused a would-be peer
// (another user's process) and the wait goes on.
type AcceptFunc func(lfd int) (Peer, error)

// Peer is what an AcceptFunc accepted.
type Peer struct {
	// FD is the connected socket: lfd itself for a datagram socket,
	// which connects to the peer it heard from.
	FD int
	// Name is a datagram peer's address as recvmsg reports it (see
	// Config.PeerName).
	Name []byte
	// PID, if > 0, is the peer's process, watched as by WatchPeer.
	PID int
}

// ErrNotThisOne is an AcceptFunc's answer for a connection it refused.
var ErrNotThisOne = errors.New("sockconn: not this peer")

// Listen returns the creator's end over lfd, a listening (or bound
// datagram) socket this Conn now owns: calls wait for the first peer
// accept takes; the listening socket is closed (and Config.OnConnect
// runs) once there is one, so there is never a second.
func Listen(lfd int, cfg Config, accept AcceptFunc) (*Conn, error) {
	c, err := newConn(cfg)
	if err != nil {
		unix.Close(lfd)
		return nil, err
	}
	c.lfd = lfd
	c.listenSndbuf, _ = unix.GetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err := unix.SetNonblock(lfd, true); err != nil {
		c.Close()
		return nil, os.NewSyscallError("fcntl", err)
	}
	if c.stopFD, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		c.stopFD = -1
		c.Close()
		return nil, os.NewSyscallError("eventfd", err)
	}
	c.acceptDone = make(chan struct{})
	go c.acceptLoop(accept)
	return c, nil
}

// acceptLoop waits, on its own thread, for the peer. Close stops it
// (stopFD) and waits for it before closing lfd.
func (c *Conn) acceptLoop(accept AcceptFunc) {
	defer close(c.acceptDone)
	for {
		fds := [2]unix.PollFd{{Fd: int32(c.lfd), Events: unix.POLLIN}, {Fd: int32(c.stopFD), Events: unix.POLLIN}}
		if _, err := unix.Ppoll(fds[:], nil, nil); err != nil && err != unix.EINTR {
			c.failConnect(os.NewSyscallError("ppoll", err))
			return
		}
		if fds[1].Revents != 0 {
			return
		}
		if fds[0].Revents == 0 {
			continue
		}
		peer, err := accept(c.lfd)
		switch {
		case errors.Is(err, ErrNotThisOne), errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR),
			errors.Is(err, unix.ECONNABORTED):
			continue
		case err != nil:
			c.failConnect(err)
			return
		}
		c.cfg.PeerName = peer.Name // before install: readers start after it
		if peer.FD != c.lfd {
			unix.Close(c.lfd)
		}
		c.lfd = -1 // Close reads it only after this goroutine is done
		if c.cfg.OnConnect != nil {
			c.cfg.OnConnect() // before the calls waiting for the peer go on
		}
		if c.install(peer.FD) != nil {
			return
		}
		if peer.PID > 0 {
			c.WatchPeer(peer.PID)
		}
		return
	}
}

func (c *Conn) failConnect(err error) {
	c.mu.Lock()
	c.doneConnecting(err)
	c.mu.Unlock()
}
