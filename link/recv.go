package link

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipclab/ipclab"
)

// ackGrace is how long an acknowledgement may take to write when the Recv
// it is sent for has a deadline: the budget leaves room for it, so only a
// peer that broke the protocol can make it wait at all.
const ackGrace = time.Second

// readOne reads one message from c and files it: an acknowledgement or
// grant updates the credits, data joins the queue. The caller holds readMu
// and l.mu; l.mu is released while c.Recv blocks.
func (l *Link) readOne(deadline time.Time) error {
	if !deadline.Equal(l.readDL) {
		l.c.SetReadDeadline(deadline)
		l.readDL = deadline
	}
	l.reading = true
	l.mu.Unlock()
	n, err := l.c.Recv(l.rbuf)
	l.mu.Lock()
	l.reading = false
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
	case h.typ == typeAck && !l.opt.Strict:
		// One bad message is one protocol error, and none of it applies.
		if h.acked > l.reqSent {
			l.protocolError(&ProtocolError{Reason: fmt.Sprintf("an acknowledgement answers %d requests; %d were sent", h.acked, l.reqSent)})
			break
		}
		if l.ackArrived(h.seq) && h.acked > l.reqSeen {
			l.reqSeen = h.acked
		}
	case h.typ == typeAckReq && !l.opt.Strict && !l.opt.NoCredits:
		if h.seq != l.reqRead+1 {
			l.protocolError(&ProtocolError{Reason: fmt.Sprintf("ack request %d after %d", h.seq, l.reqRead)})
			break
		}
		// Answer with everything taken so far (the next Recv writes it).
		l.reqRead = h.seq
		l.ackSent, l.ackOwed = l.taken, true
	case h.typ == typeGrant && l.opt.Strict:
		switch {
		case h.seq > l.nextSeq+1:
			l.protocolError(&ProtocolError{Reason: fmt.Sprintf("a grant of message %d; only %d were sent", h.seq, l.nextSeq)})
		case h.seq > l.granted:
			l.granted = h.seq
		}
	case h.typ != typeData:
		l.protocolError(&ProtocolError{Reason: fmt.Sprintf("message type %d in a %s link", h.typ, l.opt)})
	default:
		if err := l.admit(h); err != nil {
			l.protocolError(err)
			return nil
		}
		l.arrivals++
		l.arrived(h)
		var p []byte
		if k := len(l.free); k > 0 && cap(l.free[k-1]) >= n-HeaderLen {
			p, l.free = l.free[k-1][:0], l.free[:k-1]
		}
		l.queue = append(l.queue, message{h: h, payload: append(p, buf[HeaderLen:]...)})
	}
	return nil
}

// ackArrived takes a cumulative acknowledgement, and reports whether it
// was one (not a protocol error); l.mu held.
func (l *Link) ackArrived(seq uint64) bool {
	switch {
	case seq > l.nextSeq:
		l.protocolError(&ProtocolError{Reason: fmt.Sprintf("acknowledgement of %d messages; only %d were sent", seq, l.nextSeq)})
		return false
	case seq > l.acked:
		for s := l.acked + 1; s <= seq; s++ {
			i := s % uint64(len(l.costs))
			l.inFlight -= l.costs[i]
			l.costs[i] = 0
		}
		l.acked = seq
		l.stats.Acked = seq
	}
	return true
}

// admit checks a data message against the window the peer was given: what
// bounds the read-ahead, whatever the peer sends. l.mu held.
func (l *Link) admit(h header) error {
	switch {
	case l.opt.NoCredits:
		return nil
	case l.opt.Strict:
		if l.arrivals >= l.ackSent {
			return &ProtocolError{Reason: fmt.Sprintf("message %d arrived with %d granted: the peer sent without a grant", h.seq, l.ackSent)}
		}
	case h.acked > l.ackSent:
		return &ProtocolError{Reason: fmt.Sprintf("message %d claims %d acknowledgements; %d were sent", h.seq, h.acked, l.ackSent)}
	case h.seq > h.acked+uint64(l.b.window):
		return &ProtocolError{Reason: fmt.Sprintf("message %d sent with %d acknowledged and a window of %d: the peer overran its credit",
			h.seq, h.acked, l.b.window)}
	case l.arrivals-l.ackSent >= uint64(l.b.window):
		return &ProtocolError{Reason: fmt.Sprintf("%d messages arrived with %d acknowledged and a window of %d: the peer overran its credit (message discarded)",
			l.arrivals+1, l.ackSent, l.b.window)}
	}
	return nil
}

// Recv takes the next message; see ipclab.Conn.
func (l *Link) Recv(p []byte) (int, error) {
	l.recvMu.Lock()
	defer l.recvMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushAck()
	if l.opt.Strict && l.queued() == 0 && l.ackSent == l.taken && l.mayGrant() {
		// Clear to send: the receiver is waiting for message taken+1.
		l.ackSent = l.taken + 1
		if err := l.writeControl(typeGrant, l.ackSent, l.rdl); err != nil {
			l.ackSent = l.taken
			l.ackFailed(err)
			return 0, err
		}
	}
	for seen := l.events; l.queued() == 0; seen = l.events {
		l.flushAck()
		err := l.recvState()
		if err == nil && !l.await(&l.rdl, seen) {
			err = ipclab.ErrTimeout
		}
		if err != nil {
			return 0, err
		}
	}
	m := l.queue[l.qhead]
	if len(m.payload) > len(p) {
		return 0, &ipclab.ShortBufferError{Size: len(m.payload), Buffer: len(p), Kept: true}
	}
	l.queue[l.qhead] = message{}
	if l.qhead++; l.qhead == len(l.queue) {
		l.queue, l.qhead = l.queue[:0], 0 // empty: reuse the array from its start
	}
	n := copy(p, m.payload)
	if len(l.free) < l.b.window {
		l.free = append(l.free, m.payload)
	}
	l.taken++
	l.stats.Received++
	if d := l.clock.Now() - m.h.time; d > 0 {
		l.stats.OneWaySumNs += d
		l.stats.OneWayMaxNs = max(l.stats.OneWayMaxNs, d)
	}
	if !l.opt.NoCredits && !l.opt.Strict && (m.h.flags&flagAckNow != 0 || l.taken-l.ackSent >= uint64(l.opt.batch(l.b.window))) {
		// The message is taken whatever happens to its acknowledgement.
		l.ackSent, l.ackOwed = l.taken, true
		l.flushAck()
	}
	return n, nil
}

// mayGrant is whether a strict Recv may ask for the next message now;
// l.mu held.
func (l *Link) mayGrant() bool {
	return !l.closed && l.perr == nil && l.rerr == nil && (l.rdl.IsZero() || time.Now().Before(l.rdl))
}

// recvState is why a Recv on an empty link cannot go on, if it cannot;
// l.mu held.
func (l *Link) recvState() error {
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
	return err
}

// flushAck writes the acknowledgement owed, if any; l.mu held.
func (l *Link) flushAck() {
	if !l.ackOwed || l.closed {
		return
	}
	l.ackOwed = false
	if err := l.writeControl(typeAck, l.ackSent, l.rdl); err != nil {
		l.ackOwed = true
		l.ackFailed(err)
	}
}

// ackFailed files an acknowledgement or grant that could not be written:
// a timeout is retried by the next Recv; a peer that is gone makes it
// moot; anything else means the transport is broken. l.mu held.
func (l *Link) ackFailed(err error) {
	switch {
	case errors.Is(err, ipclab.ErrTimeout):
		l.stats.AckRetries++
	case errors.Is(err, ipclab.ErrPeerGone), errors.Is(err, ipclab.ErrClosed):
		l.ackOwed = false
	default:
		if l.rerr == nil {
			l.rerr = err
		}
		l.broadcast()
	}
}

// writeControl writes an acknowledgement, a grant or an ack request. It
// never waits behind data: a data write holds wireMu only while the
// budget guarantees its room. Its deadline is the call's own (a Recv's
// read deadline for what it sends), with ackGrace to spare: the budget
// keeps room for it, so only a peer that broke the protocol makes it
// wait. An acknowledgement echoes the ack requests read. l.mu held;
// released while writing.
func (l *Link) writeControl(typ uint8, val uint64, dl time.Time) error {
	h := header{typ: typ, pid: l.pid, seq: val}
	if typ == typeAck {
		h.acked = l.reqRead
	}
	if !dl.IsZero() {
		dl = later(dl, time.Now().Add(ackGrace))
	}
	l.mu.Unlock()
	l.wireMu.Lock()
	l.setWireDeadline(dl)
	h.put(l.abuf[:])
	err := l.c.Send(l.abuf[:])
	l.wireMu.Unlock()
	l.mu.Lock()
	if err == nil {
		l.stats.AcksSent++
	}
	return err
}

// setWireDeadline sets c's write deadline for the write about to be made;
// wireMu held.
func (l *Link) setWireDeadline(t time.Time) {
	if !t.Equal(l.wireDL) {
		l.c.SetWriteDeadline(t)
		l.wireDL = t
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
