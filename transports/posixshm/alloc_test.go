package posixshm

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/shmchan"
)

// TestStreamThroughASmallRingAllocatesNothing: a sender that keeps
// filling a small ring waits for room every few messages, and a wait
// must not allocate. posixsem's did (an error from each TryWait that
// found no token: about 1,900 allocations in 100,000 messages), which
// made the harness's posixshm-posixsem streams collect garbage while
// they were measured. Both ends are in this process: the count is of
// allocations, not of time.
func TestStreamThroughASmallRingAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation makes values escape that do not otherwise")
	}
	const n = 20000
	const maxAllocs = n / 200
	// eventfd: its descriptors are inherited by an opener process;
	// TestSteadyStateStreamAllocs covers it.
	for _, s := range []shmchan.Strategy{shmchan.Futex, shmchan.PosixSem, shmchan.Spin} {
		t.Run(s.String(), func(t *testing.T) {
			// The deadlines below end a stuck Send or Recv; this catches
			// what they cannot (Create, Open, a Close that never returns).
			testmain.Watchdog(t, 2*time.Minute)
			c, err := Create(NewName(), shmchan.Config{Strategy: s, RingSize: 4096})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			o, err := Open(c.Addr().String(), shmchan.AttachOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			deadline := time.Now().Add(time.Minute)
			c.SetDeadline(deadline)
			o.SetDeadline(deadline)
			recvd := make(chan error, 1)
			go func() {
				buf := make([]byte, 64)
				for i := 0; i < 2*n; i++ {
					if _, err := o.Recv(buf); err != nil {
						recvd <- fmt.Errorf("recv %d: %w", i, err)
						return
					}
				}
				recvd <- nil
			}()
			msg := make([]byte, 64)
			send := func() error {
				for i := 0; i < n; i++ {
					if err := c.Send(msg); err != nil {
						return fmt.Errorf("send %d: %w", i, err)
					}
				}
				return nil
			}
			if err := send(); err != nil { // warm-up: the opener seen, the names removed
				t.Fatal(err)
			}
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			err = send()
			runtime.ReadMemStats(&m1)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-recvd; err != nil {
				t.Fatal(err)
			}
			if allocs := m1.Mallocs - m0.Mallocs; allocs > maxAllocs {
				t.Errorf("%d allocations in %d Sends through a 4 KiB ring (and as many Recvs), want none (at most %d the runtime's own)", allocs, n, maxAllocs)
			}
		})
	}
}
