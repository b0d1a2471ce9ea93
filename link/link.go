// Package link layers the link semantics of the course material over any
// duplex ipclab.Conn, and is itself an ipclab.Conn:
//
//   - capacity 0, a rendezvous: Send returns only once the receiver has
//     taken the message; whoever arrives first waits. Over every
//     transport this is a hand-shake on the reverse path (an
//     acknowledgement when the receiver's Recv takes the message), also
//     over shared memory, so the cost is comparable across mechanisms;
//   - capacity n > 0, bounded and asynchronous: at most n messages sent
//     but not yet taken; on a full link Send blocks, drops the message
//     (and counts it), or fails with ErrFull, as configured;
//   - acknowledgements: the receiver acknowledges what it takes
//     (cumulatively); a sender can wait for each (WaitAck) and always knows
//     how many were acknowledged (Stats.Acked);
//   - flow control: those acknowledgements are credits, returned in batches
//     (CreditBatch, half the window by default, like yamux's window
//     updates); a sender never exceeds its window, and a receiver reports
//     a peer that does as a *ProtocolError;
//   - ordering: every message carries the producer's pid, a sequence
//     number and a CLOCK_MONOTONIC timestamp; the receiver counts gaps,
//     duplicates and reordering per producer (Stats). Nothing is silent.
//
// The raw transport stays available: a Link is only added on request.
// Acknowledgements and the peer's data share the underlying Conn, and
// whichever call needs the next message reads it (one at a time; the
// others wait for it): a Recv reads its own message, a Send waiting for
// credit reads until the acknowledgement comes and queues any data it
// meets. No goroutine stands between the caller and the transport, so a
// link costs its protocol, not scheduler hand-offs. Data read ahead is
// bounded by the peer's window.
package link

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/monoclock"
)

// ErrFull is returned by Send on a full link whose policy is Fail.
var ErrFull = errors.New("link: full")

// ProtocolError reports a peer that broke the link protocol: a malformed
// header, an acknowledgement of messages never sent, or data past the
// window it was granted.
type ProtocolError struct{ Reason string }

func (e *ProtocolError) Error() string { return "link: protocol error: " + e.Reason }

// Stats are a link end's counters.
type Stats struct {
	Sent        uint64 // messages Send accepted (transmitted, or dropped by policy)
	Dropped     uint64 // messages a full link dropped (policy Drop)
	Acked       uint64 // of ours, acknowledged (taken) by the peer
	Received    uint64 // messages our Recv took
	MaxInFlight uint64 // the most of ours ever sent but not acknowledged

	CreditWaits  uint64        // Sends that waited for credit
	CreditWaited time.Duration // ... and for how long in all
	AckWaited    time.Duration // time Sends spent waiting for their acknowledgement

	Lost       uint64 // gaps in the producers' sequences not (yet) filled
	Duplicates uint64
	Reordered  uint64 // messages that arrived after a later one of the same producer

	ProtocolErrors uint64
	HeaderBytes    int   // added to every message
	OneWayMaxNs    int64 // the longest one-way latency seen (producer's timestamp to Recv)
	OneWaySumNs    int64 // their sum, for the mean over Received
}

type message struct {
	h       header
	payload []byte
}

// Link is one end of a link over a duplex Conn.
type Link struct {
	c     ipclab.Conn
	opt   Options
	pid   uint32
	clock *monoclock.Clock

	sendMu sync.Mutex // serialises Sends and owns sbuf
	sbuf   []byte
	ackMu  sync.Mutex // owns abuf
	abuf   [HeaderLen]byte
	recvMu sync.Mutex // serialises Recvs
	readMu sync.Mutex // held by the one call reading c; owns rbuf and readDL
	rbuf   []byte
	readDL time.Time // the read deadline last set on c

	mu      sync.Mutex // everything below
	changed chan struct{}
	waiters int       // calls in wait: a broadcast with none costs nothing
	nextSeq uint64    // last sequence number we sent
	acked   uint64    // messages of ours the peer took
	queue   []message // queue[qhead:] are waiting to be taken
	qhead   int
	free    [][]byte // payload buffers of taken messages, for reuse
	taken   uint64   // messages our Recv took
	ackSent uint64   // the last cumulative acknowledgement we sent
	order   map[uint32]*order
	rerr    error // the underlying Conn's terminal error
	perr    error // a protocol error to report from Recv
	closed  bool
	rdl     time.Time
	wdl     time.Time
	stats   Stats

	closeOnce sync.Once
}

var _ ipclab.Conn = (*Link)(nil)

// New wraps c, which both ends must wrap with the same Options.
func New(c ipclab.Conn, opt Options) (*Link, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if c.MaxMessageSize() < HeaderLen {
		return nil, fmt.Errorf("link: the transport's largest message, %d bytes, cannot carry the %d-byte link header", c.MaxMessageSize(), HeaderLen)
	}
	l := &Link{c: c, opt: opt, pid: uint32(os.Getpid()), clock: monoclock.New(), changed: make(chan struct{}),
		order: map[uint32]*order{}, rbuf: make([]byte, c.MaxMessageSize())}
	l.stats.HeaderBytes = HeaderLen
	return l, nil
}

// broadcast wakes every waiter; l.mu must be held.
func (l *Link) broadcast() {
	if l.waiters == 0 {
		return
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// wait releases l.mu until something changes or the deadline passes; it
// returns false on the deadline. l.mu must be held.
func (l *Link) wait(deadline time.Time) bool {
	ch := l.changed
	l.waiters++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.waiters--
	}()
	if deadline.IsZero() {
		<-ch
		return true
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// await makes progress towards ready, which is checked with l.mu held:
// if no other call is reading c, it reads one message itself; otherwise it
// waits for that call to finish one. It returns false on the deadline.
// l.mu is held on entry and on return.
func (l *Link) await(deadline time.Time) bool {
	if !l.readMu.TryLock() {
		return l.wait(deadline)
	}
	l.mu.Unlock()
	err := l.readOne(deadline)
	l.readMu.Unlock()
	l.mu.Lock()
	l.broadcast() // another waiter may read next
	if errors.Is(err, ipclab.ErrTimeout) && !deadline.IsZero() && !time.Now().Before(deadline) {
		return false
	}
	return true
}

// collectAcks reads what has already arrived, without waiting for more,
// so a sender that never waits (policies Drop and Fail) still sees the
// credits it was granted. A read deadline in the past would refuse even
// data that is there, so each read may wait a microsecond. l.mu held.
func (l *Link) collectAcks() {
	for l.nextSeq-l.acked >= uint64(l.opt.window()) && l.readMu.TryLock() {
		acked := l.acked
		l.mu.Unlock()
		err := l.readOne(time.Now().Add(time.Microsecond))
		l.readMu.Unlock()
		l.mu.Lock()
		l.broadcast()
		if err != nil || l.acked == acked && l.queued() == 0 {
			return // nothing more to read, or the read brought data, not credit
		}
	}
}

// readOne reads one message from c and files it: an acknowledgement
// updates the credits, data joins the queue. The caller holds readMu.
func (l *Link) readOne(deadline time.Time) error {
	if !deadline.Equal(l.readDL) {
		l.c.SetReadDeadline(deadline)
		l.readDL = deadline
	}
	n, err := l.c.Recv(l.rbuf)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if !errors.Is(err, ipclab.ErrTimeout) && l.rerr == nil {
			l.rerr = err
		}
		return err
	}
	buf := l.rbuf[:n]
	h, err := parseHeader(buf)
	switch {
	case err != nil:
		l.protocolError(err)
	case h.typ == typeAck:
		switch {
		case h.seq > l.nextSeq:
			l.protocolError(&ProtocolError{Reason: fmt.Sprintf("acknowledgement of %d messages; only %d were sent", h.seq, l.nextSeq)})
		case h.seq > l.acked:
			l.acked = h.seq
			l.stats.Acked = h.seq
		}
	case !l.opt.NoCredits && h.acked > l.ackSent:
		l.protocolError(&ProtocolError{Reason: fmt.Sprintf("message %d claims %d acknowledgements; %d were sent", h.seq, h.acked, l.ackSent)})
	case !l.opt.NoCredits && h.seq > h.acked+uint64(l.opt.window()):
		l.protocolError(&ProtocolError{Reason: fmt.Sprintf("message %d sent with %d acknowledged and a window of %d: the peer overran its credit",
			h.seq, h.acked, l.opt.window())})
	default:
		l.arrived(h)
		var p []byte
		if k := len(l.free); k > 0 && cap(l.free[k-1]) >= n-HeaderLen {
			p, l.free = l.free[k-1][:0], l.free[:k-1]
		}
		l.queue = append(l.queue, message{h: h, payload: append(p, buf[HeaderLen:]...)})
	}
	return nil
}

// queued is how many messages wait to be taken; l.mu held.
func (l *Link) queued() int { return len(l.queue) - l.qhead }

func (l *Link) protocolError(err error) {
	l.stats.ProtocolErrors++
	if l.perr == nil {
		l.perr = err
	}
}

// MaxMessageSize is the transport's largest message less the link header.
func (l *Link) MaxMessageSize() int { return l.c.MaxMessageSize() - HeaderLen }

// Addr is the underlying channel's address.
func (l *Link) Addr() ipclab.Addr { return l.c.Addr() }

// Conn is the underlying channel.
func (l *Link) Conn() ipclab.Conn { return l.c }

// Options returns the link's configuration.
func (l *Link) Options() Options { return l.opt }

// Stats returns a snapshot of the counters.
func (l *Link) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Send sends p with the link's semantics (see the package comment).
func (l *Link) Send(p []byte) error {
	if len(p) > l.MaxMessageSize() {
		return &ipclab.TooLargeError{Size: len(p), Limit: l.MaxMessageSize(), Name: "the transport's maximum less the 32-byte link header",
			Raise: "raise the transport's limit (see its error for the sysctl or option)"}
	}
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	l.mu.Lock()
	if err := l.sendState(); err != nil {
		l.mu.Unlock()
		return err
	}
	if !l.opt.NoCredits && l.nextSeq-l.acked >= uint64(l.opt.window()) && l.opt.Full != Block {
		l.collectAcks()
	}
	if !l.opt.NoCredits && l.nextSeq-l.acked >= uint64(l.opt.window()) {
		switch l.opt.Full {
		case Drop:
			l.stats.Sent++
			l.stats.Dropped++
			l.mu.Unlock()
			return nil
		case Fail:
			l.mu.Unlock()
			return ErrFull
		}
		start := time.Now()
		l.stats.CreditWaits++
		for l.nextSeq-l.acked >= uint64(l.opt.window()) {
			err := l.sendState()
			if err == nil && !l.await(l.wdl) {
				err = ipclab.ErrTimeout
			}
			if err != nil {
				l.stats.CreditWaited += time.Since(start)
				l.mu.Unlock()
				return err
			}
		}
		l.stats.CreditWaited += time.Since(start)
	}
	l.nextSeq++
	seq, acked := l.nextSeq, l.acked
	if f := seq - l.acked; f > l.stats.MaxInFlight {
		l.stats.MaxInFlight = f
	}
	l.stats.Sent++
	l.mu.Unlock()

	syncAck := l.opt.WaitAck || l.opt.Capacity == 0
	h := header{typ: typeData, pid: l.pid, seq: seq, time: l.clock.Now(), acked: acked}
	if syncAck {
		h.flags = flagAckNow
	}
	need := HeaderLen + len(p)
	if cap(l.sbuf) < need {
		l.sbuf = make([]byte, need)
	}
	b := l.sbuf[:need]
	h.put(b)
	copy(b[HeaderLen:], p)
	if err := l.c.Send(b); err != nil {
		return err
	}
	if !syncAck {
		return nil
	}
	start := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	defer func() { l.stats.AckWaited += time.Since(start) }()
	for l.acked < seq {
		if err := l.sendState(); err != nil {
			return err
		}
		if !l.await(l.wdl) {
			return fmt.Errorf("%w waiting for the receiver to take message %d", ipclab.ErrTimeout, seq)
		}
	}
	return nil
}

// sendState is why a Send cannot go on, if it cannot; l.mu held.
func (l *Link) sendState() error {
	switch {
	case l.closed:
		return ipclab.ErrClosed
	case l.rerr != nil:
		return l.rerr
	case !l.wdl.IsZero() && !time.Now().Before(l.wdl):
		return ipclab.ErrTimeout
	}
	return nil
}

// Recv takes the next message; see ipclab.Conn.
func (l *Link) Recv(p []byte) (int, error) {
	l.recvMu.Lock()
	defer l.recvMu.Unlock()
	l.mu.Lock()
	for l.queued() == 0 {
		var err error
		switch {
		case l.closed:
			err = ipclab.ErrClosed
		case l.perr != nil:
			err, l.perr = l.perr, nil
		case l.rerr != nil:
			err = l.rerr
		case !l.rdl.IsZero() && !time.Now().Before(l.rdl):
			err = ipclab.ErrTimeout
		}
		if err == nil && !l.await(l.rdl) {
			err = ipclab.ErrTimeout
		}
		if err != nil {
			l.mu.Unlock()
			return 0, err
		}
	}
	m := l.queue[l.qhead]
	if len(m.payload) > len(p) {
		l.mu.Unlock()
		return 0, &ipclab.ShortBufferError{Size: len(m.payload), Buffer: len(p), Kept: true}
	}
	l.queue[l.qhead] = message{}
	if l.qhead++; l.qhead == len(l.queue) {
		l.queue, l.qhead = l.queue[:0], 0 // empty: reuse the array from its start
	}
	n := copy(p, m.payload)
	if len(l.free) < l.opt.window() {
		l.free = append(l.free, m.payload)
	}
	l.taken++
	l.stats.Received++
	if d := l.clock.Now() - m.h.time; d > 0 {
		l.stats.OneWaySumNs += d
		l.stats.OneWayMaxNs = max(l.stats.OneWayMaxNs, d)
	}
	ack := !l.opt.NoCredits && (m.h.flags&flagAckNow != 0 || l.taken-l.ackSent >= uint64(l.opt.batch()))
	if ack {
		l.ackSent = l.taken
	}
	taken := l.taken
	l.mu.Unlock()
	if ack {
		// The message is taken whatever happens to its acknowledgement: to
		// a peer that is gone it is moot; any other failure ends the link
		// for the calls that follow.
		if err := l.sendAck(taken); err != nil && !errors.Is(err, ipclab.ErrPeerGone) {
			l.mu.Lock()
			if l.rerr == nil {
				l.rerr = err
			}
			l.broadcast()
			l.mu.Unlock()
		}
	}
	return n, nil
}

func (l *Link) sendAck(taken uint64) error {
	l.ackMu.Lock()
	defer l.ackMu.Unlock()
	header{typ: typeAck, pid: l.pid, seq: taken}.put(l.abuf[:])
	return l.c.Send(l.abuf[:])
}

// Close closes the link and the underlying Conn; blocked calls return.
func (l *Link) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.broadcast()
		l.mu.Unlock()
		err = l.c.Close()
	})
	return err
}

func (l *Link) SetDeadline(t time.Time) error {
	l.SetReadDeadline(t)
	return l.SetWriteDeadline(t)
}

func (l *Link) SetReadDeadline(t time.Time) error {
	l.mu.Lock()
	l.rdl = t
	l.broadcast()
	l.mu.Unlock()
	return nil
}

func (l *Link) SetWriteDeadline(t time.Time) error {
	l.mu.Lock()
	l.wdl = t
	l.broadcast()
	l.mu.Unlock()
	return l.c.SetWriteDeadline(t)
}
