package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/record"
)

// A sender drives the measured part of a two-process case (latency,
// throughput, load) over a session, fills in what it measured, and says
// what the common end of the case needs.
type sender func(s Spec, ss *session, cs Case, r *record.Record) (sent, error)

// sent is a sender's account of the measured part.
type sent struct {
	u0 usage // this process's usage when the measured part began
	w0 *record.Waits
	// stream: one way, so the rate is taken from firstNs (this clock, at
	// the first measured send) to the receiver's last message, over
	// delivered measured messages; or, fromReport (a Drop link under
	// load), over those the receiver says it took.
	stream     bool
	firstNs    int64
	delivered  int
	fromReport bool
}

// runPair runs a case between this process, which sends, and a peer
// process, which receives (peer.go).
func (s Spec) runPair(ctx context.Context, cs Case, send sender) (record.Record, error) {
	r := s.newRecord(cs)
	ss, skipped, err := s.openSession(ctx, cs, PeerRole, func(addr string, cpu int) []string {
		return PeerArgs(addr, cs.Mode, r.Count, r.Warmup, cs.Size, cpu, cs.Link.String(), cs.Held)
	})
	if err != nil || skipped != "" {
		r.Skipped = skipped
		return r, err
	}
	defer ss.close()
	r.InjectedDelayNs = int64(s.Delay[cs.Transport])
	steal0 := stealTicks()
	collectBeforeCase()
	st, err := send(s, ss, cs, &r)
	if err != nil {
		return r, ss.caseErr(err, s.CaseTimeout)
	}
	r.Sender = costSince(st.u0, r.Count)
	r.SenderWaits = waitsSince(st.w0, ss.conn)
	r.StealMs = (stealTicks() - steal0) * 10
	rep, err := ss.report(s.CaseTimeout)
	if err != nil {
		return r, err
	}
	if rep.Held != cs.Held { // the record says both ends did
		return r, fmt.Errorf("the receiver's end held its waits: %v, want %v", rep.Held, cs.Held)
	}
	r.Receiver = rep.Cost
	r.ReceiverWaits = rep.Waits
	r.OneWay = rep.OneWay
	r.LinkSender, r.LinkReceiver = linkStats(ss.conn), rep.Link
	if !st.stream {
		return r, nil
	}
	delivered := st.delivered
	if st.fromReport {
		delivered = rep.Measured
	}
	r.ElapsedNs = rep.LastNs - st.firstNs
	if r.ElapsedNs <= 0 {
		return r, fmt.Errorf("throughput clock went backwards: first send %d, last receive %d", st.firstNs, rep.LastNs)
	}
	sec := float64(r.ElapsedNs) / 1e9
	r.MsgsPerSec = float64(delivered) / sec
	r.MBPerSec = float64(delivered*cs.Size) / sec / 1e6
	return r, nil
}

// report reads the peer's report and waits for it to exit.
func (ss *session) report(timeout time.Duration) (peerReport, error) {
	var rep peerReport
	line, err := ss.peer.ReadLine(timeout)
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		return rep, fmt.Errorf("peer report %q: %w", line, err)
	}
	return rep, ss.peer.Wait(timeout)
}

// streamBatches is stream through SendBatch, cs.Batch messages a call
// (the warm-up as well), on a raw transport that can.
func streamBatches(ss *session, cs Case, r *record.Record, st sent, msg []byte) (sent, error) {
	c, count, warm := ss.conn, r.Count, r.Warmup
	bs, ok := c.(ipclab.BatchSender)
	if !ok {
		return st, fmt.Errorf("%s cannot send in batches (no SendBatch)", cs.Transport)
	}
	batch := make([][]byte, cs.Batch)
	for i := range batch {
		batch[i] = msg
	}
	clock := NewClock()
	send := func(n int) error {
		for n > 0 {
			k, err := bs.SendBatch(batch[:min(n, len(batch))])
			if err != nil {
				return ss.peerErr("send batch: %w", err)
			}
			n -= k
		}
		return nil
	}
	if err := send(warm); err != nil {
		return st, err
	}
	st.u0 = readUsage()
	st.w0 = readWaits(c)
	st.firstNs = clock.Now()
	if err := send(count); err != nil {
		return st, err
	}
	buf := make([]byte, 64)
	n, err := c.Recv(buf)
	if err != nil {
		return st, ss.peerErr("receiver's confirmation: %w", err)
	}
	st.delivered, err = checkConfirmation(string(buf[:n]), c, count, warm, msg, false)
	return st, err
}

// pingPong is the latency mode's sender: it times each round trip, and
// stamps each message with its clock for the receiver's one-way figure.
func pingPong(s Spec, ss *session, cs Case, r *record.Record) (sent, error) {
	var st sent
	c, count, warm := ss.conn, r.Count, r.Warmup
	clock := NewClock()
	delay := s.Delay[cs.Transport]
	msg, buf := message(cs.Size), make([]byte, cs.Size)
	rtt := make([]float64, 0, record.RTTSamples(count))
	// One clock reading per round trip: each round trip ends where the
	// next begins, so the harness adds one reading and a store to each
	// sample (Env.SampleOverheadNs), not the four readings that timing
	// each one apart costs, which on shared memory were most of a
	// sub-microsecond round trip.
	prev := clock.Now()
	for i := 0; i < warm+count; i++ {
		if i == warm {
			st.u0 = readUsage()
			st.w0 = readWaits(c)
			prev = clock.Now()
		}
		stamp := prev
		if delay > 0 {
			spinFor(delay)
			stamp = clock.Now()
		}
		if cs.Size >= 8 {
			binary.LittleEndian.PutUint64(msg, uint64(stamp))
		}
		if err := sendOnLink(c, msg); err != nil {
			return st, ss.peerErr("send %d: %w", i, err)
		}
		n, err := c.Recv(buf)
		now := clock.Now()
		if err != nil || n != cs.Size {
			return st, ss.peerErr("reply %d: %d bytes, %v", i, n, err)
		}
		if i >= warm && !record.OneWaySampled(i-warm) {
			rtt = append(rtt, float64(now-prev))
		}
		prev = now
	}
	sum, err := record.Summarize(rtt)
	if err != nil {
		return st, err
	}
	r.RTT = &sum
	return st, nil
}

// stream is the throughput mode's sender: as fast as the channel takes
// them, then the receiver's confirmation of bytes and checksum.
func stream(s Spec, ss *session, cs Case, r *record.Record) (sent, error) {
	st := sent{stream: true, delivered: r.Count}
	c, count, warm := ss.conn, r.Count, r.Warmup
	clock := NewClock()
	delay := s.Delay[cs.Transport]
	msg := message(cs.Size)
	if cs.Batch > 0 {
		return streamBatches(ss, cs, r, st, msg)
	}
	for i := 0; i < warm+count; i++ {
		if i == warm {
			st.u0 = readUsage()
			st.w0 = readWaits(c)
			st.firstNs = clock.Now()
		}
		if delay > 0 {
			spinFor(delay)
		}
		if err := sendOnLink(c, msg); err != nil {
			return st, ss.peerErr("send %d: %w", i, err)
		}
	}
	drops := cs.Link.Drops()
	if drops {
		if err := endStream(c, cs.Size); err != nil {
			return st, err
		}
	}
	buf := make([]byte, 64)
	n, err := c.Recv(buf)
	if err != nil {
		return st, ss.peerErr("receiver's confirmation: %w", err)
	}
	st.delivered, err = checkConfirmation(string(buf[:n]), c, count, warm, msg, drops)
	return st, err
}
