// Package tcp is the ipclab transport over TCP on the loopback interface
// ("tcp:127.0.0.1:PORT"), for comparison with the local mechanisms: the
// same framed byte stream as unixsock-stream (package sockconn), with
// TCP_NODELAY, since a message channel must not wait for Nagle. A large
// message from a page-aligned buffer goes with a padded 64-byte header
// (internal/framing's PadHeader): after a 4-byte one the kernel's copy of
// it ran 3x slower (4K aliasing in its page fragment).
//
// Loopback only: an address outside 127.0.0.0/8 and ::1 is refused. The
// creator listens (port 0: the kernel picks one, and Addr carries it) and
// accepts exactly one opener, then stops listening. A peer's Close is end
// of file after what it sent; its death the same (the kernel closes its
// sockets), or ECONNRESET; both are ErrPeerGone.
//
// Both ends fix their send buffer (SO_SNDBUF) at net.core.wmem_default,
// turning TCP's autotuning off: a link layer (package link) sizes its
// window from the buffer (ipclab.Buffered), and both ends must find the
// same one, now and later.
//
// Who may connect: TCP has no peer credentials. Both ends look up the
// other's socket in /proc/net/tcp (tcp6), which gives the uid that owns
// it, and refuse one of another user: the creator drops such a
// connection and goes on waiting, the opener fails. Any local process can
// still connect to the port before the check (and be dropped), and a
// process of our own user is trusted, as for every other transport.
package tcp

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/internal/sockconn"
	"golang.org/x/sys/unix"
)

// DefaultMaxMessage is the largest message unless Options say otherwise.
const DefaultMaxMessage = 1 << 20

// Options configure an end.
type Options struct {
	// MaxMessage is the largest message; 0 means DefaultMaxMessage. Both
	// ends should agree.
	MaxMessage int
}

func config(a Addr, opt Options) (sockconn.Config, error) {
	max := opt.MaxMessage
	switch {
	case max == 0:
		max = DefaultMaxMessage
	case max < 0 || max > sockconn.MaxFrame:
		return sockconn.Config{}, fmt.Errorf("tcp: MaxMessage %d: must be 1..%d", max, sockconn.MaxFrame)
	}
	return sockconn.Config{Kind: sockconn.Stream, Addr: a, Drain: true, PadFrames: true, Limit: sockconn.Limit{Max: max,
		Name:  "tcp Options.MaxMessage",
		Raise: fmt.Sprintf("create both ends with a larger tcp.Options.MaxMessage, up to %d", sockconn.MaxFrame)}}, nil
}

// Create listens on 127.0.0.1 at a port the kernel picks.
func Create(opt Options) (*sockconn.Conn, error) {
	return CreateAt(Addr{netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0)}, opt)
}

// CreateAt listens at a; calls wait for the opener.
func CreateAt(a Addr, opt Options) (*sockconn.Conn, error) {
	if !a.AddrPort.Addr().IsLoopback() {
		return nil, &ipclab.AddrError{Addr: a.String(), Reason: "not a loopback address: the tcp transport is loopback only"}
	}
	cfg, err := config(a, opt)
	if err != nil {
		return nil, chanend.OpError("create", a, err)
	}
	fd, err := unix.Socket(family(a), unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, chanend.OpError("create", a, os.NewSyscallError("socket", err))
	}
	fail := func(err error) (*sockconn.Conn, error) {
		unix.Close(fd)
		return nil, chanend.OpError("create", a, err)
	}
	// A fixed port must be reusable while an earlier channel's connection
	// on it is in TIME_WAIT; two listeners on one port are still refused.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := fixSendBuffer(fd); err != nil { // the accepted socket inherits it
		return fail(err)
	}
	if err := unix.Bind(fd, sockaddr(a.AddrPort)); err != nil {
		if errors.Is(err, unix.EADDRINUSE) {
			return fail(fmt.Errorf("%w: port %d is taken (pick another, or port 0 for a free one)", err, a.AddrPort.Port()))
		}
		return fail(os.NewSyscallError("bind", err))
	}
	if err := unix.Listen(fd, 1); err != nil {
		return fail(os.NewSyscallError("listen", err))
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail(os.NewSyscallError("getsockname", err))
	}
	a = Addr{fromSockaddr(sa)} // the port the kernel chose
	cfg.Addr = a
	c, err := sockconn.Listen(fd, cfg, accept)
	if err != nil {
		return nil, chanend.OpError("create", a, err)
	}
	return c, nil
}

// accept takes a connection whose other end is our user's.
func accept(lfd int) (sockconn.Peer, error) {
	fd, sa, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return sockconn.Peer{}, err
	}
	local, err := unix.Getsockname(fd)
	if err == nil {
		// The peer's socket: local is its address, remote is ours.
		err = sameUser(fromSockaddr(sa), fromSockaddr(local))
	}
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if err != nil {
		unix.Close(fd)
		return sockconn.Peer{}, sockconn.ErrNotThisOne
	}
	return sockconn.Peer{FD: fd}, nil
}

// Open connects to the creator at addr.
func Open(addr string, opt Options) (*sockconn.Conn, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if a.AddrPort.Port() == 0 {
		return nil, &ipclab.AddrError{Addr: addr, Reason: "port 0 is for creating; open the port the creator's address names"}
	}
	cfg, err := config(a, opt)
	if err != nil {
		return nil, chanend.OpError("open", a, err)
	}
	// Blocking until connected (on loopback, at once), then non-blocking.
	fd, err := unix.Socket(family(a), unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, chanend.OpError("open", a, os.NewSyscallError("socket", err))
	}
	fail := func(err error) (*sockconn.Conn, error) {
		unix.Close(fd)
		return nil, chanend.OpError("open", a, err)
	}
	if err := fixSendBuffer(fd); err != nil {
		return fail(err)
	}
	for {
		err = unix.Connect(fd, sockaddr(a.AddrPort))
		if err != unix.EINTR {
			break
		}
	}
	if errors.Is(err, unix.ECONNREFUSED) {
		return fail(fmt.Errorf("%w: nobody listens on %s (never created, its creator is gone, or it already has its opener) (%w)", err, a.AddrPort, fs.ErrNotExist))
	}
	if err != nil {
		return fail(os.NewSyscallError("connect", err))
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return fail(os.NewSyscallError("setsockopt TCP_NODELAY", err))
	}
	local, err := unix.Getsockname(fd)
	if err != nil {
		return fail(os.NewSyscallError("getsockname", err))
	}
	// The creator's socket for this connection: local is the listening
	// address, remote is ours.
	if err := sameUser(a.AddrPort, fromSockaddr(local)); err != nil {
		return fail(err)
	}
	return sockconn.New(fd, cfg)
}

func family(a Addr) int {
	if a.AddrPort.Addr().Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

func fromSockaddr(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// fixSendBuffer sets SO_SNDBUF to net.core.wmem_default (the kernel
// doubles it), so that both ends have the same buffer for good.
func fixSendBuffer(fd int) error {
	v, err := kernlimits.Int("net.core.wmem_default")
	if err != nil || v <= 0 {
		v = 212992 // Linux's default
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, v); err != nil {
		return os.NewSyscallError("setsockopt SO_SNDBUF", err)
	}
	return nil
}
