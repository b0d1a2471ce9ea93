package link

import (
	"fmt"
	"time"

	"github.com/ipclab/ipclab"
)

// Send sends p with the link's semantics (see the package comment).
func (l *Link) Send(p []byte) error {
	if len(p) > l.maxMsg {
		return l.tooLarge(len(p))
	}
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.sendState(); err != nil {
		return err
	}
	cost := 0
	if !l.opt.NoCredits {
		var err error
		if cost, err = l.prepare(len(p)); err != nil {
			return err
		}
	}
	switch {
	case l.opt.Strict:
		if err := l.awaitGrant(); err != nil {
			return err
		}
	case !l.opt.NoCredits && !l.room(cost):
		if l.opt.Full != Block {
			l.collectAcks(cost)
		}
		if !l.room(cost) {
			if err := l.full(cost); err != nil || l.opt.Full == Drop {
				return err
			}
		}
	}

	l.nextSeq++
	seq, acked := l.nextSeq, l.acked
	if l.opt.Strict {
		acked = l.granted
	}
	if !l.opt.NoCredits && !l.opt.Strict {
		l.costs[seq%uint64(len(l.costs))] = cost
		l.inFlight += cost
		l.maxCost = max(l.maxCost, cost)
	}
	syncAck := l.opt.WaitAck || l.opt.Capacity == 0 && !l.opt.Strict
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
	dl := l.wdl
	l.mu.Unlock()
	l.wireMu.Lock()
	l.setWireDeadline(dl)
	err := l.c.Send(b)
	l.wireMu.Unlock()
	l.mu.Lock()
	if err != nil {
		// Nothing was transmitted: the sequence number and the room go back.
		if l.acked < seq && l.nextSeq == seq {
			l.nextSeq--
			if !l.opt.NoCredits && !l.opt.Strict {
				l.inFlight -= cost
				l.costs[seq%uint64(len(l.costs))] = 0
			}
		}
		return err
	}
	l.stats.Sent++
	if f := seq - l.acked; f > l.stats.MaxInFlight && !l.opt.NoCredits && !l.opt.Strict {
		l.stats.MaxInFlight = f
	}
	if l.b.buffered && l.b.limit == 0 {
		l.refreshBytes() // a FIFO is connected now: learn its pipe's size
	}
	if !syncAck {
		return nil
	}
	start := time.Now()
	defer func() { l.stats.AckWaited += time.Since(start) }()
	for seen := l.events; l.acked < seq; seen = l.events {
		if err := l.sendState(); err != nil {
			return err
		}
		if !l.await(&l.wdl, seen) {
			return fmt.Errorf("%w waiting for the receiver to take message %d (it was transmitted and may still be taken)", ipclab.ErrTimeout, seq)
		}
	}
	return nil
}

// prepare returns the cost of a message of n payload bytes and makes sure
// the transport's buffer can hold it when the link is empty: growing a
// pipe if it must, or refusing it. l.mu held.
func (l *Link) prepare(n int) (int, error) {
	if !l.b.buffered {
		return 0, nil
	}
	if l.b.limit == 0 {
		l.refreshBytes()
	}
	cost := l.b.buf.Cost(HeaderLen+n) + l.b.perMsg
	if l.b.limit == 0 || l.b.fits(0, cost, l.maxCost, l.b.limit) {
		return cost, nil
	}
	if ps, ok := l.c.(ipclab.PipeSizer); ok && l.b.buf.Grow > l.b.buf.Bytes {
		want := l.b.buf.Bytes
		for want < l.b.buf.Grow && !l.b.fits(0, cost, l.maxCost, l.b.limitFor(want)) {
			want *= 2
		}
		want = min(want, l.b.buf.Grow)
		if _, err := ps.SetPipeSize(want); err != nil {
			return 0, fmt.Errorf("link: a %d-byte message needs a %d-byte pipe: %w", n, want, err)
		}
		l.refreshBytes()
		if l.b.fits(0, cost, l.maxCost, l.b.limit) {
			return cost, nil
		}
	}
	return 0, l.tooLarge(n)
}

// refreshBytes asks the transport its buffer's size again; l.mu held.
func (l *Link) refreshBytes() {
	l.b.setBytes(l.c.(ipclab.Buffered).Buffer())
}

func (l *Link) tooLarge(n int) error {
	name := "the transport's maximum less the 32-byte link header"
	if l.b.buffered && l.maxMsg < l.c.MaxMessageSize()-HeaderLen {
		name = fmt.Sprintf("what the %s holds with the link's header and acknowledgements", l.b.describe(l.c.Addr().Transport()))
	}
	return &ipclab.TooLargeError{Size: n, Limit: l.maxMsg, Name: name,
		Raise: "raise the transport's limit (see its error, or ipclab limits, for the sysctl or option)"}
}

// room is whether a message of this cost may be transmitted now; l.mu held.
func (l *Link) room(cost int) bool {
	if l.nextSeq-l.acked >= uint64(l.b.window) {
		return false
	}
	return l.b.limit == 0 || l.b.fits(l.inFlight, cost, l.maxCost, l.b.limit)
}

// full applies the policy to a full link: Drop counts the message (it
// returns nil, and the caller returns too), Fail returns ErrFull, Block
// waits for room. l.mu held.
func (l *Link) full(cost int) error {
	if l.nextSeq-l.acked < uint64(l.b.window) {
		l.stats.FullByBytes++
	}
	switch l.opt.Full {
	case Drop:
		l.stats.Sent++
		l.stats.Dropped++
		return nil
	case Fail:
		return ErrFull
	}
	start := time.Now()
	l.stats.CreditWaits++
	defer func() { l.stats.CreditWaited += time.Since(start) }()
	for seen := l.events; !l.room(cost); seen = l.events {
		if err := l.sendState(); err != nil {
			return err
		}
		if err := l.requestAck(); err != nil {
			return err
		}
		if !l.await(&l.wdl, seen) {
			return ipclab.ErrTimeout
		}
	}
	return nil
}

// requestAck asks the receiver to acknowledge what it took, when the
// link is full by bytes with fewer messages in flight than the window: the
// receiver may hold fewer than a credit batch and would not acknowledge
// them on its own. One request at a time (the budget keeps room for it).
// l.mu held.
func (l *Link) requestAck() error {
	if l.nextSeq-l.acked >= uint64(l.b.window) || l.reqSeen != l.reqSent || l.nextSeq == l.acked {
		return nil
	}
	l.reqSent++
	if err := l.writeControl(typeAckReq, l.reqSent, l.wdl); err != nil {
		l.reqSent--
		return err
	}
	return nil
}

// awaitGrant waits until the receiver has asked for the next message
// (strict rendezvous); l.mu held.
func (l *Link) awaitGrant() error {
	if l.granted > l.nextSeq {
		return nil
	}
	start := time.Now()
	l.stats.CreditWaits++
	defer func() { l.stats.CreditWaited += time.Since(start) }()
	for seen := l.events; l.granted <= l.nextSeq; seen = l.events {
		if err := l.sendState(); err != nil {
			return err
		}
		if !l.await(&l.wdl, seen) {
			return fmt.Errorf("%w waiting for the receiver to ask for message %d (nothing was transmitted)", ipclab.ErrTimeout, l.nextSeq+1)
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
