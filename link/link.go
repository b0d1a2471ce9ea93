// Package link layers the link semantics of the course material over any
// duplex ipclab.Conn, and is itself an ipclab.Conn:
//
//   - capacity 0, a rendezvous: Send returns only once the receiver has
//     taken the message; whoever arrives first waits. Two forms:
//     the hand-shake rendezvous (mode "rendezvous") transmits at once and
//     waits for the receiver's acknowledgement of the take; the strict
//     rendezvous (mode "strict", Options.Strict) transmits only once the
//     receiver waits for it: its Recv sends a grant (clear-to-send), the
//     Send waits for the grant, then transmits. A strict Send returns once
//     it has transmitted, not once the message is taken; and a strict Recv
//     that times out leaves its grant standing, so the next Send may
//     transmit with no Recv waiting (the message waits for the next Recv);

//   - capacity n > 0, bounded and asynchronous: at most n messages sent
//     whose take the sender has not yet heard of; on a full link Send
//     blocks, drops the message (and counts it), or fails with ErrFull;
//   - acknowledgements: the receiver acknowledges what it takes
//     (cumulatively); a sender can wait for each (WaitAck) and always knows
//     how many were acknowledged (Stats.Acked);
//   - flow control: those acknowledgements are credits, returned in batches
//     (CreditBatch, half the window by default, one per take with the Drop
//     and Fail policies so that they fire at exactly Capacity untaken
//     messages), like yamux's window updates; a sender never exceeds its
//     window, and a receiver reports a peer that does as a *ProtocolError;
//   - ordering: every message carries the producer's pid, a sequence
//     number and a CLOCK_MONOTONIC timestamp; the receiver counts gaps,
//     duplicates and reordering per producer (Stats). Nothing is silent.
//
// What a failed Send means. A Send that returns an error transmitted
// nothing and consumed no sequence number, except: the hand-shake
// rendezvous and WaitAck transmit before they wait, so one that fails
// while waiting for its acknowledgement (a deadline) may still be taken
// by a later Recv; the strict rendezvous never has that ambiguity. A
// message dropped by policy consumes no sequence number either: drops are
// counted by the sender (Stats.Dropped), not seen as gaps by the receiver.
// Rendezvous and ack-N put exactly the same messages on the wire (data,
// then its acknowledgement); they differ only in how many a sender may
// have unacknowledged before it waits.
//
// # Why the link cannot deadlock
//
// The transport says how much it buffers (ipclab.Buffered: messages and
// bytes per direction, or one buffer for both as a SysV queue). From it
// the link derives a window and a byte budget (see budget) such that
// everything the protocol can have inside the transport at once fits:
// each end's data in flight, and at most one unread acknowledgement or
// grant per message in flight (they are cumulative and strictly
// increasing). A data Send transmits only when its message fits that
// budget, and otherwise waits for credit in the link, reading (so it
// consumes the peer's acknowledgements and data meanwhile), never in the
// transport; a message that cannot fit even an empty link is refused
// (*ipclab.TooLargeError), or the pipe is grown to take it. So no write,
// data or acknowledgement, ever waits for room inside the transport,
// whatever the other end does within the protocol. Acknowledgements are
// written under their own short lock, never behind a Send waiting for
// credit; a data write holding the lock completes without waiting.
// Reading never waits for writing. A sender held back by bytes with fewer
// messages in flight than a credit batch asks for an acknowledgement (one
// request at a time, room reserved), so credit always comes back once the
// receiver has taken what is in flight. Hence one-way traffic progresses
// as long as the receiver calls Recv, and duplex traffic as long as each
// end calls Recv: a Send waits only for its peer's takes, which is the
// link's capacity at work. The window may be smaller than Capacity when the
// transport holds less (a POSIX queue of 10 messages gives 4 per
// direction): Stats.Capacity and Stats.CapacityLimit report that.
// Over a Conn that does not implement Buffered the link trusts Capacity
// and gives no such guarantee.
//
// Deadlines apply per call: a Send's write deadline bounds that Send (its
// wait for credit and its write), a Recv's read deadline that Recv. An
// acknowledgement sent on behalf of a Recv never uses the write deadline;
// one that cannot be written is owed and sent by the next Recv, and does
// not poison later calls (Stats.AckRetries counts them).
//
// Against a misbehaving peer state stays bounded: read-ahead is at most
// the window the peer was granted (beyond it: a *ProtocolError, the
// message discarded), and ordering is tracked for at most maxProducers
// producers (beyond: Stats.Untracked).
//
// The raw transport stays available: a Link is only added on request.
// Acknowledgements and the peer's data share the underlying Conn, and
// whichever call needs the next message reads it (one at a time; the
// others wait for it): a Recv reads its own message, a Send waiting for
// credit reads until the acknowledgement comes and queues any data it
// meets. No goroutine stands between the caller and the transport, so a
// link costs its protocol, not scheduler hand-offs.
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
	Capacity      int    `json:"capacity"`                 // the window in force: Options.Capacity, or less (CapacityLimit says why)
	CapacityLimit string `json:"capacity_limit,omitempty"` // what held the window below Options.Capacity
	BudgetBytes   int    `json:"budget_bytes,omitempty"`   // bytes (as the transport counts) our data in flight may take; 0: no byte bound known

	Sent        uint64 `json:"sent"`    // messages Send accepted (transmitted, or dropped by policy)
	Dropped     uint64 `json:"dropped"` // messages a full link dropped (policy Drop)
	Acked       uint64 `json:"acked"`   // of ours, acknowledged (taken) by the peer
	Received    uint64 `json:"received"`
	MaxInFlight uint64 `json:"max_in_flight"` // the most of ours ever transmitted but not acknowledged

	CreditWaits  uint64        `json:"credit_waits"`  // Sends that waited for credit (or, strict, for a grant)
	CreditWaited time.Duration `json:"credit_waited"` // ... and for how long in all
	FullByBytes  uint64        `json:"full_by_bytes"` // times the link was full by the byte budget, not the window
	AckWaited    time.Duration `json:"ack_waited"`    // time Sends spent waiting for their acknowledgement
	AcksSent     uint64        `json:"acks_sent"`     // acknowledgements (and grants) written
	AckRetries   uint64        `json:"ack_retries"`   // acknowledgements that could not be written at once and were owed

	Lost       uint64 `json:"lost"` // gaps in the producers' sequences not (yet) filled
	Duplicates uint64 `json:"duplicates"`
	Reordered  uint64 `json:"reordered"` // messages that arrived after a later one of the same producer
	Untracked  uint64 `json:"untracked"` // messages of producers beyond maxProducers, not order-checked

	ProtocolErrors uint64 `json:"protocol_errors"`
	HeaderBytes    int    `json:"header_bytes"`   // added to every message
	OneWayMaxNs    int64  `json:"one_way_max_ns"` // the longest one-way latency seen (producer's timestamp to Recv)
	OneWaySumNs    int64  `json:"one_way_sum_ns"` // their sum, for the mean over Received
}

type message struct {
	h       header
	payload []byte
}

// Link is one end of a link over a duplex Conn.
type Link struct {
	c      ipclab.Conn
	opt    Options
	pid    uint32
	clock  *monoclock.Clock
	maxMsg int

	sendMu sync.Mutex // serialises Sends and owns sbuf
	sbuf   []byte
	wireMu sync.Mutex // held around every write to c; owns abuf and wireDL
	abuf   [HeaderLen]byte
	wireDL time.Time  // the write deadline last set on c
	recvMu sync.Mutex // serialises Recvs
	readMu sync.Mutex // held by the one call reading c; owns rbuf
	rbuf   []byte

	mu       sync.Mutex // everything below
	changed  chan struct{}
	waiters  int       // calls in wait: a broadcast with none costs nothing
	events   uint64    // broadcasts so far, waiters or not (see await)
	reading  bool      // a call is in c.Recv
	readDL   time.Time // the read deadline last set on c
	b        budget
	nextSeq  uint64 // the last sequence number we transmitted
	acked    uint64 // messages of ours the peer took
	granted  uint64 // strict: messages the peer asked for
	costs    []int  // cost of our message seq in flight, at seq % window
	inFlight int    // their sum
	maxCost  int    // the largest cost ever in flight
	queue    []message
	qhead    int
	free     [][]byte // payload buffers of taken messages, for reuse
	taken    uint64   // messages our Recv took
	arrivals uint64   // data messages accepted from the peer
	ackSent  uint64   // the last cumulative acknowledgement (strict: grant) given
	ackOwed  bool     // ackSent could not be written yet, or a request wants it
	reqSent  uint64   // ack requests we sent
	reqSeen  uint64   // ... that the peer has answered (its acks echo them)
	reqRead  uint64   // the peer's ack requests we read
	order    map[uint32]*order
	rerr     error // the underlying Conn's terminal error
	perr     error // a protocol error to report from Recv
	closed   bool
	rdl      time.Time
	wdl      time.Time
	stats    Stats

	closeOnce sync.Once
}

var _ ipclab.Conn = (*Link)(nil)

// New wraps c, which both ends must wrap with the same Options. If the
// transport holds less than Options.Capacity messages can need, the window
// is smaller (Stats.Capacity, Stats.CapacityLimit); if it cannot hold even
// one message with its acknowledgement, New fails with an
// *ipclab.LimitError.
func New(c ipclab.Conn, opt Options) (*Link, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if c.MaxMessageSize() < HeaderLen {
		return nil, fmt.Errorf("link: the transport's largest message, %d bytes, cannot carry the %d-byte link header", c.MaxMessageSize(), HeaderLen)
	}
	b, err := newBudget(c, opt)
	if err != nil {
		return nil, err
	}
	l := &Link{c: c, opt: opt, pid: uint32(os.Getpid()), clock: monoclock.New(), changed: make(chan struct{}),
		order: map[uint32]*order{}, rbuf: make([]byte, c.MaxMessageSize()), b: b, costs: make([]int, b.window)}
	l.maxMsg = c.MaxMessageSize() - HeaderLen
	if most := max(b.buf.Bytes, b.buf.Grow); b.buffered && most > 0 {
		if !b.fits(0, b.buf.Cost(HeaderLen)+b.perMsg, 0, b.limitFor(most)) {
			return nil, &ipclab.LimitError{What: fmt.Sprintf("a link (%s) over %s", opt, c.Addr().Transport()), Name: b.describe(c.Addr().Transport()),
				Limit: most, Raise: "give the transport a larger buffer"}
		}
		l.maxMsg = min(l.maxMsg, b.largest(most, c.MaxMessageSize()))
	}
	l.stats.HeaderBytes = HeaderLen
	l.stats.Capacity = b.window
	if opt.Capacity == 0 || opt.NoCredits {
		l.stats.Capacity = opt.Capacity
	}
	l.stats.CapacityLimit = b.reason
	l.stats.BudgetBytes = b.limit
	return l, nil
}

// broadcast wakes every waiter; l.mu must be held.
func (l *Link) broadcast() {
	l.events++
	if l.waiters == 0 {
		return
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// wait releases l.mu until something changes or the deadline passes.
// l.mu must be held.
func (l *Link) wait(deadline time.Time) {
	ch := l.changed
	l.waiters++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.waiters--
	}()
	if deadline.IsZero() {
		<-ch
		return
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

// await makes progress towards what the caller waits for, which it checks
// with l.mu held: if no other call is reading c, it reads one message
// itself; otherwise it waits for that call to finish one. dl is the
// caller's deadline (l.rdl or l.wdl), read again after the wait, since
// it may have been moved meanwhile. It returns false once that deadline
// has passed. l.mu is held on entry and on return.
//
// seen is l.events when the caller last checked its condition. A caller
// may release l.mu after that check (to write an acknowledgement or a
// request), and a change it needs may come and be broadcast meanwhile;
// waiting then would wait past it, and reading would block in c.Recv with
// what it needs already filed: both ends of a duplex link did exactly that
// and stalled. So if anything changed since seen, await returns at once
// and the caller checks again.
func (l *Link) await(dl *time.Time, seen uint64) bool {
	switch {
	case l.events != seen:
	case !l.readMu.TryLock():
		l.wait(*dl)
	default:
		l.readOne(*dl)
		l.readMu.Unlock()
		l.broadcast() // another waiter may read next
	}
	return dl.IsZero() || time.Now().Before(*dl)
}

// collectAcks reads what has already arrived, without waiting for more,
// so a sender that never waits (policies Drop and Fail) still sees the
// credits it was granted. A read deadline in the past would refuse even
// data that is there, so each read may wait a microsecond. l.mu held.
func (l *Link) collectAcks(cost int) {
	for !l.room(cost) && l.readMu.TryLock() {
		acked := l.acked
		err := l.readOne(time.Now().Add(time.Microsecond))
		l.readMu.Unlock()
		l.broadcast()
		if err != nil || l.acked == acked && l.queued() == 0 {
			return // nothing more to read, or the read brought data, not credit
		}
	}
}

// kickReader makes a call blocked in c.Recv return (with a timeout the
// reader ignores), so that it re-reads with deadline t, just set, if that
// is earlier than the one it waits with. A later deadline needs no kick:
// the read times out early and the caller reads again. l.mu held.
func (l *Link) kickReader(t time.Time) {
	if l.reading && !t.IsZero() && (l.readDL.IsZero() || t.Before(l.readDL)) {
		past := time.Unix(1, 0)
		l.c.SetReadDeadline(past)
		l.readDL = past
	}
}

// queued is how many messages wait to be taken; l.mu held.
func (l *Link) queued() int { return len(l.queue) - l.qhead }

func (l *Link) protocolError(err error) {
	l.stats.ProtocolErrors++
	if l.perr == nil {
		l.perr = err
	}
}

// MaxMessageSize is the transport's largest message less the link header,
// or less if the transport's buffer cannot hold that with the link's
// acknowledgements (a SysV queue shared by both directions).
func (l *Link) MaxMessageSize() int { return l.maxMsg }

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
	s := l.stats
	s.BudgetBytes = l.b.limit
	return s
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

// SetReadDeadline bounds Recv calls, blocked ones included.
func (l *Link) SetReadDeadline(t time.Time) error {
	l.mu.Lock()
	l.rdl = t
	l.kickReader(t)
	l.broadcast()
	l.mu.Unlock()
	return nil
}

// SetWriteDeadline bounds Send calls, blocked ones included (their wait
// for credit or acknowledgement; a write inside the transport never waits
// for room when the transport is Buffered). It never reaches the
// acknowledgements a Recv sends.
func (l *Link) SetWriteDeadline(t time.Time) error {
	l.mu.Lock()
	l.wdl = t
	l.kickReader(t)
	l.broadcast()
	l.mu.Unlock()
	return nil
}
