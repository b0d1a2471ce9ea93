package sysipc_test

import (
	"testing"

	. "github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// TestCallsSurviveStackGrowth: a Calls method turns its pointer
// arguments into uintptrs before the system call. If the goroutine's
// stack were copied after that (a stack check growing it on the way to
// the system call), a pointer to a caller's stack variable would name
// the old stack, which the stack copy does not adjust: ppoll would write
// its revents into freed memory. So it polls a readable pipe, with the
// PollFd on the stack, from every depth of a fresh goroutine's stack
// until one of those depths has made its stack grow, and checks that
// the answer lands in the variable the caller reads.
func TestCallsSurviveStackGrowth(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if _, err := unix.Write(p[1], []byte{1}); err != nil {
		t.Fatal(err)
	}
	for _, held := range []bool{false, true} {
		for depth := range 600 {
			done := make(chan string)
			go func() { done <- pollAt(Calls{Held: held}, depth, p[0]) }()
			if msg := <-done; msg != "" {
				t.Fatalf("held %v, at stack depth %d: %s", held, depth, msg)
			}
		}
	}
}

// pollAt recurses depth frames, then polls fd, which is readable.
//
//go:noinline
func pollAt(c Calls, depth, fd int) string {
	if depth > 0 {
		return pollAt(c, depth-1, fd)
	}
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	var ts unix.Timespec // zero: return at once
	n, err := c.Ppoll(fds[:], &ts)
	switch {
	case err != nil:
		return "ppoll: " + err.Error()
	case n != 1 || fds[0].Revents&unix.POLLIN == 0:
		return "ppoll said the readable pipe was not, or wrote its answer elsewhere (the stack moved under the call)"
	}
	return ""
}
