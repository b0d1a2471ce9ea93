// Package intr wakes OS threads blocked in System V IPC calls (msgrcv,
// msgsnd, semop) that have no timeout and no descriptor Go's poller could
// watch. The kernel never restarts those calls after a signal handler has
// run (signal(7)), so a thread-directed SIGURG, which the Go runtime already
// handles for preemption and otherwise ignores, makes them return EINTR. The
// caller then re-checks why it was woken (closed, deadline, peer gone) and
// calls again or returns.
//
// A signal sent just before the thread enters the kernel would be lost, so
// a wake-up is re-sent, with back-off, until the waiter has left. That costs
// nothing on the fast path: no signal is sent unless something must wake.
package intr

import (
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// waiterPool recycles Waiters: a blocking call should not allocate.
var waiterPool = sync.Pool{New: func() any { return new(Waiter) }}

// Waiters is the set of threads currently blocked on one object.
type Waiters struct {
	mu  sync.Mutex
	set map[*Waiter]struct{}
}

// Waiter is one registered blocking call.
type Waiter struct {
	ws    *Waiters
	tid   int
	gen   uint64 // which use of a recycled Waiter a wake-up is for
	timer *time.Timer
	armed bool // timer is set for this use
	fired waiterUse
}

type waiterUse struct {
	w   *Waiter
	gen uint64
}

// Enter locks the calling goroutine to its thread and registers it. If
// deadline is not zero the thread is woken once it passes. The caller must
// check its wake conditions after Enter (not before) and call Exit after the
// blocking call returns.
func (ws *Waiters) Enter(deadline time.Time) *Waiter {
	runtime.LockOSThread()
	w := waiterPool.Get().(*Waiter)
	w.ws, w.tid, w.armed = ws, unix.Gettid(), false
	ws.mu.Lock()
	if ws.set == nil {
		ws.set = make(map[*Waiter]struct{})
	}
	w.gen++
	ws.set[w] = struct{}{}
	use := waiterUse{w, w.gen}
	ws.mu.Unlock()
	if !deadline.IsZero() {
		// One timer per Waiter, reset for each use, so that a blocking
		// call with a deadline allocates nothing once the pool is warm.
		// fired is written before the timer is (re)armed, and the timer
		// is not running then (Exit recycles only a stopped timer).
		w.fired, w.armed = use, true
		if w.timer == nil {
			w.timer = time.AfterFunc(time.Until(deadline), w.onDeadline)
		} else {
			w.timer.Reset(time.Until(deadline))
		}
	}
	return w
}

// onDeadline wakes the use the timer was armed for (kick ignores it if
// that use has exited).
func (w *Waiter) onDeadline() { w.ws.kick([]waiterUse{w.fired}) }

// Exit unregisters the waiter and unlocks its thread. A waiter whose
// deadline timer may still run is not recycled.
func (w *Waiter) Exit() {
	recycle := !w.armed || w.timer.Stop()
	w.ws.mu.Lock()
	delete(w.ws.set, w)
	w.ws.mu.Unlock()
	runtime.UnlockOSThread()
	if recycle {
		waiterPool.Put(w)
	}
}

// WakeAll interrupts every waiter registered now, re-sending until each has
// called Exit. It returns at once; the re-sending runs in the background.
func (ws *Waiters) WakeAll() {
	ws.mu.Lock()
	if len(ws.set) == 0 {
		ws.mu.Unlock()
		return
	}
	snap := make([]waiterUse, 0, len(ws.set))
	for w := range ws.set {
		snap = append(snap, waiterUse{w, w.gen})
	}
	ws.mu.Unlock()
	go ws.kick(snap)
}

// kick signals each use in snap that is still registered until none is.
func (ws *Waiters) kick(snap []waiterUse) {
	pid := unix.Getpid()
	backoff := 50 * time.Microsecond
	for {
		alive := 0
		ws.mu.Lock()
		for _, u := range snap {
			if _, ok := ws.set[u.w]; ok && u.w.gen == u.gen {
				alive++
				// ESRCH would mean the thread is gone, and with it the waiter.
				_ = unix.Tgkill(pid, u.w.tid, unix.SIGURG)
			}
		}
		ws.mu.Unlock()
		if alive == 0 {
			return
		}
		time.Sleep(backoff)
		if backoff < 10*time.Millisecond {
			backoff *= 2
		}
	}
}

// Block runs call, a blocking System V call, until it returns something
// other than EINTR. Before each attempt, after registering (so a wake-up
// that races with the check is re-sent), it calls check: a non-nil error
// from check is returned without calling. deadline is re-read on every
// attempt, so a deadline changed while blocked takes effect after WakeAll.
func (ws *Waiters) Block(deadline func() time.Time, check func() error, call func() error) error {
	for {
		w := ws.Enter(deadline())
		if err := check(); err != nil {
			w.Exit()
			return err
		}
		err := call()
		w.Exit()
		if err != unix.EINTR {
			return err
		}
	}
}
