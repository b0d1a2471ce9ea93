// Package posixmq is the ipclab transport over a pair of POSIX message
// queues (mq_open, mq_timedsend, mq_timedreceive, mq_unlink).
//
// A channel named /base is two queues: /base.1 carries messages from the
// creator to the opener, /base.2 from the opener to the creator. Messages
// are the raw payload, so a C program that mq_receive()s /base.1 and
// mq_send()s to /base.2 plays the opener. Priorities are exposed through
// ipclab.PriorityConn.
//
// A single-queue channel (posixmq:/name,single; CreateSingle, Addr.Single)
// is the one queue /name, so a C program's mq_open("/name") is a peer; it
// carries messages one way, openers to creator, with no markers (see
// Addr.Single).
//
// On Linux a message queue descriptor is a file descriptor that epoll
// understands, so blocking is done by Go's poller: deadlines and Close wake
// a blocked call without extra threads or signals.
//
// Close: each end's Close queues an empty message of the reserved priority
// PrioClosed on the queue it sends to. It is the highest, so the receiver
// takes it first, and then delivers what is still queued, without waiting,
// before it answers ErrPeerGone. An opener also queues a one-byte message
// of that priority when it opens, so that the creator of a channel with
// several openers (fan-in) answers ErrPeerGone once every opener that
// opened has closed, as a FIFO reader sees EOF once every writer closed.
// A marker takes one slot of the queue until the receiver's next Recv.
//
// Limits (read at run time): a queue holds at most fs.mqueue.msg_max
// messages of at most fs.mqueue.msgsize_max bytes (without
// CAP_SYS_RESOURCE), the queues of one user hold at most RLIMIT_MSGQUEUE
// bytes (ulimit -q), and the system at most fs.mqueue.queues_max queues.
package posixmq

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/chanend"
	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/kernlimits"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// Options configure the creator's end.
type Options struct {
	// Depth is how many messages each queue holds; 0 takes
	// fs.mqueue.msg_default.
	Depth int
	// MsgSize is the largest message; 0 takes fs.mqueue.msgsize_default.
	MsgSize int
	// Mode is the permission of the queues; 0 means 0600.
	Mode uint32
	// Reuse opens existing queues of the same name instead of failing;
	// they must be ours, with no more access for others than Mode gives.
	Reuse bool
	// TrustOtherUsers lets Create with Reuse use queues another user owns
	// or whose mode lets others in, as ,owner=any lets Open.
	TrustOtherUsers bool
	// Register records the created queues in the registry
	// (internal/registry) so that `ipclab ls` and `ipclab clean` find
	// them; the CLI and the harness set it, a library user need not.
	Register bool
}

// PrioClosed is the priority of the open and close markers
// (MQ_PRIO_MAX-1); Send refuses it.
const PrioClosed = kernlimits.MQPrioMax - 1

var (
	_ ipclab.PriorityConn = (*Conn)(nil)
	_ ipclab.PeerWatcher  = (*Conn)(nil)
	_ ipclab.FanIn        = (*Conn)(nil)
	_ ipclab.WaitHolder   = (*Conn)(nil)
)

// ExpectOpeners makes the creator's end report ErrPeerGone only after n
// openers closed (see ipclab.FanIn).
func (c *Conn) ExpectOpeners(n int) { c.openers.Expect(n) }

// Conn is one end of a POSIX message-queue channel.
type Conn struct {
	hold    sysipc.Holder // the message path's calls keep the thread (HoldWaits)
	end     chanend.End   // closed, peer gone, deadlines, errors
	addr    Addr
	creator bool
	tx, rx  *os.File
	txc     syscall.RawConn
	// txfd and rxfd are tx's and rx's descriptors. Send and Recv use them
	// directly, under sendMu and recvMu, which Close takes before it
	// closes the files: RawConn.Control's reference per message was
	// redundant.
	txfd, rxfd int
	txMax      int // mq_msgsize of the queue we send to
	rxSize     int // mq_msgsize of the queue we receive from

	// A call's arguments and results are in sop and rop, so that a
	// message allocates nothing. Calls wait in ppoll (wait.go).
	wakers     *wakers
	sendMu     sync.Mutex
	sop        mqOp
	rop        mqOp
	recvStreak sysipc.WaitStreak // whether a receive polls first (wait.go); under recvMu

	recvMu      sync.Mutex
	rbuf        []byte
	pendingLen  int // >= 0: a message kept in rbuf
	pendingPrio uint

	openers chanend.Openers // creator: who opened and closed, by their markers
}

// Create makes the two queues of a channel named name ("/base").
func Create(name string, opt Options) (*Conn, error) {
	a := Addr{Name: name}
	if err := checkName(name); err != nil {
		return nil, chanend.OpError("create", a, &ipclab.AddrError{Addr: a.String(), Reason: err.Error()})
	}
	attr, err := attrFor(opt)
	if err != nil {
		return nil, chanend.OpError("create", a, err)
	}
	mode := chanend.Perm(opt.Mode)
	flags := chanend.Exclusive(unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, unix.O_EXCL, opt.Reuse)
	tx, err := sysipc.MqOpen(a.toOpener(), flags|unix.O_WRONLY, mode, attr)
	if err != nil {
		return nil, chanend.OpError("create", a, explainOpen(a.toOpener(), err, attr))
	}
	// Each queue is checked as soon as it is open (with Reuse it may be
	// somebody else's): one refused is left be, and nothing is made after
	// it; the first, once it passed, is ours to unlink if the second fails.
	if err := opt.private(a.toOpener(), tx); err != nil {
		unix.Close(tx)
		return nil, chanend.OpError("create", a, err)
	}
	rx, err := sysipc.MqOpen(a.toCreator(), flags|unix.O_RDONLY, mode, attr)
	if err != nil {
		unix.Close(tx)
		sysipc.MqUnlink(a.toOpener())
		return nil, chanend.OpError("create", a, explainOpen(a.toCreator(), err, attr))
	}
	if err := opt.private(a.toCreator(), rx); err != nil {
		unix.Close(tx)
		unix.Close(rx)
		sysipc.MqUnlink(a.toOpener())
		return nil, chanend.OpError("create", a, err)
	}
	c, err := newConn(a, true, tx, rx)
	if err != nil {
		sysipc.MqUnlink(a.toOpener())
		sysipc.MqUnlink(a.toCreator())
		return nil, err
	}
	if opt.Register {
		for _, n := range []string{a.toOpener(), a.toCreator()} {
			registry.Add(registry.Entry{Kind: ipcobj.PosixMQ, Name: n})
		}
	}
	return c, nil
}

// CreateSingle makes the one queue of a single-queue channel (see
// Addr.Single) and returns the creator's end, which receives only.
func CreateSingle(name string, opt Options) (*Conn, error) {
	a := Addr{Name: name, Single: true}
	if err := checkName(name); err != nil {
		return nil, chanend.OpError("create", a, &ipclab.AddrError{Addr: a.String(), Reason: err.Error()})
	}
	attr, err := attrFor(opt)
	if err != nil {
		return nil, chanend.OpError("create", a, err)
	}
	flags := chanend.Exclusive(unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, unix.O_EXCL, opt.Reuse)
	rx, err := sysipc.MqOpen(name, flags|unix.O_RDONLY, chanend.Perm(opt.Mode), attr)
	if err != nil {
		return nil, chanend.OpError("create", a, explainOpen(name, err, attr))
	}
	if err := opt.private(name, rx); err != nil {
		unix.Close(rx)
		return nil, chanend.OpError("create", a, err)
	}
	c, err := newConn(a, true, -1, rx)
	if err != nil {
		sysipc.MqUnlink(name)
		return nil, err
	}
	if opt.Register {
		registry.Add(registry.Entry{Kind: ipcobj.PosixMQ, Name: name})
	}
	return c, nil
}

// Open opens the other end of a channel from its address; the opener of
// a single-queue channel sends only.
func Open(addr string) (*Conn, error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	flags := unix.O_NONBLOCK | unix.O_CLOEXEC
	check := Options{TrustOtherUsers: a.AnyOwner} // Mode 0: nothing for others
	if a.Single {
		tx, err := sysipc.MqOpen(a.Name, flags|unix.O_WRONLY, 0, nil)
		if err != nil {
			return nil, chanend.OpError("open", a, explainOpen(a.Name, err, nil))
		}
		if err := check.private(a.Name, tx); err != nil {
			unix.Close(tx)
			return nil, chanend.OpError("open", a, err)
		}
		return newConn(a, false, tx, -1)
	}
	rx, err := sysipc.MqOpen(a.toOpener(), flags|unix.O_RDONLY, 0, nil)
	if err != nil {
		return nil, chanend.OpError("open", a, explainOpen(a.toOpener(), err, nil))
	}
	tx, err := sysipc.MqOpen(a.toCreator(), flags|unix.O_WRONLY, 0, nil)
	if err != nil {
		unix.Close(rx)
		return nil, chanend.OpError("open", a, explainOpen(a.toCreator(), err, nil))
	}
	if err := errors.Join(check.private(a.toOpener(), rx), check.private(a.toCreator(), tx)); err != nil {
		unix.Close(rx)
		unix.Close(tx)
		return nil, chanend.OpError("open", a, err)
	}
	return newConn(a, false, tx, rx)
}

// private refuses the queue name, open on fd, if another user owns it or
// its mode lets other users in beyond o.Mode (unless o.TrustOtherUsers).
// A queue descriptor is a file descriptor on Linux: fstat on it describes
// the queue opened, not whatever the name means now.
func (o Options) private(name string, fd int) error {
	if o.TrustOtherUsers {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("fstat of queue %s: %w", name, err)
	}
	return chanend.Private("POSIX message queue "+name, st.Uid, st.Uid, st.Mode, chanend.Perm(o.Mode))
}

// newConn makes an end from its descriptors; tx or rx is -1 on the ends
// of a single-queue channel.
func newConn(a Addr, creator bool, tx, rx int) (*Conn, error) {
	c := &Conn{addr: a, creator: creator, pendingLen: -1}
	c.end.Addr = a
	closeFds := func() {
		for _, fd := range []int{tx, rx} {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}
	for _, fd := range []int{tx, rx} {
		if fd < 0 {
			continue
		}
		attr, err := sysipc.MqGetsetattr(fd, nil)
		if err != nil {
			closeFds()
			return nil, chanend.OpError("open", a, err)
		}
		if fd == tx {
			c.txMax = int(attr.Msgsize)
		} else {
			c.rxSize = int(attr.Msgsize)
		}
	}
	var err error
	if c.wakers, err = newWakers(); err != nil {
		closeFds()
		return nil, chanend.OpError("open", a, err)
	}
	// Waits happen in ppoll (wait.go), not in Go's poller; a descriptor in
	// its epoll set would wake an idle thread for every message (64-byte
	// round trips on one CPU: 4.9 context switches each with it, 2.4
	// without).
	c.txfd, c.rxfd = tx, rx
	if tx >= 0 {
		c.tx = sysipc.UnpolledFile(tx, a.Name+".tx")
		c.txc, err = c.tx.SyscallConn()
	}
	if rx >= 0 {
		c.rx = sysipc.UnpolledFile(rx, a.Name+".rx")
	}
	if err != nil {
		c.closeFiles()
		return nil, chanend.OpError("open", a, err)
	}
	c.rbuf = sysipc.PlacedBuffer(c.rxSize, sysipc.MsgTextOffset) // clear of the kernel copy's 4K aliasing
	if !creator && !a.Single {
		c.announce()
	}
	return c, nil
}

// closeFiles closes the descriptors this end has, and then the eventfds.
func (c *Conn) closeFiles() {
	if c.rx != nil {
		c.rx.Close()
	}
	if c.tx != nil {
		c.tx.Close()
	}
	c.wakers.close()
}

// errOneWay is what the wrong direction of a single-queue channel gets.
func (c *Conn) errOneWay(op string) error {
	return c.end.Err(op, fmt.Errorf("%s is one queue carrying messages one way, from its openers to its creator: this end cannot %s (posixmq:%s, two queues, goes both ways)",
		c.addr, op, c.addr.Name))
}

// openWait bounds how long Open waits for room for its open marker.
const openWait = 5 * time.Second

// announce queues the open marker, waiting up to openWait for room: a
// fan-in queue may be full of another opener's messages, and a marker lost
// here would let that opener's Close end the channel (the creator would
// count one opener fewer). Nothing else uses the Conn yet.
func (c *Conn) announce() {
	c.end.Wdl.Set(time.Now().Add(openWait))
	c.sop.buf, c.sop.prio = []byte{'o'}, PrioClosed
	c.waitIO(c.txfd, false)
	c.sop.buf = nil
	c.end.Wdl.Set(time.Time{})
}

// sendMarker queues an open (one byte) or close (empty) marker without
// waiting; it reports whether the queue had a slot for it.
func (c *Conn) sendMarker(m []byte) bool {
	var err error
	c.txc.Control(func(fd uintptr) { err = sysipc.MqTimedsend(int(fd), m, PrioClosed, nil) })
	return err == nil
}

// closeLinger bounds how long Close waits for a slot for its close
// marker in a full queue: a peer that keeps running and keeps receiving
// learns of the Close from it (a peer that exits needs no marker).
const closeLinger = time.Second

// sendCloseMarker queues the close marker, waiting up to closeLinger
// for the peer to take a message if the queue is full.
func (c *Conn) sendCloseMarker() {
	backoff := time.Millisecond
	for deadline := time.Now().Add(closeLinger); !c.sendMarker(nil) && !c.end.PeerGone() && time.Now().Before(deadline); {
		time.Sleep(backoff)
		backoff = min(2*backoff, 10*time.Millisecond)
	}
}

// mqOp is one mq_timedsend or mq_timedreceive: its buffer and priority,
// and what it returned.
type mqOp struct {
	buf  []byte
	prio uint
	n    int
	err  error
}

func (c *Conn) trySend(fd int) bool {
	c.sop.err = c.calls().MqTimedsend(fd, c.sop.buf, c.sop.prio, nil)
	return c.sop.err != unix.EAGAIN
}

func (c *Conn) tryRecv(fd int) bool {
	c.rop.n, c.rop.prio, c.rop.err = c.calls().MqTimedreceive(fd, c.rop.buf, nil)
	return c.rop.err != unix.EAGAIN
}

// HoldWaits makes Send's and Recv's calls and waits keep their thread and
// P (ipclab.WaitHolder): the descriptors are non-blocking, and the waits
// are ppoll, which a signal interrupts.
func (c *Conn) HoldWaits(on bool) error { return c.hold.Set(on) }

func (c *Conn) calls() sysipc.Calls { return c.hold.Calls() }

// WatchPeer makes the death of process pid end this channel (see
// ipclab.PeerWatcher); an opener whose creator died unlinks the queues on
// Close, since nobody else will.
func (c *Conn) WatchPeer(pid int) error { return c.end.WatchPeer(pid, c.peerDied) }

// peerDied runs once the peer is marked gone: waiters look again, find
// it gone, and stop (a receiver once the queue is empty).
func (c *Conn) peerDied() { c.wakers.wake(true, true) }

func (c *Conn) Addr() ipclab.Addr { return c.addr }

// MaxMessageSize is mq_msgsize of the queue this end sends to (the
// creator of a single-queue channel, which only receives: of its queue).
func (c *Conn) MaxMessageSize() int {
	if c.tx == nil {
		return c.rxSize
	}
	return c.txMax
}

// Send sends p with priority 0.
func (c *Conn) Send(p []byte) error { return c.SendPriority(p, 0) }

// SendPriority sends p with priority prio (0 .. MQ_PRIO_MAX-2 = 32766;
// 32767 is the close marker's).
func (c *Conn) SendPriority(p []byte, prio uint) error {
	if c.tx == nil {
		return c.errOneWay("send")
	}
	if prio >= PrioClosed {
		return c.end.Err("send", &ipclab.LimitError{What: fmt.Sprintf("priority %d", prio), Name: "MQ_PRIO_MAX-2",
			Limit: PrioClosed - 1, Raise: "fixed: POSIX queue priorities are 0 to 32767, and 32767 marks a Close"})
	}
	if len(p) > c.txMax {
		return c.end.Err("send", chanend.TooLarge(len(p), c.txMax, "mq_msgsize of the queue",
			"create the channel with a larger Options.MsgSize, up to fs.mqueue.msgsize_max; "+
				kernlimits.Raise("fs.mqueue.msgsize_max")))
	}
	if c.end.Closed() {
		return c.end.Err("send", ipclab.ErrClosed)
	}
	if c.end.PeerGone() {
		return c.end.Err("send", ipclab.ErrPeerGone)
	}
	if c.end.Wdl.Expired() {
		return c.end.Err("send", ipclab.ErrTimeout)
	}
	c.sendMu.Lock()
	if c.end.Closed() { // Close may have closed txfd before we got sendMu
		c.sendMu.Unlock()
		return c.end.Err("send", ipclab.ErrClosed)
	}
	c.sop.buf, c.sop.prio = p, prio
	err := c.waitIO(c.txfd, false)
	if err == nil {
		err = c.sop.err
	}
	c.sop.buf = nil // not retained
	c.sendMu.Unlock()
	return c.end.Err("send", c.mapErr(err))
}

// Recv receives the oldest message of the highest priority.
func (c *Conn) Recv(p []byte) (int, error) {
	n, _, err := c.RecvPriority(p)
	return n, err
}

// RecvPriority is Recv that also returns the message's priority.
//
// On a single-queue channel there are no markers, and a message of
// priority PrioClosed (which a C sender may use) is delivered as any other.
func (c *Conn) RecvPriority(p []byte) (int, uint, error) {
	if c.rx == nil {
		return 0, 0, c.errOneWay("recv")
	}
	if c.addr.Single {
		return c.recvPriority(p)
	}
	for {
		n, prio, err := c.recvPriority(p)
		if err != nil || prio != PrioClosed {
			return n, prio, err
		}
		if n == 1 { // an opener's open marker
			c.openers.Opened()
			continue
		}
		// A close marker: what its sender sent before is still queued,
		// and drain (in recvPriority) delivers it without waiting.
		if !c.creator || c.openers.Closed() {
			c.end.SetPeerGone()
			c.peerDied()
		}
	}
}

func (c *Conn) recvPriority(p []byte) (int, uint, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.end.Closed() {
		return 0, 0, c.end.Err("recv", ipclab.ErrClosed)
	}
	if c.pendingLen >= 0 {
		return c.deliver(p, c.pendingLen, c.pendingPrio)
	}
	// mq_receive wants a buffer of at least mq_msgsize, whatever the
	// message's length: use p when it is that large, else our own.
	dst := c.rbuf
	if len(p) >= c.rxSize {
		dst = p
	}
	c.rop.buf = dst
	err := c.waitIO(c.rxfd, true)
	c.rop.buf = nil // not retained
	if err == nil {
		err = c.rop.err
	}
	n, prio := c.rop.n, c.rop.prio
	if err != nil {
		return 0, 0, c.end.Err("recv", c.mapErr(err))
	}
	if len(p) >= c.rxSize || prio == PrioClosed && n <= 1 && !c.addr.Single {
		return n, prio, nil
	}
	return c.deliver(p, n, prio)
}

// deliver copies the message in rbuf to p, or keeps it if p is too short.
func (c *Conn) deliver(p []byte, n int, prio uint) (int, uint, error) {
	if n > len(p) {
		c.pendingLen, c.pendingPrio = n, prio
		return 0, 0, c.end.Err("recv", &ipclab.ShortBufferError{Size: n, Buffer: len(p), Kept: true})
	}
	c.pendingLen = -1
	return copy(p, c.rbuf[:n]), prio, nil
}

func (c *Conn) mapErr(err error) error {
	if err != nil && !c.end.Closed() && !errors.Is(err, os.ErrClosed) && c.end.PeerGone() {
		return ipclab.ErrPeerGone
	}
	return c.end.MapErr(err)
}

// Close wakes blocked calls, queues the close marker for the peer, closes
// the descriptors and, on the creator's end (or an opener whose creator
// died), unlinks the queues.
func (c *Conn) Close() error {
	return c.end.Close(func() error {
		c.wakers.wake(true, true) // a waiter returns ErrClosed and releases its mutex
		if !c.end.PeerGone() && !c.addr.Single {
			c.sendCloseMarker()
		}
		// The files are out of Go's poller, so closing them does not wait
		// for a call in progress: the mutexes do, and then no waiter is
		// left to poll on the eventfds closeFiles closes.
		c.sendMu.Lock()
		c.recvMu.Lock()
		c.closeFiles()
		c.recvMu.Unlock()
		c.sendMu.Unlock()
		if !c.end.Removes(c.creator) {
			return nil
		}
		var err error
		for _, n := range c.addr.queues() {
			if e := sysipc.MqUnlink(n); e != nil && !errors.Is(e, unix.ENOENT) && err == nil {
				err = c.end.Err("close", e)
			}
			registry.Forget(registry.Entry{Kind: ipcobj.PosixMQ, Name: n})
		}
		return err
	})
}

func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline and SetWriteDeadline set a deadline; a call waiting now
// re-reads it.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.end.Rdl.Set(t)
	c.wakers.wake(true, false)
	return nil
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.end.Wdl.Set(t)
	c.wakers.wake(false, true)
	return nil
}
