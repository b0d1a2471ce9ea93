package ipclab_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/bench"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/transports"
)

// TestSteadyStateAllocs: once a channel runs, a message costs no
// allocation: Send and Recv of round trips
// between this process and the harness's receiver (a second process)
// allocate nothing here. It counts the process's allocations
// (runtime.MemStats.Mallocs) over all the round trips rather than
// testing.AllocsPerRun's average, which rounds down (0.6 a run reads as
// 0), and allows maxAllocsPerTrip of them: the Go runtime allocates now
// and then on its own (about 7 objects for each OS thread it starts when
// a blocking system call holds one), which a per-message or per-wait
// allocation exceeds many times over. It times nothing. The benchmarks'
// allocs/op include start-up; this is the contract. A deadline is set, as
// the harness sets its case timeout: a wait with a timeout must not
// allocate one either (it did: a Timespec per kernel wait in shmchan and
// posixmq, a timer per blocked msgrcv in sysvmsg).
func TestSteadyStateAllocs(t *testing.T) {
	testmain.Watchdog(t, 3*time.Minute)
	const warm, runs, maxAllocsPerTrip = 1000, 2000, 0.05
	for _, tr := range transports.All() {
		if tr.Alias != "" {
			continue
		}
		for _, v := range []struct {
			size int
			held bool
		}{{64, false}, {4 << 10, false}, {64, true}, {4 << 10, true}} {
			size, held := v.size, v.held
			if held && !tr.HeldWaits {
				continue
			}
			name := fmt.Sprintf("%s/%s", tr.Name, sizeName(size))
			if held {
				name += "/held"
			}
			t.Run(name, func(t *testing.T) {
				if raceEnabled {
					t.Skip("the race detector's instrumentation makes values escape that do not otherwise")
				}
				c, p := measuredPair(t, tr.Name, size, held, bench.PeerArgs("", bench.Latency, warm+runs, 0, size, -1, "raw", held))
				msg, buf := make([]byte, size), make([]byte, size)
				var err error
				roundTrips := func(k int) {
					for range k {
						if err = c.Send(msg); err != nil {
							return
						}
						var n int
						if n, err = c.Recv(buf); err != nil {
							return
						}
						if n != size {
							err = fmt.Errorf("a reply of %d bytes, want %d", n, size)
							return
						}
					}
				}
				// The warm-up also lets one-time work pass: the creator
				// removing the names once it sees the opener (shmchan's
				// maybeWatchOpener), and a first GC starting its
				// background workers, which allocate.
				roundTrips(warm)
				allocs := mallocsDuring(func() {
					if err == nil {
						roundTrips(runs)
					}
				})
				if err != nil {
					t.Fatalf("round trip: %v (peer: %s)", err, p.Stderr())
				}
				p.ReadLine(time.Minute) // the receiver's report
				if err := p.Wait(time.Minute); err != nil {
					t.Fatal(err)
				}
				if float64(allocs) > maxAllocsPerTrip*runs {
					t.Errorf("%d allocations in %d round trips (a Send and a Recv each), want none (at most %g the runtime's own)", allocs, runs, maxAllocsPerTrip*runs)
				}
			})
		}
	}
}

// TestSteadyStateStreamAllocs: as TestSteadyStateAllocs, for a sender
// that streams to the harness's receiver and so now and then waits for
// room, a path a round trip never takes. It is a coarse guard: it
// catches an allocation per 100 messages or more; an allocation per wait
// for room can stay under that when waits are rare (posixsem's did), which
// transports/posixshm's TestStreamThroughASmallRingAllocatesNothing
// catches with a small ring.
func TestSteadyStateStreamAllocs(t *testing.T) {
	testmain.Watchdog(t, 3*time.Minute)
	const size, warm, runs, maxAllocsPerMsg = 64, 2000, 20000, 0.01
	for _, tr := range transports.All() {
		if tr.Alias != "" {
			continue
		}
		for _, held := range []bool{false, true} {
			if held && !tr.HeldWaits {
				continue
			}
			name := tr.Name
			if held {
				name += "/held"
			}
			t.Run(name, func(t *testing.T) {
				if raceEnabled {
					t.Skip("the race detector's instrumentation makes values escape that do not otherwise")
				}
				c, p := measuredPair(t, tr.Name, size, held, bench.PeerArgs("", bench.Throughput, runs, warm, size, -1, "raw", held))
				msg := make([]byte, size)
				var err error
				send := func(k int) {
					for range k {
						if err = c.Send(msg); err != nil {
							return
						}
					}
				}
				send(warm)
				allocs := mallocsDuring(func() {
					if err == nil {
						send(runs)
					}
				})
				if err != nil {
					t.Fatalf("send: %v (peer: %s)", err, p.Stderr())
				}
				buf := make([]byte, 128)
				if _, err := c.Recv(buf); err != nil { // the receiver's confirmation
					t.Fatalf("confirmation: %v (peer: %s)", err, p.Stderr())
				}
				p.ReadLine(time.Minute) // the receiver's report
				if err := p.Wait(time.Minute); err != nil {
					t.Fatal(err)
				}
				if float64(allocs) > maxAllocsPerMsg*runs {
					t.Errorf("%d allocations in %d Sends into a full channel, want none (at most %g the runtime's own)", allocs, runs, maxAllocsPerMsg*runs)
				}
			})
		}
	}
}

// measuredPair is a raw channel to the harness's receiver (peerArgs:
// bench.PeerArgs, the address left out), held or not, with a deadline as
// a user's end might have (a wait with a timeout must not allocate one),
// skipped where size is beyond the transport.
func measuredPair(t *testing.T, transport string, size int, held bool, peerArgs []string) (ipclab.Conn, *testmain.Peer) {
	t.Helper()
	c, p := linkPair(t, transport, "raw", size, bench.PeerRole, peerArgs[1:])
	if held {
		if err := c.(ipclab.WaitHolder).HoldWaits(true); err != nil {
			t.Fatal(err)
		}
	}
	if size > c.MaxMessageSize() {
		t.Skipf("%d bytes is beyond %s's %d", size, transport, c.MaxMessageSize())
	}
	if err := c.SetDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return c, p
}

// mallocsDuring is the process's allocations (runtime.MemStats.Mallocs)
// while f runs, after a collection has let the runtime's own one-time work
// pass.
func mallocsDuring(f func()) uint64 {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.Mallocs - m0.Mallocs
}
