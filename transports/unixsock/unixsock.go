// Package unixsock is the ipclab transport over Unix domain sockets, in
// three kinds: unixsock-stream (a byte stream, so each message is framed
// by a 4-byte length, as on a pipe), unixsock-seqpacket and unixsock-dgram
// (the kernel keeps message boundaries; each message is one packet with a
// 1-byte kind after it that tells data from the datagram close marker,
// padded to 64 bytes where the byte alone would leave a large packet's
// pages 4K-aliased: internal/sockconn's longTrailer).
//
// Addresses (see Addr): "unixsock-stream:@NAME" is an abstract name (no
// file; the default of a bare Create, with a fresh name), any other
// "unixsock-stream:PATH" a socket file, "unixsock-stream:fd=3" an end of
// a socketpair a child inherited (CreatePair), like an anonymous pipe.
//
// The creator binds (and, for stream and seqpacket, listens); the opener
// connects. Exactly one opener: once it is in, the creator stops
// listening and removes the socket file, so nothing is left behind
// whatever happens next; Close removes it too if no opener came, and only
// if the path still holds the socket this end bound (same device and
// inode). A datagram opener binds an address of its own derived from the
// creator's (NAME.PID.RANDOM) and says hello from it; the creator then
// connects to it, after which the kernel refuses datagrams from anyone
// else (and earlier ones from others are dropped).
//
// Ownership: a socket file is made 0600 (fchmod before bind, which is the
// mode bind gives the file), so only our user can connect to it. An
// abstract name has no permissions, so the creator checks every would-be
// opener's credentials (SO_PEERCRED; for a datagram, the hello's
// SCM_CREDENTIALS) and refuses another user's; a stream or seqpacket
// opener checks the listener's the same way. What is not verified: a
// datagram opener cannot check who bound an abstract name (the kernel
// keeps no peer credentials for a datagram connect); it sends only to
// that one socket.
//
// A peer's Close or death: on stream and seqpacket, end of file (or
// ECONNRESET) after what it sent, so ErrPeerGone with no help. A datagram
// socket has no end of file: Close sends a close marker, and a dead peer
// is seen by a pidfd watch (WatchPeer; a path creator starts it itself
// from the hello's credentials). The pair is connected, and the kernel
// empties a datagram socket's receive queue when it sends to its
// connected peer after that peer closed, so messages queued at a Close
// would be lost as soon as the other end replied. Hence a datagram Close
// first waits until the peer has taken every message it was sent, or has
// taken none for a second; and a Send that has not seen its own queue
// empty for half a second first takes what is queued into memory, for
// Recv. What is not covered: messages in flight from a process that dies
// (killed, or exiting without Close) are lost if the survivor sends
// before reading them.
//
// Limits: a stream message is bounded by Options.MaxMessage (1 MiB by
// default). A seqpacket or datagram message must fit the sender's socket
// buffer: SO_SNDBUF - 32 bytes of the kernel's, less the 1-byte kind (the
// long trailer is used only where it fits)
// (net.core.wmem_default = 212992 gives 212959); Options.SendBuffer raises
// it up to net.core.wmem_max. A larger message is refused before sending,
// never cut; one arriving larger than this end allows (MSG_TRUNC) is
// reported and discarded.
package unixsock

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/sockconn"
	"golang.org/x/sys/unix"
)

const (
	// DefaultMaxMessage is a stream's largest message unless Options say otherwise.
	DefaultMaxMessage = 1 << 20
	// packetOverhead is what the kernel keeps back from SO_SNDBUF for a
	// datagram (unix_dgram_sendmsg: len > sk_sndbuf - 32 is EMSGSIZE),
	// plus the packet's kind byte.
	packetOverhead = 32 + 1
)

// Options configure an end.
type Options struct {
	// MaxMessage is a stream's largest message; 0 means DefaultMaxMessage.
	// Both ends should agree. Packet kinds ignore it: their limit is the
	// socket buffer's.
	MaxMessage int
	// SendBuffer, if > 0, sets SO_SNDBUF (bytes) on a seqpacket or
	// datagram socket, which bounds its messages. The kernel caps it at
	// net.core.wmem_max.
	SendBuffer int
	// Register records a created socket file in the registry, so that
	// `ipclab ls` and `ipclab clean` find it; abstract names and
	// socketpairs leave nothing to clean.
	Register bool
}

func sockType(k sockconn.Kind) int {
	switch k {
	case sockconn.SeqPacket:
		return unix.SOCK_SEQPACKET
	case sockconn.Datagram:
		return unix.SOCK_DGRAM
	}
	return unix.SOCK_STREAM
}

// NewName is a fresh abstract name: ipclab-PID-RANDOM. Abstract names
// belong to the network namespace, which processes in different IPC
// namespaces may share, hence the random part.
func NewName() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("ipclab-%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
}

// Create makes a channel of kind at a fresh abstract name.
func Create(kind sockconn.Kind, opt Options) (*sockconn.Conn, error) {
	return CreateAt(Addr{Kind: kind, Abstract: NewName(), FD: -1}, opt)
}

// CreatePair makes a socketpair and returns this process's end and the
// file to hand to a child as its descriptor 3 (the first of os/exec's
// ExtraFiles), matching the address unixsock-KIND:fd=3. Close the
// returned file once the child has started.
func CreatePair(kind sockconn.Kind, opt Options) (*sockconn.Conn, []*os.File, error) {
	a := Addr{Kind: kind, FD: 3}
	fds, err := unix.Socketpair(unix.AF_UNIX, sockType(kind)|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, chanend.OpError("create", a, os.NewSyscallError("socketpair", err))
	}
	cfg, err := config(a, fds[0], opt)
	if err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, chanend.OpError("create", a, err)
	}
	c, err := sockconn.New(fds[0], cfg)
	if err != nil {
		unix.Close(fds[1])
		return nil, nil, chanend.OpError("create", a, err)
	}
	return c, []*os.File{os.NewFile(uintptr(fds[1]), "socketpair")}, nil
}

// config is the Conn configuration of an end at a over socket fd.
func config(a Addr, fd int, opt Options) (sockconn.Config, error) {
	// A Unix stream or seqpacket socket closed with data unread makes
	// its peer's next receive fail with ECONNRESET, before the messages
	// still queued for it: drain first, as TCP does.
	cfg := sockconn.Config{Kind: a.Kind, Addr: a, Drain: a.Kind != sockconn.Datagram}
	if a.Kind == sockconn.Stream {
		max := opt.MaxMessage
		switch {
		case max == 0:
			max = DefaultMaxMessage
		case max < 0 || max > sockconn.MaxFrame:
			return cfg, fmt.Errorf("unixsock: MaxMessage %d: must be 1..%d", max, sockconn.MaxFrame)
		}
		cfg.Limit = sockconn.Limit{Max: max, Name: "unixsock Options.MaxMessage",
			Raise: fmt.Sprintf("create both ends with a larger unixsock.Options.MaxMessage, up to %d", sockconn.MaxFrame)}
		return cfg, nil
	}
	if opt.SendBuffer > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, opt.SendBuffer); err != nil {
			return cfg, os.NewSyscallError("setsockopt SO_SNDBUF", err)
		}
	}
	sndbuf, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		return cfg, os.NewSyscallError("getsockopt SO_SNDBUF", err)
	}
	wmax, _ := kernlimits.Int("net.core.wmem_max")
	cfg.Limit = sockconn.Limit{Max: sndbuf - packetOverhead,
		Name: fmt.Sprintf("%s SO_SNDBUF-%d (SO_SNDBUF %d)", a.Transport(), packetOverhead, sndbuf),
		Raise: fmt.Sprintf("create both ends with unixsock.Options.SendBuffer up to net.core.wmem_max=%d (%s)",
			wmax, kernlimits.Raise("net.core.wmem_max"))}
	return cfg, nil
}

// CreateAt makes the channel a names: binds a (and listens, for stream
// and seqpacket). Calls wait for the opener.
func CreateAt(a Addr, opt Options) (*sockconn.Conn, error) {
	if a.FD >= 0 {
		return nil, &ipclab.AddrError{Addr: a.String(), Reason: "a socketpair is created bare and inherited (CreatePair)"}
	}
	if a.Kind == sockconn.Datagram && len(a.Abstract)+len(a.Path)+len(openerSuffix()) > maxPath {
		return nil, &ipclab.AddrError{Addr: a.String(), Reason: fmt.Sprintf("a datagram opener binds this address plus %d bytes, and a Unix socket address holds at most %d", len(openerSuffix()), maxPath)}
	}
	fd, err := unix.Socket(unix.AF_UNIX, sockType(a.Kind)|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, chanend.OpError("create", a, os.NewSyscallError("socket", err))
	}
	fail := func(err error) (*sockconn.Conn, error) {
		unix.Close(fd)
		return nil, chanend.OpError("create", a, err)
	}
	cfg, err := config(a, fd, opt)
	if err != nil {
		return fail(err)
	}
	if a.Kind == sockconn.Datagram {
		// The opener's hello carries its credentials (SCM_CREDENTIALS).
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
			return fail(os.NewSyscallError("setsockopt SO_PASSCRED", err))
		}
	}
	file, err := bind(fd, a)
	if err != nil {
		return fail(err)
	}
	if a.Kind != sockconn.Datagram {
		if err := unix.Listen(fd, 1); err != nil {
			file.remove()
			return fail(os.NewSyscallError("listen", err))
		}
	}
	if opt.Register && file != nil {
		file.register()
	}
	cfg.OnConnect = file.remove // the opener is in: the name has done its job
	cfg.OnClose = file.remove
	accept := acceptStream
	if a.Kind == sockconn.Datagram {
		accept = acceptDgram
	}
	c, err := sockconn.Listen(fd, cfg, accept)
	if err != nil {
		file.remove()
		return nil, chanend.OpError("create", a, err)
	}
	return c, nil
}

// acceptStream takes a connection from the listener, if it is our user's.
// The accepted socket is a new one with the default send buffer: it gets
// the listener's, which its message limit was computed from.
func acceptStream(lfd int) (sockconn.Peer, error) {
	fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return sockconn.Peer{}, err
	}
	if err := sameUser(fd); err != nil {
		unix.Close(fd)
		return sockconn.Peer{}, sockconn.ErrNotThisOne
	}
	if v, err := unix.GetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_SNDBUF); err == nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, v/2) // the kernel doubles what it is given
	}
	return sockconn.Peer{FD: fd}, nil
}

// sameUser checks that the process at the other end of fd (as it was
// when it connected or listened) runs as our user.
func sameUser(fd int) error {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return os.NewSyscallError("getsockopt SO_PEERCRED", err)
	}
	if me := uint32(os.Geteuid()); cred.Uid != me {
		return fmt.Errorf("%w: the socket's other end is uid %d (pid %d), not ours (%d)", fs.ErrPermission, cred.Uid, cred.Pid, me)
	}
	return nil
}

// Open opens the other end from its address: connects to a name or path,
// or takes an inherited socketpair end.
func Open(addr string, opt Options) (*sockconn.Conn, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if a.FD >= 0 {
		return openInherited(a, opt)
	}
	if a.Kind == sockconn.Datagram {
		return openDgram(a, opt)
	}
	fd, err := unix.Socket(unix.AF_UNIX, sockType(a.Kind)|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, chanend.OpError("open", a, os.NewSyscallError("socket", err))
	}
	fail := func(err error) (*sockconn.Conn, error) {
		unix.Close(fd)
		return nil, chanend.OpError("open", a, err)
	}
	cfg, err := config(a, fd, opt)
	if err != nil {
		return fail(err)
	}
	if err := connect(fd, a); err != nil {
		return fail(err)
	}
	if err := sameUser(fd); err != nil {
		return fail(err)
	}
	return sockconn.New(fd, cfg)
}

// connect connects fd to a, explaining the errors that mean nobody is
// there (as fs.ErrNotExist) or somebody else is.
func connect(fd int, a Addr) error {
	err := unix.Connect(fd, &unix.SockaddrUnix{Name: a.sockaddr()})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("%w: no socket at %s (never created, or its creator is gone or already has its opener)", err, a.Path)
	case errors.Is(err, unix.ECONNREFUSED):
		return fmt.Errorf("%w: nobody listens at %s (never created, its creator is gone, or it already has its opener) (%w)", err, a, fs.ErrNotExist)
	case errors.Is(err, unix.EAGAIN):
		return fmt.Errorf("%w: %s is busy: its one opener is connecting", err, a)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w: %s already has its opener; a socket channel joins exactly two processes", err, a)
	}
	return os.NewSyscallError("connect", err)
}

// openInherited takes descriptor a.FD, which must be a Unix socket of
// a's kind.
func openInherited(a Addr, opt Options) (*sockconn.Conn, error) {
	bad := func(why string) (*sockconn.Conn, error) {
		return nil, chanend.OpError("open", a, fmt.Errorf("descriptor %d %s", a.FD, why))
	}
	var st unix.Stat_t
	if err := unix.Fstat(a.FD, &st); err != nil {
		return bad("is not open")
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return bad("is not a socket")
	}
	dom, err1 := unix.GetsockoptInt(a.FD, unix.SOL_SOCKET, unix.SO_DOMAIN)
	typ, err2 := unix.GetsockoptInt(a.FD, unix.SOL_SOCKET, unix.SO_TYPE)
	if err1 != nil || err2 != nil || dom != unix.AF_UNIX || typ != sockType(a.Kind) {
		return bad("is not a Unix socket of kind " + a.Transport())
	}
	unix.CloseOnExec(a.FD)
	cfg, err := config(a, a.FD, opt)
	if err != nil {
		return nil, chanend.OpError("open", a, err)
	}
	c, err := sockconn.New(a.FD, cfg)
	if err != nil {
		return nil, chanend.OpError("open", a, err)
	}
	return c, nil
}

// socketFile is a socket file this process bound, to remove only while
// the path still holds it; nil for an abstract name.
type socketFile struct {
	path     string
	dev, ino uint64
}

// bind binds fd to a; a path gets mode 0600 (bind gives the file the
// socket inode's mode, less the umask).
func bind(fd int, a Addr) (*socketFile, error) {
	if a.Path != "" {
		if err := unix.Fchmod(fd, 0o600); err != nil {
			return nil, os.NewSyscallError("fchmod", err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: a.sockaddr()}); err != nil {
		if errors.Is(err, unix.EADDRINUSE) {
			what, remove := "a socket at "+a.sockaddr(), "rm "+a.Path
			if a.Path == "" {
				what, remove = "the abstract name "+a.sockaddr(), "the process that holds it (ss -xlp)"
			}
			return nil, chanend.Exists(err, what, remove, "name")
		}
		return nil, os.NewSyscallError("bind", err)
	}
	if a.Path == "" {
		return nil, nil
	}
	var st unix.Stat_t
	if err := unix.Lstat(a.Path, &st); err != nil {
		return nil, err
	}
	return &socketFile{path: absPath(a.Path), dev: st.Dev, ino: st.Ino}, nil
}

func (s *socketFile) register() {
	registry.Add(registry.Entry{Kind: ipcobj.UnixSocket, Name: s.path})
}

// remove unlinks the socket file if it is still the one bound, and drops
// its registry entry. Idempotent; nil does nothing.
func (s *socketFile) remove() {
	if s == nil {
		return
	}
	var st unix.Stat_t
	if unix.Lstat(s.path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK && st.Dev == s.dev && st.Ino == s.ino {
		os.Remove(s.path)
	}
	registry.Forget(registry.Entry{Kind: ipcobj.UnixSocket, Name: s.path})
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
