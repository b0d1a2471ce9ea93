// Package deadline stores a deadline that one goroutine sets while another
// is blocked reading it, for transports whose waits Go's poller cannot see.
package deadline

import (
	"sync/atomic"
	"time"
)

// Deadline is a time that may be read and set concurrently; the zero value
// means none.
type Deadline struct{ ns atomic.Int64 }

// Set stores t; the zero time clears the deadline.
func (d *Deadline) Set(t time.Time) {
	if t.IsZero() {
		d.ns.Store(0)
		return
	}
	d.ns.Store(t.UnixNano())
}

// Get returns the deadline, or the zero time.
func (d *Deadline) Get() time.Time {
	ns := d.ns.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Passed reports whether a deadline is set and has passed.
func (d *Deadline) Passed() bool {
	ns := d.ns.Load()
	return ns != 0 && time.Now().UnixNano() >= ns
}
