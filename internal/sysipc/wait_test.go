package sysipc

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWaitReady: the wait ends when the descriptor is ready, when the
// wake eventfd is written (and empties it), and when the deadline passes.
func TestWaitReady(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(wake)
	var c Calls
	wait := func(dl time.Time) time.Duration {
		t.Helper()
		t0 := time.Now()
		if err := c.WaitReady(p[0], unix.POLLIN, wake, dl); err != nil {
			t.Fatal(err)
		}
		return time.Since(t0)
	}
	// A passed deadline: at once, with nothing ready.
	wait(time.Now().Add(-time.Second))
	// A deadline ahead: it ends there (no upper bound asserted: the
	// machine is shared).
	if d := wait(time.Now().Add(20 * time.Millisecond)); d < 15*time.Millisecond {
		t.Fatalf("a wait with nothing ready ended after %v, before its 20 ms deadline", d)
	}
	// The wake eventfd, written: it ends and the eventfd is empty again.
	// (A minute's deadline, not none, so that a broken wait fails the
	// test rather than hang it.)
	unix.Write(wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	if d := wait(time.Now().Add(time.Minute)); d > 30*time.Second {
		t.Fatalf("a written wake eventfd did not end the wait (%v)", d)
	}
	var b [8]byte
	if _, err := unix.Read(wake, b[:]); err != unix.EAGAIN {
		t.Fatalf("the wake eventfd after the wait: %v, want it emptied (EAGAIN)", err)
	}
	// The descriptor ready: it ends, and leaves the data.
	unix.Write(p[1], []byte("x"))
	if d := wait(time.Now().Add(time.Minute)); d > 30*time.Second {
		t.Fatalf("a readable descriptor did not end the wait (%v)", d)
	}
	if n, _ := unix.Read(p[0], b[:]); n != 1 {
		t.Fatalf("read %d bytes after the wait, want the 1 written", n)
	}
}
