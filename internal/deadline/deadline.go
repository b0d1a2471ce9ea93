// Package deadline stores a deadline that one goroutine sets while another
// is blocked reading it, for transports whose waits Go's poller cannot see.
package deadline

import (
	"sync"
	"sync/atomic"
	"time"
)

// Deadline is a time that may be read and set concurrently; the zero value
// means none.
//
// Two ways to ask whether it has passed: Passed reads the clock, for a
// caller about to wait; Expired reads a flag a timer sets, as Go's net
// package does, for the path that would not wait at all. Reading the clock
// costs about as much as sending a small message through shared memory,
// so the path that sends at once must not pay it on every call.
type Deadline struct {
	ns      atomic.Int64 // Unix ns, 0 for none
	expired atomic.Bool

	mu    sync.Mutex // orders Set against the timer
	gen   uint64     // which Set the running timer belongs to
	timer *time.Timer
}

// Set stores t; the zero time clears the deadline. A time already past
// expires the deadline at once, so the very next call fails.
func (d *Deadline) Set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopTimer()
	if t.IsZero() {
		d.ns.Store(0)
		d.expired.Store(false)
		return
	}
	d.ns.Store(t.UnixNano())
	until := time.Until(t)
	d.expired.Store(until <= 0)
	if until > 0 {
		gen := d.gen
		d.timer = time.AfterFunc(until, func() {
			d.mu.Lock()
			if d.gen == gen { // not a timer a later Set stopped too late
				d.expired.Store(true)
			}
			d.mu.Unlock()
		})
	}
}

// Stop stops the timer of a deadline that nobody will ask about again,
// for an end that closes: a pending timer keeps the deadline, and the
// end holding it with all its buffers, reachable until it fires, which
// may be minutes away. The deadline keeps its value; Expired no longer
// turns true by itself, and a later Set starts a timer again.
func (d *Deadline) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopTimer()
}

// stopTimer stops the pending timer, if any; a timer that fires anyway
// finds a newer generation and does nothing. d.mu held.
func (d *Deadline) stopTimer() {
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// Get returns the deadline, or the zero time.
func (d *Deadline) Get() time.Time {
	ns := d.ns.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Passed reports whether a deadline is set and has passed, by the clock.
func (d *Deadline) Passed() bool {
	if d.expired.Load() {
		return true
	}
	ns := d.ns.Load()
	return ns != 0 && time.Now().UnixNano() >= ns
}

// Expired reports whether a deadline is set and its timer has fired (or it
// was set in the past): Passed without reading the clock, late by at most
// the runtime's timer latency.
func (d *Deadline) Expired() bool { return d.expired.Load() }
