package ipclab_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/internal/cpupin"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/record"
	"github.com/ipclab/ipclab/shmchan"
	"github.com/ipclab/ipclab/transports"
)

// The paths beyond one Send a message with the ends wherever the
// scheduler puts them: a shared-memory stream through SendBatch (the
// harness's -batch), both ends pinned as the harness's -pin split and
// -pin same place them, and the shared-memory channel's waits as metrics.

// streamBatch is the messages per SendBatch call of BenchmarkStreamBatch.
const streamBatch = 64

// BenchmarkStreamBatch: Stream over every transport that can send in
// batches (the shared-memory ones), streamBatch messages per SendBatch
// call, to the harness's receiver: the tuned figure beside Stream's one
// Send a message (`ipclab bench -batch 64`).
//
//	go test -run '^$' -bench 'Stream(Batch)?/sysvshm-futex/64B' -count 6
func BenchmarkStreamBatch(b *testing.B) {
	for _, t := range transports.All() {
		if t.Alias != "" || !t.Batch {
			continue
		}
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s/%s", t.Name, sizeName(size)), func(b *testing.B) {
				benchStreamOn(b, t.Name, "raw", size, -1, streamBatch, false)
			})
		}
	}
}

// pinnedSizes are the sizes measured at each placement: the and
// the reference study's 64 B and 4 KiB.
var pinnedSizes = []int{64, 4 << 10}

// BenchmarkPingPongPinned: PingPong at the harness's placements, this
// process (the sender) and the peer pinned as `ipclab bench -pin split`
// (the first two CPUs this process may use) and `-pin same` (both on the
// first) pin them, and for every transport that can hold its waits, with
// both ends holding them (…/held, the harness's -held rows). Split is
// skipped on a machine that gives this process one CPU.
func BenchmarkPingPongPinned(b *testing.B) {
	for _, pl := range []bench.Placement{bench.PinSplit, bench.PinSame} {
		for _, t := range transports.All() {
			if t.Alias != "" {
				continue
			}
			for _, size := range pinnedSizes {
				b.Run(fmt.Sprintf("%s/%s/%s", pl, t.Name, sizeName(size)), func(b *testing.B) {
					benchPingPongOn(b, t.Name, "raw", size, pin(b, pl), false)
				})
				if t.HeldWaits {
					b.Run(fmt.Sprintf("%s/%s/%s/held", pl, t.Name, sizeName(size)), func(b *testing.B) {
						benchPingPongOn(b, t.Name, "raw", size, pin(b, pl), true)
					})
				}
			}
		}
	}
}

// BenchmarkStreamPinned: Stream at the harness's placements, with held
// waits where the transport can hold them (…/held), and for the
// shared-memory transports StreamBatch too (…/batch-64).
func BenchmarkStreamPinned(b *testing.B) {
	for _, pl := range []bench.Placement{bench.PinSplit, bench.PinSame} {
		for _, t := range transports.All() {
			if t.Alias != "" {
				continue
			}
			for _, size := range pinnedSizes {
				b.Run(fmt.Sprintf("%s/%s/%s", pl, t.Name, sizeName(size)), func(b *testing.B) {
					benchStreamOn(b, t.Name, "raw", size, pin(b, pl), 0, false)
				})
				if t.HeldWaits {
					b.Run(fmt.Sprintf("%s/%s/%s/held", pl, t.Name, sizeName(size)), func(b *testing.B) {
						benchStreamOn(b, t.Name, "raw", size, pin(b, pl), 0, true)
					})
				}
				if t.Batch {
					b.Run(fmt.Sprintf("%s/%s/%s/batch-%d", pl, t.Name, sizeName(size), streamBatch), func(b *testing.B) {
						benchStreamOn(b, t.Name, "raw", size, pin(b, pl), streamBatch, false)
					})
				}
			}
		}
	}
}

// pin pins every thread of this process to the sender's CPU of placement
// pl until b ends, as the harness pins its sending process, and returns
// the CPU for the peer. It skips split where this process may use one CPU.
func pin(b *testing.B, pl bench.Placement) (peerCPU int) {
	allowed, err := cpupin.Allowed()
	if err != nil {
		b.Fatal(err)
	}
	if pl == bench.PinSplit && len(allowed) < 2 {
		b.Skipf("placement split needs two CPUs; this process may use %v", allowed)
	}
	restore, err := cpupin.Current()
	if err != nil {
		b.Fatal(err)
	}
	if err := cpupin.ProcessTo(allowed[0]); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cpupin.Process(&restore) })
	if pl == bench.PinSplit {
		return allowed[1]
	}
	return allowed[0]
}

// shmWaits returns the wait counts of c's shared-memory channel, both
// directions summed, or nil when c is not one (another transport, a link
// over one) or its strategy waits in semaphores, which are not counted.
func shmWaits(c ipclab.Conn) *record.WaitCounts {
	ch, ok := c.(interface{ Chan() *shmchan.Chan })
	if !ok {
		return nil
	}
	switch ch.Chan().Strategy() {
	case shmchan.SysVSem, shmchan.PosixSem:
		return nil
	}
	r, s := ch.Chan().WaitStats()
	sum := record.WaitCounts(r).Plus(record.WaitCounts(s))
	return &sum
}

// reportWaits reads the harness receiver's report (its last line), and
// when this end's waits were counted from w0 (shmWaits) reports both
// ends' waits per op (a message, or a round trip as the harness counts
// them): spins/msg (waits that spun), spins-lost/msg (spins that ran out
// of budget and slept after all), sleeps/msg (futex or eventfd sleeps)
// wakes/msg (the wake-up calls made for the other end's sleeps) and
// barriers/msg (the membarriers a consumer made for a producer that
// skipped its own), the two processes summed: what the adaptive wait did,
// where latency alone cannot tell. A sleep never woken though its message
// had come (LateWakes) fails the benchmark.
func reportWaits(b *testing.B, c ipclab.Conn, w0 *record.WaitCounts, p *testmain.Peer) {
	line, err := p.ReadLine(time.Minute)
	if w0 == nil {
		return // a failed peer is reported by its Wait
	}
	if err != nil {
		b.Fatalf("receiver's report: %v (peer: %s)", err, p.Stderr())
	}
	var rep struct {
		Waits *record.Waits `json:"waits"`
	}
	if err := json.Unmarshal([]byte(line), &rep); err != nil || rep.Waits == nil {
		b.Fatalf("receiver's report %q has no waits (%v)", line, err)
	}
	w := shmWaits(c)
	r := rep.Waits
	per := func(this, this0, recv, send uint64) float64 { return float64(this-this0+recv+send) / float64(b.N) }
	b.ReportMetric(per(w.Spins, w0.Spins, r.Recv.Spins, r.Send.Spins), "spins/msg")
	b.ReportMetric(per(w.SpinsLost, w0.SpinsLost, r.Recv.SpinsLost, r.Send.SpinsLost), "spins-lost/msg")
	b.ReportMetric(per(w.Sleeps, w0.Sleeps, r.Recv.Sleeps, r.Send.Sleeps), "sleeps/msg")
	b.ReportMetric(per(w.Wakes, w0.Wakes, r.Recv.Wakes, r.Send.Wakes), "wakes/msg")
	b.ReportMetric(per(w.Barriers, w0.Barriers, r.Recv.Barriers, r.Send.Barriers), "barriers/msg")
	if late := w.LateWakes - w0.LateWakes + r.Recv.LateWakes + r.Send.LateWakes; late != 0 {
		b.Errorf("%d sleeps were never woken though what they waited for had come (LateWakes): a lost wake-up", late)
	}
}
