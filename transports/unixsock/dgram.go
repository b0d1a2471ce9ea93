// The datagram hand-shake: the opener binds an address of its own and
// says hello from it; the creator connects to the sender of the first
// hello from our user, and from then on hears nobody else.

package unixsock

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/sockconn"
	"golang.org/x/sys/unix"
)

// openerSuffix is what a datagram opener appends to the creator's address
// for its own: .PID.RANDOM.
func openerSuffix() string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf(".%d.%s", os.Getpid(), hex.EncodeToString(b[:]))
}

// acceptDgram reads one datagram from the creator's bound socket: a
// hello from a process of our user connects the socket to its sender.
// Anything else is dropped.
func acceptDgram(fd int) (sockconn.Peer, error) {
	var hdr [1]byte
	var name unix.RawSockaddrUnix
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	iov := unix.Iovec{Base: &hdr[0]}
	iov.SetLen(1)
	msg := unix.Msghdr{Name: (*byte)(unsafe.Pointer(&name)), Namelen: unix.SizeofSockaddrUnix, Iov: &iov,
		Control: &oob[0]}
	msg.SetIovlen(1)
	msg.SetControllen(len(oob))
	n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_DONTWAIT|unix.MSG_TRUNC)
	if e != 0 {
		return sockconn.Peer{}, e
	}
	if n != 1 || hdr[0] != sockconn.HelloPacket || msg.Namelen <= 2 {
		return sockconn.Peer{}, sockconn.ErrNotThisOne
	}
	cred, ok := credentials(oob[:msg.Controllen])
	if !ok || cred.Uid != uint32(os.Geteuid()) {
		return sockconn.Peer{}, sockconn.ErrNotThisOne
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&name.Path[0])), int(msg.Namelen)-2)
	from := string(raw)
	if from[0] == 0 {
		from = "@" + from[1:]
	} else {
		from = strings.TrimRight(from, "\x00")
	}
	peer := sockconn.Peer{FD: fd, Name: append([]byte(nil), raw...), PID: int(cred.Pid)}
	err := unix.Connect(fd, &unix.SockaddrUnix{Name: from})
	// The pair is joined by the sockets now, not by the names: an opener's
	// socket file is not needed any more, and must not outlive its process.
	removeOpenerFile(from, cred.Uid)
	switch {
	case err == nil:
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 0)
	case err == unix.ECONNREFUSED || err == unix.ENOENT:
		// The opener has closed already: still this channel's peer, whose
		// messages (from its address: Peer.Name filters) and close marker
		// are queued here. Sends fail (ENOTCONN: it is gone).
	default:
		return sockconn.Peer{}, sockconn.ErrNotThisOne
	}
	return peer, nil
}

// removeOpenerFile removes a datagram opener's socket file, which must be
// a socket of the user whose credentials its hello carried.
func removeOpenerFile(path string, uid uint32) {
	if strings.HasPrefix(path, "@") {
		return
	}
	var st unix.Stat_t
	if unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK && st.Uid == uid {
		os.Remove(path)
	}
}

func credentials(oob []byte) (*unix.Ucred, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, false
	}
	for _, m := range msgs {
		if cred, err := unix.ParseUnixCredentials(&m); err == nil {
			return cred, true
		}
	}
	return nil, false
}

// openDgram binds the opener's own address, connects to the creator's and
// says hello.
func openDgram(a Addr, opt Options) (*sockconn.Conn, error) {
	me := a
	if a.Abstract != "" {
		me.Abstract += openerSuffix()
	} else {
		me.Path += openerSuffix()
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, chanend.OpError("open", a, os.NewSyscallError("socket", err))
	}
	fail := func(file *socketFile, err error) (*sockconn.Conn, error) {
		unix.Close(fd)
		file.remove()
		return nil, chanend.OpError("open", a, err)
	}
	cfg, err := config(a, fd, opt)
	if err != nil {
		return fail(nil, err)
	}
	if a.Path != "" {
		// A socket file has an owner; an abstract name has none (see the
		// package doc).
		var st unix.Stat_t
		if err := unix.Stat(a.Path, &st); err == nil && st.Uid != uint32(os.Geteuid()) {
			return fail(nil, fmt.Errorf("%s belongs to uid %d, not to us", a.Path, st.Uid))
		}
	}
	file, err := bind(fd, me)
	if err != nil {
		return fail(nil, err)
	}
	if err := connect(fd, a); err != nil {
		return fail(file, err)
	}
	hello := [1]byte{sockconn.HelloPacket}
	for deadline := time.Now().Add(time.Second); ; {
		_, err := unix.Write(fd, hello[:])
		if err == nil {
			break
		}
		if (err != unix.EAGAIN && err != unix.EINTR) || time.Now().After(deadline) {
			return fail(file, fmt.Errorf("hello to the creator: %w", err))
		}
		time.Sleep(time.Millisecond) // its queue is full of strangers' datagrams: only while opening
	}
	cfg.PeerName = a.name()
	cfg.OnClose = file.remove // if the creator has not removed it already
	return sockconn.New(fd, cfg)
}
