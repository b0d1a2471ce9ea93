// Package sysvmsg is the ipclab transport over one System V message queue
// (msgget, msgsnd, msgrcv, msgctl).
//
// Both directions share the queue; the direction is the mtype: the creator
// sends mtype 1 and receives mtype 2, the opener the reverse. Messages are
// the raw payload, with no ipclab header, so a C program that calls
// msgsnd(id, &m, len, 0) with m.mtype = 2 and msgrcv(id, &m, max, 1, 0) plays
// the opener's part.
//
// msgrcv and msgsnd have no timed form and no descriptor to poll. A blocked
// call is woken for Close, a deadline or a dead peer by a thread-directed
// signal (internal/intr), which the kernel answers with EINTR; nothing polls
// and the fast path makes one system call per message.
//
// Limits: a message is at most kernel.msgmax bytes and at most the queue's
// capacity msg_qbytes (kernel.msgmnb when the queue was created), shared by
// both directions: a full direction blocks the other one's senders too.
package sysvmsg

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/deadline"
	"github.com/ipclab/ipclab/internal/intr"
	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/internal/peerwatch"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// Message types of the two directions.
const (
	TypeToOpener  int64 = 1 // creator -> opener
	TypeToCreator int64 = 2 // opener -> creator
)

// Options configure either end.
type Options struct {
	// Mode is the permission of a created queue; 0 means 0600.
	Mode uint32
	// Reuse opens an existing queue with the same key instead of failing
	// with EEXIST (IPC_EXCL is the default).
	Reuse bool
}

// TypedConn is the extra interface of this transport: send with any mtype
// and receive by msgrcv's type selection (0: first message; > 0: first of
// that type; < 0: first of the lowest type <= -msgtyp, a priority queue).
type TypedConn interface {
	ipclab.Conn
	SendType(p []byte, mtype int64) error
	RecvType(p []byte, msgtyp int64) (n int, mtype int64, err error)
}

var (
	_ TypedConn          = (*Conn)(nil)
	_ ipclab.PeerWatcher = (*Conn)(nil)
)

// Conn is one end of a message-queue channel.
type Conn struct {
	id       int
	addr     Addr
	creator  bool
	sendType int64
	recvType int64
	max      int

	sendMu sync.Mutex
	sbuf   []byte

	recvMu      sync.Mutex
	rbuf        []byte
	pendingLen  int // > 0 or pendingType != 0: a received message kept in rbuf
	pendingType int64

	rdl, wdl  deadline.Deadline
	rw, sw    intr.Waiters
	closed    atomic.Bool
	peerGone  atomic.Bool
	peer      peerwatch.Slot
	closeOnce sync.Once
}

// Create makes a new queue and returns the creator's end. A zero key makes
// an IPC_PRIVATE queue, addressed by id.
func Create(key sysipc.Key, opt Options) (*Conn, error) {
	a := Addr{Key: key, ID: -1}
	if key == sysipc.IPCPrivate {
		a.Key = 0
	}
	return create(a, opt)
}

// CreateFtok makes a new queue whose key is ftok(path, proj), as the seeds'
// examples do.
func CreateFtok(path string, proj int, opt Options) (*Conn, error) {
	return create(Addr{ID: -1, Path: path, Proj: proj}, opt)
}

func create(a Addr, opt Options) (*Conn, error) {
	key, err := a.key()
	if err != nil {
		return nil, opErr("create", a, err)
	}
	mode := opt.Mode
	if mode == 0 {
		mode = 0o600
	}
	flags := unix.IPC_CREAT | int(mode&0o777)
	if !opt.Reuse {
		flags |= unix.IPC_EXCL
	}
	id, err := sysipc.Msgget(key, flags)
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			err = fmt.Errorf("%w: a message queue with key %s exists (remove it with ipcrm -Q %s, or pick another key)", err, key, key)
		} else if errors.Is(err, unix.ENOSPC) {
			err = fmt.Errorf("%w: kernel.msgmni queues exist already (%s)", err, kernlimits.Raise("kernel.msgmni"))
		}
		return nil, opErr("create", a, err)
	}
	if key == sysipc.IPCPrivate {
		a = Addr{ID: id}
	}
	registry.Add(registry.Entry{Kind: ipcobj.SysVMsg, ID: id, Key: int32(key)})
	c, err := newConn(id, a, true)
	if err != nil {
		sysipc.MsgctlRemove(id)
		registry.Forget(registry.Entry{Kind: ipcobj.SysVMsg, ID: id})
		return nil, err
	}
	return c, nil
}

// Open opens the other end of a queue from its address.
func Open(addr string, opt Options) (*Conn, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	id := a.ID
	if id < 0 {
		key, err := a.key()
		if err != nil {
			return nil, opErr("open", a, err)
		}
		if id, err = sysipc.Msgget(key, 0); err != nil {
			if errors.Is(err, unix.ENOENT) {
				err = fmt.Errorf("%w: no message queue has key %s%s", err, key, otherKinds(key))
			}
			return nil, opErr("open", a, err)
		}
	} else if _, err := sysipc.MsgctlStat(id); err != nil {
		if errors.Is(err, unix.EINVAL) {
			err = fmt.Errorf("%w: no message queue has id %d", err, id)
		}
		return nil, opErr("open", a, err)
	}
	return newConn(id, a, false)
}

// otherKinds says which other System V objects use key, since keys of
// queues, semaphores and segments are separate name spaces and a user who
// mixes them up deserves to be told.
func otherKinds(key sysipc.Key) string {
	s := ""
	for _, k := range []ipcobj.Kind{ipcobj.SysVSem, ipcobj.SysVShm} {
		objs, _ := ipcobj.SysV(k)
		for _, o := range objs {
			if o.Key == int32(key) {
				s += fmt.Sprintf(" (a %s with id %d has that key)", k, o.ID)
			}
		}
	}
	return s
}

func newConn(id int, a Addr, creator bool) (*Conn, error) {
	ds, err := sysipc.MsgctlStat(id)
	if err != nil {
		return nil, opErr("open", a, err)
	}
	msgmax, err := kernlimits.Int("kernel.msgmax")
	if err != nil {
		return nil, opErr("open", a, err)
	}
	c := &Conn{id: id, addr: a, creator: creator, max: min(msgmax, int(ds.Qbytes))}
	c.sendType, c.recvType = TypeToOpener, TypeToCreator
	if !creator {
		c.sendType, c.recvType = TypeToCreator, TypeToOpener
	}
	c.rbuf = make([]byte, sysipc.MsgHeader+c.max)
	return c, nil
}

// WatchPeer makes the death of process pid end this channel: blocked and
// later calls return ErrPeerGone once the queued messages are drained, and
// an opener whose creator died removes the queue on Close, since nobody
// else will.
func (c *Conn) WatchPeer(pid int) error {
	if err := c.peer.Watch(pid, c.peerDied); err != nil {
		return opErr("watch", c.addr, err)
	}
	return nil
}

func (c *Conn) peerDied() {
	c.peerGone.Store(true)
	c.rw.WakeAll()
	c.sw.WakeAll()
}

// ID is the queue's System V id.
func (c *Conn) ID() int { return c.id }

// Addr returns the address an opener passes to Open.
func (c *Conn) Addr() ipclab.Addr { return c.addr }

// MaxMessageSize is min(kernel.msgmax, the queue's msg_qbytes).
func (c *Conn) MaxMessageSize() int { return c.max }

// Send sends p with this end's direction type.
func (c *Conn) Send(p []byte) error { return c.SendType(p, c.sendType) }

// SendType sends p with message type mtype (>= 1).
func (c *Conn) SendType(p []byte, mtype int64) error {
	if mtype < 1 {
		return opErr("send", c.addr, fmt.Errorf("mtype %d: must be >= 1", mtype))
	}
	if len(p) > c.max {
		return opErr("send", c.addr, c.tooLarge(len(p)))
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := c.sendCheck(); err != nil {
		return opErr("send", c.addr, err)
	}
	need := sysipc.MsgHeader + len(p)
	if cap(c.sbuf) < need {
		c.sbuf = make([]byte, need)
	}
	buf := c.sbuf[:need]
	sysipc.PutMtype(buf, mtype)
	copy(buf[sysipc.MsgHeader:], p)
	err := sysipc.Msgsnd(c.id, buf, unix.IPC_NOWAIT)
	if err == unix.EAGAIN { // the queue is full: wait for room
		err = c.sw.Block(c.wdl.Get, c.sendCheck, func() error { return sysipc.Msgsnd(c.id, buf, 0) })
	}
	if err != nil {
		return opErr("send", c.addr, c.mapErr(err))
	}
	return nil
}

func (c *Conn) sendCheck() error {
	switch {
	case c.closed.Load():
		return ipclab.ErrClosed
	case c.peerGone.Load():
		return ipclab.ErrPeerGone
	case c.wdl.Passed():
		return ipclab.ErrTimeout
	}
	return nil
}

func (c *Conn) tooLarge(n int) error {
	msgmax, _ := kernlimits.Int("kernel.msgmax")
	if c.max < msgmax {
		return &ipclab.TooLargeError{Size: n, Limit: c.max, Name: "msg_qbytes of this queue (kernel.msgmnb at creation)",
			Raise: kernlimits.Raise("kernel.msgmnb") + " before creating the queue"}
	}
	return &ipclab.TooLargeError{Size: n, Limit: c.max, Name: "kernel.msgmax", Raise: kernlimits.Raise("kernel.msgmax")}
}

// Recv receives the next message of this end's direction type.
func (c *Conn) Recv(p []byte) (int, error) {
	n, _, err := c.RecvType(p, c.recvType)
	return n, err
}

// RecvType receives by msgrcv type selection. A message longer than p is
// kept (ShortBufferError.Kept) and returned by the next call whose
// selection matches it.
func (c *Conn) RecvType(p []byte, msgtyp int64) (int, int64, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.closed.Load() {
		return 0, 0, opErr("recv", c.addr, ipclab.ErrClosed)
	}
	if c.pendingType != 0 && selects(msgtyp, c.pendingType) {
		return c.deliver(p, c.pendingLen, c.pendingType)
	}
	n, err := sysipc.Msgrcv(c.id, c.rbuf, msgtyp, unix.IPC_NOWAIT)
	if err == unix.ENOMSG {
		err = c.rw.Block(c.rdl.Get, func() error {
			switch {
			case c.closed.Load():
				return ipclab.ErrClosed
			case c.peerGone.Load():
				return ipclab.ErrPeerGone
			case c.rdl.Passed():
				return ipclab.ErrTimeout
			}
			return nil
		}, func() (e error) {
			n, e = sysipc.Msgrcv(c.id, c.rbuf, msgtyp, 0)
			return e
		})
		if err == ipclab.ErrPeerGone {
			// Deliver what the peer sent before it went; then report it gone.
			if n, err = sysipc.Msgrcv(c.id, c.rbuf, msgtyp, unix.IPC_NOWAIT); err == unix.ENOMSG {
				err = ipclab.ErrPeerGone
			}
		}
	}
	if err == unix.E2BIG { // kernel.msgmax was raised after we sized rbuf
		err = fmt.Errorf("%w: a queued message is larger than the %d bytes kernel.msgmax allowed when this end was opened; reopen it", err, c.max)
	}
	if err != nil {
		return 0, 0, opErr("recv", c.addr, c.mapErr(err))
	}
	return c.deliver(p, n, sysipc.Mtype(c.rbuf))
}

// deliver copies the message in rbuf to p, or keeps it if p is too short.
func (c *Conn) deliver(p []byte, n int, mtype int64) (int, int64, error) {
	if n > len(p) {
		c.pendingLen, c.pendingType = n, mtype
		return 0, 0, opErr("recv", c.addr, &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true})
	}
	c.pendingLen, c.pendingType = 0, 0
	return copy(p, c.rbuf[sysipc.MsgHeader:sysipc.MsgHeader+n]), mtype, nil
}

func selects(msgtyp, mtype int64) bool {
	switch {
	case msgtyp == 0:
		return true
	case msgtyp > 0:
		return mtype == msgtyp
	}
	return mtype <= -msgtyp
}

// mapErr turns the errnos of a vanished queue into the contract's errors.
func (c *Conn) mapErr(err error) error {
	if c.closed.Load() {
		return ipclab.ErrClosed
	}
	if errors.Is(err, unix.EIDRM) || errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("%w: the queue was removed (%w)", ipclab.ErrPeerGone, err)
	}
	return err
}

// Close wakes blocked calls and, on the creator's end (or an opener whose
// creator died), removes the queue.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.peer.Stop()
		c.rw.WakeAll()
		c.sw.WakeAll()
		if c.creator || c.peerGone.Load() {
			if e := sysipc.MsgctlRemove(c.id); e != nil && !errors.Is(e, unix.EINVAL) && !errors.Is(e, unix.EIDRM) {
				err = opErr("close", c.addr, e)
			}
			registry.Forget(registry.Entry{Kind: ipcobj.SysVMsg, ID: c.id})
		}
	})
	return err
}

func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	c.rdl.Set(t)
	c.rw.WakeAll()
	return nil
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.wdl.Set(t)
	c.sw.WakeAll()
	return nil
}

func opErr(op string, a Addr, err error) error {
	return &ipclab.OpError{Op: op, Transport: Scheme, Addr: a.String(), Err: err}
}
