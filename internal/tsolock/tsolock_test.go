package tsolock

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Main(m) }

// TestMutualExclusion: goroutines contending for one Mutex (more of them
// than CPUs, so some park and get the lock handed over) never overlap,
// and a plain counter they increment under it ends exact.
func TestMutualExclusion(t *testing.T) {
	testmain.Watchdog(t, 2*time.Minute)
	for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
		old := runtime.GOMAXPROCS(procs)
		var m Mutex
		var inside atomic.Int32
		counter := 0
		const goroutines, each = 8, 20000
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for i := range each {
					m.Lock()
					if n := inside.Add(1); n != 1 {
						t.Errorf("GOMAXPROCS %d: %d goroutines inside at once", procs, n)
					}
					counter++
					if i%500 == 0 {
						time.Sleep(10 * time.Microsecond) // a holder that makes others park
					}
					inside.Add(-1)
					m.Unlock()
				}
			})
		}
		wg.Wait()
		runtime.GOMAXPROCS(old)
		if counter != goroutines*each {
			t.Errorf("GOMAXPROCS %d: counter %d, want %d", procs, counter, goroutines*each)
		}
	}
}

// TestWaiterNotStarved: a goroutine that takes the lock again as soon as
// it lets go (a Send loop) does not keep a second one out: the second
// gets in, again and again, while the first goes on.
func TestWaiterNotStarved(t *testing.T) {
	testmain.Watchdog(t, 2*time.Minute)
	var m Mutex
	var stop atomic.Bool
	var loops atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			m.Lock()
			loops.Add(1)
			m.Unlock()
		}
	}()
	for loops.Load() < 1000 { // the loop is going
		runtime.Gosched()
	}
	// We take the lock 200 times and the loop 1,000 more: if either side
	// starves the other this never ends, and the watchdog fails the test.
	before := loops.Load()
	for i := 0; i < 200 || loops.Load() < before+1000; i++ {
		m.Lock()
		m.Unlock()
	}
	stop.Store(true)
	<-done
}
