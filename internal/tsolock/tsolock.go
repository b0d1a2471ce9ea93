//go:build !race

// Package tsolock is a mutex whose uncontended Lock and Unlock make one
// locked instruction between them, not two: Unlock is a release store
// (cpuops.StoreRelease32). Each locked instruction waits until every
// store before it is visible, and in a shared-memory channel those stores
// are the message's cache lines on their way to the peer's CPU, so each
// one costs up to a cache-line round trip; sync.Mutex makes two (CAS,
// then XADD), and a one-goroutine Send+Recv of 64 bytes spent 44% of its
// time in them.
//
// The price is in contention: a plain store cannot tell whether a waiter
// announced itself an instant before, so Unlock hands the lock to a
// waiter only if one is already parked (an unbuffered channel send), and
// a waiter that lost that race parks at most a bounded time before it
// looks again (1 µs, doubling up to maxPark). Waiters are neither lost
// nor starved: one that is parked when the holder unlocks gets the lock
// directly. Under the race detector, which does not see the release
// store, the package is sync.Mutex (tsolock_race.go).
package tsolock

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipclab/ipclab/internal/cpuops"
)

// maxPark is the longest a waiter parks before it looks at the lock
// again: what a lost hand-off can cost it.
const maxPark = time.Millisecond

// spinTries is how many times a waiter looks before it parks: a holder
// in the middle of a Send leaves within a few hundred nanoseconds.
const spinTries = 64

// Mutex is a mutual exclusion lock. Its zero value is unlocked; it must
// not be copied after first use.
type Mutex struct {
	state   uint32       // 0 unlocked, 1 locked
	waiters atomic.Int32 // goroutines in lockSlow
	// handoff passes the lock, still locked, from Unlock to a parked
	// waiter; made on first contention (the zero Mutex must work, and an
	// uncontended one never needs it).
	handoff     chan struct{}
	handoffOnce sync.Once
}

// Lock locks m, waiting while it is locked.
func (m *Mutex) Lock() {
	if atomic.CompareAndSwapUint32(&m.state, 0, 1) {
		return
	}
	m.lockSlow()
}

// TryLock locks m if it is unlocked, and reports whether it did.
func (m *Mutex) TryLock() bool { return atomic.CompareAndSwapUint32(&m.state, 0, 1) }

// Unlock unlocks m, or hands it to a parked waiter. Unlocking an unlocked
// Mutex is a run-time error, as for sync.Mutex.
func (m *Mutex) Unlock() {
	if atomic.LoadUint32(&m.state) != 1 {
		panic("tsolock: unlock of unlocked mutex")
	}
	if m.waiters.Load() != 0 {
		select {
		case m.channel() <- struct{}{}: // a parked waiter now holds it: state stays 1
			return
		default:
		}
	}
	cpuops.StoreRelease32(&m.state, 0)
}

func (m *Mutex) lockSlow() {
	m.waiters.Add(1)
	defer m.waiters.Add(-1)
	for range spinTries {
		if atomic.LoadUint32(&m.state) == 0 && atomic.CompareAndSwapUint32(&m.state, 0, 1) {
			return
		}
	}
	handoff := m.channel()
	park := time.Microsecond
	timer := time.NewTimer(park)
	defer timer.Stop()
	for {
		if atomic.CompareAndSwapUint32(&m.state, 0, 1) {
			return
		}
		select {
		case <-handoff:
			return // the holder handed it over, locked
		case <-timer.C:
		}
		park = min(2*park, maxPark)
		timer.Reset(park)
	}
}

// channel returns the hand-off channel, made on first contention.
func (m *Mutex) channel() chan struct{} {
	m.handoffOnce.Do(func() { m.handoff = make(chan struct{}) })
	return m.handoff
}
