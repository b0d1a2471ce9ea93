//go:build !race

package tsolock

import (
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/testmain"
)

// Under the race detector Mutex is sync.Mutex, whose unlock of an
// unlocked mutex is a fatal error, not a panic, and which has no hand-off
// to test.

// TestHandoffKeepsItLocked: a waiter parked when the holder unlocks gets
// the lock handed over, still locked, so a TryLock right after the Unlock
// fails. A waiter between two parks (its timer fired) is not handed it;
// of 20 tries, one hand-off is enough, and none means it is broken.
func TestHandoffKeepsItLocked(t *testing.T) {
	testmain.Watchdog(t, time.Minute)
	handedOver := 0
	for range 20 {
		var m Mutex
		m.Lock()
		got := make(chan struct{})
		go func() {
			m.Lock()
			close(got)
		}()
		for m.waiters.Load() == 0 { // it is in lockSlow
			time.Sleep(time.Millisecond)
		}
		time.Sleep(5 * time.Millisecond) // past its spin, parked
		m.Unlock()
		if m.TryLock() { // it was not parked: we took it back
			m.Unlock()
		} else {
			handedOver++
		}
		<-got
		m.Unlock()
		if !m.TryLock() {
			t.Fatal("TryLock failed on an unlocked Mutex")
		}
		m.Unlock()
	}
	if handedOver == 0 {
		t.Error("no Unlock of 20 handed the lock to its parked waiter")
	}
}

func TestUnlockOfUnlockedPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Unlock of an unlocked Mutex did not panic")
		}
	}()
	var m Mutex
	m.Unlock()
}
