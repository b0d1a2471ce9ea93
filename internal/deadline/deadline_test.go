package deadline

import (
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/reclaim"
)

func TestPastDeadlineExpiresAtOnce(t *testing.T) {
	var d Deadline
	d.Set(time.Now().Add(-time.Second))
	if !d.Expired() || !d.Passed() {
		t.Fatalf("a deadline set in the past: Expired %v, Passed %v; want both", d.Expired(), d.Passed())
	}
	d.Set(time.Time{})
	if d.Expired() || d.Passed() || !d.Get().IsZero() {
		t.Fatalf("a cleared deadline: Expired %v, Passed %v, Get %v", d.Expired(), d.Passed(), d.Get())
	}
}

// The timer turns Expired on once the deadline passes, with no call in
// between: a Send that would not wait must still fail after its deadline.
func TestFutureDeadlineExpiresByItself(t *testing.T) {
	var d Deadline
	d.Set(time.Now().Add(5 * time.Millisecond))
	if d.Expired() {
		t.Fatal("a deadline 5 ms ahead is already expired")
	}
	for giveUp := time.Now().Add(time.Minute); !d.Expired(); time.Sleep(time.Millisecond) {
		if time.Now().After(giveUp) {
			t.Fatal("a minute after a 5 ms deadline, Expired is still false")
		}
	}
	if !d.Passed() {
		t.Fatal("Expired but not Passed")
	}
}

// A timer of an earlier Set must not expire a deadline moved later.
func TestMovedDeadlineIgnoresOldTimer(t *testing.T) {
	var d Deadline
	for i := 0; i < 100; i++ {
		d.Set(time.Now().Add(time.Duration(i%3) * time.Microsecond))
		d.Set(time.Now().Add(time.Hour))
	}
	time.Sleep(20 * time.Millisecond) // time for any stale timer to run
	if d.Expired() || d.Passed() {
		t.Fatalf("a deadline an hour ahead: Expired %v, Passed %v", d.Expired(), d.Passed())
	}
}

// TestStopLetsGo: a deadline far ahead keeps what holds it reachable
// through its timer until Stop; then it can be collected, its value
// kept until then.
func TestStopLetsGo(t *testing.T) {
	type end struct {
		dl  Deadline
		buf []byte
	}
	e := &end{buf: make([]byte, 1<<16)}
	at := time.Now().Add(time.Hour)
	e.dl.Set(at)
	e.dl.Stop()
	if !e.dl.Get().Equal(time.Unix(0, at.UnixNano())) || e.dl.Expired() {
		t.Fatalf("after Stop: Get %v, Expired %v; want the deadline kept, not expired", e.dl.Get(), e.dl.Expired())
	}
	gone := reclaim.Watch(e)
	e = nil
	gone(t, "its timer still holds it")
}

// sink keeps the compiler from dropping the calls benchmarked.
var sink bool

// BenchmarkExpired and BenchmarkPassed: what a Send that need not wait
// pays to ask about its deadline, by the flag (Expired, the fast path)
// and by the clock (Passed, before a wait), with no deadline set and with
// one an hour ahead (the harness sets one per case). Neither allocates.
//
//	go test -run '^$' -bench . ./internal/deadline
func BenchmarkExpired(b *testing.B) {
	benchAsk(b, (*Deadline).Expired)
}

func BenchmarkPassed(b *testing.B) {
	benchAsk(b, (*Deadline).Passed)
}

func benchAsk(b *testing.B, ask func(*Deadline) bool) {
	for _, c := range []struct {
		name string
		at   time.Time
	}{{"none", time.Time{}}, {"set", time.Now().Add(time.Hour)}} {
		b.Run(c.name, func(b *testing.B) {
			var d Deadline
			d.Set(c.at)
			defer d.Set(time.Time{}) // stops the timer
			b.ReportAllocs()
			for b.Loop() {
				sink = ask(&d)
			}
			if sink {
				b.Fatalf("a deadline %v reads as passed", c.at)
			}
		})
	}
}
