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
// Close: the creator's Close removes the queue, which the opener sees as
// EIDRM (ErrPeerGone); since removing a queue destroys its messages, it
// first waits, up to CloseLinger, for the opener to take what is queued
// for it. An opener queues an empty message of type TypeOpened when it
// opens and one of TypeClosed when it closes, after everything it sent;
// the creator's Recv takes its own direction's type and those (msgrcv's
// MSG_EXCEPT of the creator's send type), and once as many openers closed
// as opened (fan-in has several), answers ErrPeerGone, as a FIFO reader
// sees EOF once every writer closed. A marker counts for one message and
// no bytes of msg_qbytes.
//
// Limits: a message is at most kernel.msgmax bytes and at most the queue's
// capacity msg_qbytes (kernel.msgmnb when the queue was created), shared by
// both directions: a full direction blocks the other one's senders too.
package sysvmsg

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/intr"
	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// Message types of the two directions.
const (
	TypeToOpener  int64 = 1 // creator -> opener
	TypeToCreator int64 = 2 // opener -> creator
	// TypeOpened and TypeClosed mark an opener's Open and Close; SendType
	// refuses them.
	TypeOpened int64 = 1<<62 + 1
	TypeClosed int64 = 1 << 62
)

// CloseLinger is how long the creator's Close waits for the opener to
// take the messages still queued for it before it removes the queue.
const CloseLinger = time.Second

// Options configure either end.
type Options struct {
	// Mode is the permission of a created queue; 0 means 0600.
	Mode uint32
	// Reuse opens an existing queue with the same key instead of failing
	// with EEXIST (IPC_EXCL is the default); it must be ours, with no more
	// access for others than Mode gives.
	Reuse bool
	// TrustOtherUsers lets Open, and Create with Reuse, use a queue
	// another user owns or created, or whose mode lets other users in, as
	// owner=any in the address does. Off by default: that user, or whoever
	// the mode lets in, could read our messages or feed us theirs.
	TrustOtherUsers bool
	// Register records a created queue in the registry (internal/registry)
	// so that `ipclab ls` and `ipclab clean` find it; the CLI and the
	// harness set it, a library user need not.
	Register bool
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
	_ ipclab.FanIn       = (*Conn)(nil)
	_ ipclab.WaitHolder  = (*Conn)(nil)
)

// ExpectOpeners makes the creator's end report ErrPeerGone only after n
// openers closed (see ipclab.FanIn).
func (c *Conn) ExpectOpeners(n int) { c.openers.Expect(n) }

// Conn is one end of a message-queue channel.
type Conn struct {
	end      chanend.End // closed, peer gone, deadlines, errors
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

	rw, sw  intr.Waiters
	hold    sysipc.Holder   // the message path's calls keep the thread (HoldWaits)
	openers chanend.Openers // creator: who opened and closed, by their markers
}

// HoldWaits makes Send's and Recv's msgsnd and msgrcv, waits included,
// keep their thread and P (ipclab.WaitHolder). A blocked msgsnd or msgrcv
// returns EINTR on a signal whatever SA_RESTART says, so SetDeadline and
// Close still stop it (package intr), as does sysmon's preemption. With
// GOMAXPROCS=1 a held msgrcv's deadline is late: intr's Go timer cannot
// fire while the only P is held, so it fires once sysmon has preempted the
// call (about 10-20 ms).
func (c *Conn) HoldWaits(on bool) error { return c.hold.Set(on) }

func (c *Conn) calls() sysipc.Calls { return c.hold.Calls() }

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
		return nil, chanend.OpError("create", a, err)
	}
	id, err := sysipc.Msgget(key, chanend.Exclusive(unix.IPC_CREAT|int(chanend.Perm(opt.Mode)), unix.IPC_EXCL, opt.Reuse))
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			err = chanend.Exists(err, "a message queue with key "+key.String(), "ipcrm -Q "+key.String(), "key")
		} else if errors.Is(err, unix.ENOSPC) {
			err = fmt.Errorf("%w: kernel.msgmni queues exist already (%s)", err, kernlimits.Raise("kernel.msgmni"))
		}
		return nil, chanend.OpError("create", a, err)
	}
	// With Reuse the queue may be somebody else's: refuse it, and leave
	// it be. A queue made here (IPC_EXCL) is ours at Mode and passes.
	if err := private(id, chanend.Perm(opt.Mode), opt.TrustOtherUsers); err != nil {
		return nil, chanend.OpError("create", a, err)
	}
	if key == sysipc.IPCPrivate {
		a = Addr{ID: id}
	}
	c, err := newConn(id, a, true)
	if err != nil {
		sysipc.MsgctlRemove(id)
		return nil, err
	}
	if opt.Register {
		registry.Add(registry.Entry{Kind: ipcobj.SysVMsg, ID: id, Key: int32(key)})
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
			return nil, chanend.OpError("open", a, err)
		}
		if id, err = sysipc.Msgget(key, 0); err != nil {
			if errors.Is(err, unix.ENOENT) {
				err = fmt.Errorf("%w: no message queue has key %s%s", err, key, otherKinds(key))
			}
			return nil, chanend.OpError("open", a, err)
		}
	} else if _, err := sysipc.MsgctlStat(id); err != nil {
		if errors.Is(err, unix.EINVAL) {
			err = fmt.Errorf("%w: no message queue has id %d", err, id)
		}
		return nil, chanend.OpError("open", a, err)
	}
	if err := private(id, 0, a.AnyOwner || opt.TrustOtherUsers); err != nil {
		return nil, chanend.OpError("open", a, err)
	}
	return newConn(id, a, false)
}

// private refuses queue id, as IPC_STAT on the id describes it, if
// another user owns or created it, or its mode lets other users in beyond
// allow (unless trust).
func private(id int, allow uint32, trust bool) error {
	if trust {
		return nil
	}
	ds, err := sysipc.MsgctlStat(id)
	if err != nil {
		return fmt.Errorf("msgctl IPC_STAT: %w", err)
	}
	what := fmt.Sprintf("message queue %d", id)
	if ds.Perm.Key != int32(sysipc.IPCPrivate) {
		what += fmt.Sprintf(" (key %#x)", uint32(ds.Perm.Key))
	}
	return chanend.Private(what, ds.Perm.Uid, ds.Perm.Cuid, ds.Perm.Mode, allow)
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
		return nil, chanend.OpError("open", a, err)
	}
	msgmax, err := kernlimits.Int("kernel.msgmax")
	if err != nil {
		return nil, chanend.OpError("open", a, err)
	}
	c := &Conn{id: id, addr: a, creator: creator, max: min(msgmax, int(ds.Qbytes))}
	c.end.Addr = a
	c.sendType, c.recvType = TypeToOpener, TypeToCreator
	if !creator {
		c.sendType, c.recvType = TypeToCreator, TypeToOpener
	}
	c.rbuf = msgBuffer(c.max)
	if !creator {
		c.sendMarker(TypeOpened)
	}
	return c, nil
}

// WatchPeer makes the death of process pid end this channel: blocked and
// later calls return ErrPeerGone once the queued messages are drained, and
// an opener whose creator died removes the queue on Close, since nobody
// else will.
func (c *Conn) WatchPeer(pid int) error { return c.end.WatchPeer(pid, c.wakeAll) }

func (c *Conn) wakeAll() {
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
	if mtype < 1 || mtype == TypeClosed || mtype == TypeOpened {
		return c.end.Err("send", fmt.Errorf("mtype %d: must be >= 1 and not %d or %d, which mark an opener's Open and Close", mtype, TypeOpened, TypeClosed))
	}
	if len(p) > c.max {
		return c.end.Err("send", c.tooLarge(len(p)))
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := c.end.SendCheck(); err != nil {
		return c.end.Err("send", err)
	}
	need := sysipc.MsgHeader + len(p)
	if cap(c.sbuf) < need {
		c.sbuf = msgBuffer(len(p))
	}
	buf := c.sbuf[:need]
	sysipc.PutMtype(buf, mtype)
	copy(buf[sysipc.MsgHeader:], p)
	err := c.calls().Msgsnd(c.id, buf, unix.IPC_NOWAIT)
	if err == unix.EAGAIN { // the queue is full: wait for room
		err = c.sw.Block(c.end.Wdl.Get, c.end.SendCheck, func() error { return c.calls().Msgsnd(c.id, buf, 0) })
	}
	return c.end.Err("send", c.mapErr(err))
}

func (c *Conn) tooLarge(n int) error {
	msgmax, _ := kernlimits.Int("kernel.msgmax")
	if c.max < msgmax {
		return chanend.TooLarge(n, c.max, "msg_qbytes of this queue (kernel.msgmnb at creation)",
			kernlimits.Raise("kernel.msgmnb")+" before creating the queue")
	}
	return chanend.TooLarge(n, c.max, "kernel.msgmax", kernlimits.Raise("kernel.msgmax"))
}

// Recv receives the next message of this end's direction type; on the
// creator's end also the opener's close marker (TypeClosed), which it
// answers with ErrPeerGone once everything sent before it is delivered.
func (c *Conn) Recv(p []byte) (int, error) {
	if !c.creator {
		n, _, err := c.RecvType(p, c.recvType)
		return n, err
	}
	for {
		n, mtype, err := c.recv(p, c.sendType, sysipc.MSG_EXCEPT)
		if err != nil || !c.marker(mtype) {
			return n, err
		}
	}
}

// RecvType receives by msgrcv type selection. A message longer than p is
// kept (ShortBufferError.Kept) and returned by the next call whose
// selection matches it.
//
// The openers' open and close markers are never returned: a selection
// that takes one (msgtyp 0, or a negative one reaching 2^62) counts it on
// the creator's end and goes on; msgtyp naming a marker's type is refused.
// A selection that cannot take them (msgtyp > 0 other than the markers',
// or -N below 2^62) leaves them queued: call TakeMarkers to learn that the
// openers closed.
func (c *Conn) RecvType(p []byte, msgtyp int64) (int, int64, error) {
	if msgtyp == TypeClosed || msgtyp == TypeOpened {
		return 0, 0, c.end.Err("recv", fmt.Errorf("msgtyp %d selects the openers' markers, which are not messages", msgtyp))
	}
	for {
		n, mtype, err := c.recv(p, msgtyp, 0)
		if err != nil || !isMarker(mtype) {
			return n, mtype, err
		}
		if c.creator {
			c.marker(mtype)
			if c.end.PeerGone() {
				return 0, 0, c.end.Err("recv", ipclab.ErrPeerGone)
			}
		}
	}
}

// TakeMarkers takes the openers' open and close markers queued now,
// without waiting, and reports whether every opener that opened has
// closed. A creator receiving with RecvType and a selection that leaves
// the markers queued calls it (from time to time, or after a read
// deadline) to end as Recv would; on an opener's end it does nothing.
func (c *Conn) TakeMarkers() (openersGone bool) {
	if !c.creator {
		return false
	}
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	var m [sysipc.MsgHeader]byte
	for _, t := range []int64{TypeOpened, TypeClosed} {
		for {
			if _, err := c.calls().Msgrcv(c.id, m[:], t, sysipc.MSG_NOERROR|unix.IPC_NOWAIT); err != nil {
				break
			}
			c.marker(t)
		}
	}
	return c.end.PeerGone()
}

func isMarker(mtype int64) bool { return mtype == TypeOpened || mtype == TypeClosed }

// recv is msgrcv(msgtyp, flags) with the pending message, the wait and the
// drain of a gone peer around it.
func (c *Conn) recv(p []byte, msgtyp int64, flags int) (int, int64, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.end.Closed() {
		return 0, 0, c.end.Err("recv", ipclab.ErrClosed)
	}
	if c.pendingType != 0 && selects(msgtyp, flags, c.pendingType) {
		return c.deliver(p, c.pendingLen, c.pendingType)
	}
	n, err := c.calls().Msgrcv(c.id, c.rbuf, msgtyp, flags|unix.IPC_NOWAIT)
	if err == unix.ENOMSG {
		err = c.rw.Block(c.end.Rdl.Get, c.end.RecvCheck, func() (e error) {
			n, e = c.calls().Msgrcv(c.id, c.rbuf, msgtyp, flags)
			return e
		})
		if err == ipclab.ErrPeerGone {
			// Deliver what the peer sent before it went; then report it gone.
			if n, err = c.calls().Msgrcv(c.id, c.rbuf, msgtyp, flags|unix.IPC_NOWAIT); err == unix.ENOMSG {
				err = ipclab.ErrPeerGone
			}
		}
	}
	if err == unix.E2BIG { // kernel.msgmax was raised after we sized rbuf
		err = fmt.Errorf("%w: a queued message is larger than the %d bytes kernel.msgmax allowed when this end was opened; reopen it", err, c.max)
	}
	if err != nil {
		return 0, 0, c.end.Err("recv", c.mapErr(err))
	}
	return c.deliver(p, n, sysipc.Mtype(c.rbuf))
}

// deliver copies the message in rbuf to p, or keeps it if p is too short.
func (c *Conn) deliver(p []byte, n int, mtype int64) (int, int64, error) {
	if n > len(p) {
		c.pendingLen, c.pendingType = n, mtype
		return 0, 0, c.end.Err("recv", &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true})
	}
	c.pendingLen, c.pendingType = 0, 0
	return copy(p, c.rbuf[sysipc.MsgHeader:sysipc.MsgHeader+n]), mtype, nil
}

func selects(msgtyp int64, flags int, mtype int64) bool {
	switch {
	case flags&sysipc.MSG_EXCEPT != 0:
		return mtype != msgtyp
	case msgtyp == 0:
		return true
	case msgtyp > 0:
		return mtype == msgtyp
	}
	return mtype <= -msgtyp
}

// mapErr turns the errnos of a vanished queue into the contract's errors.
func (c *Conn) mapErr(err error) error {
	if err == nil || c.end.Closed() {
		return c.end.MapErr(err)
	}
	if errors.Is(err, unix.EIDRM) || errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("%w: the queue was removed (%w)", ipclab.ErrPeerGone, err)
	}
	return err
}

func (c *Conn) SetDeadline(t time.Time) error {
	c.end.SetDeadlines(t)
	c.wakeAll()
	return nil
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	c.end.Rdl.Set(t)
	c.rw.WakeAll()
	return nil
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.end.Wdl.Set(t)
	c.sw.WakeAll()
	return nil
}

// msgBuffer is a buffer for msgsnd or msgrcv of messages up to n bytes,
// its text clear of the kernel copy's 4K aliasing (sysipc.MsgTextOffset).
func msgBuffer(n int) []byte {
	return sysipc.PlacedBuffer(sysipc.MsgHeader+n, sysipc.MsgTextOffset-sysipc.MsgHeader)
}
