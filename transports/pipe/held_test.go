package pipe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/reclaim"
	"golang.org/x/sys/unix"
)

// TestSendUnderDeadline: a Send under a write deadline that has not
// passed writes, held or not; past the deadline a Send fails with
// ErrTimeout and writes nothing, though the pipe has room.
func TestSendUnderDeadline(t *testing.T) {
	for _, held := range []bool{false, true} {
		c, files := created(t)
		if err := c.HoldWaits(held); err != nil {
			t.Skip(err)
		}
		c.SetWriteDeadline(time.Now().Add(time.Hour))
		if err := c.Send([]byte("sent")); err != nil {
			t.Fatalf("held %v: %v", held, err)
		}
		c.SetWriteDeadline(time.Now().Add(-time.Second))
		if err := c.Send([]byte("late")); !errors.Is(err, ipclab.ErrTimeout) {
			t.Fatalf("held %v: a Send past its write deadline: %v, want ErrTimeout", held, err)
		}
		c.Close() // the child's read end then reads to end of file
		got, err := io.ReadAll(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(got, []byte("sent")) || bytes.Contains(got, []byte("late")) {
			t.Fatalf("held %v: the pipe carried %q: want the one frame sent before the deadline", held, got)
		}
	}
}

// TestClosedConnLetsGo: a write deadline far ahead does not keep a
// closed end reachable (the held attempt's deadline timer would, until
// it fires, and with it the end's buffers).
func TestClosedConnLetsGo(t *testing.T) {
	c, files, err := Create(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		defer f.Close()
	}
	c.SetDeadline(time.Now().Add(time.Hour))
	c.Close()
	gone := reclaim.Watch(c)
	c = nil
	gone(t, "a deadline's timer holds it")
}

// TestCloseWaitsForHeldWrite: Close does not release the write end's
// descriptor while a write is about to use it (writes use the number
// directly, not through RawConn.Control's reference; Close takes sendMu
// first). Were it released, the write would land in whatever file took
// the number next: here a pipe of the test's, put at that number the
// moment Close returns, while the Send still sits in the write hook; it
// must stay empty.
func TestCloseWaitsForHeldWrite(t *testing.T) {
	dog := time.AfterFunc(2*time.Minute, func() {
		buf := make([]byte, 1<<20)
		panic(fmt.Sprintf("%s still running after 2m:\n%s", t.Name(), buf[:runtime.Stack(buf, true)]))
	})
	defer dog.Stop()
	c, files := created(t)
	if err := c.HoldWaits(true); err != nil {
		t.Skip(err)
	}
	if err := c.Send([]byte("first")); err != nil { // the held write's descriptor is taken
		t.Fatal(err)
	}
	wfd := c.wfd
	// The pipe that will take wfd's number, made now: made after Close, its
	// read end could take the number instead.
	var q [2]int
	if err := unix.Pipe2(q[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(q[0])
	defer unix.Close(q[1])
	inside := make(chan struct{})
	testHookWrite = func() {
		close(inside)
		time.Sleep(50 * time.Millisecond)
	}
	defer func() { testHookWrite = nil }()
	sent := make(chan error, 1)
	go func() { sent <- c.Send([]byte("second")) }()
	<-inside
	testHookWrite = nil // the Send read it already; later calls run none
	c.Close()
	// wfd is free now: Close closed w. A write end of q goes there at once,
	// while a Send that Close did not wait for would still be in the hook.
	d, err := unix.FcntlInt(uintptr(q[1]), unix.F_DUPFD_CLOEXEC, wfd)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	if d != wfd {
		t.Fatalf("descriptor %d, w's, is still open after Close (a duplicate went to %d)", wfd, d)
	}
	if err := <-sent; err != nil {
		t.Errorf("the Send inside the write hook when Close began: %v, want nil (its frame was written)", err)
	}
	var b [64]byte
	if n, err := unix.Read(q[0], b[:]); n > 0 || err != unix.EAGAIN {
		t.Errorf("a pipe that took w's descriptor number after Close read %q, %v: the held write used the number after Close released it", b[:max(n, 0)], err)
	}
	got, err := io.ReadAll(files[0]) // Close closed the only writer: reads to EOF
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(got, []byte("second")) {
		t.Errorf("the pipe carried %q: Close released the descriptor before the held write inside the hook used it", got)
	}
	if err := c.Send([]byte("third")); !errors.Is(err, ipclab.ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	if n, err := unix.Read(q[0], b[:]); n > 0 || err != unix.EAGAIN {
		t.Errorf("after a Send after Close, the pipe at w's old number read %q, %v", b[:max(n, 0)], err)
	}
}

// TestMovedWriteDeadlineWakesSend: a Send waiting for room in a full pipe
// (in ppoll, write.go) returns ErrTimeout as soon as the write deadline is
// moved into the past, held or not: SetWriteDeadline wakes it.
func TestMovedWriteDeadlineWakesSend(t *testing.T) {
	dog := time.AfterFunc(2*time.Minute, func() {
		buf := make([]byte, 1<<20)
		panic(fmt.Sprintf("%s still running after 2m:\n%s", t.Name(), buf[:runtime.Stack(buf, true)]))
	})
	defer dog.Stop()
	for _, held := range []bool{false, true} {
		c, _ := created(t)
		if err := c.HoldWaits(held); err != nil {
			t.Skip(err)
		}
		c.SetWriteDeadline(time.Now().Add(time.Hour))
		msg := make([]byte, 4096)
		res := make(chan error, 1)
		go func() {
			for {
				if err := c.Send(msg); err != nil {
					res <- err
					return
				}
			}
		}()
		time.Sleep(100 * time.Millisecond) // nobody reads: the Send waits by now
		select {
		case err := <-res:
			t.Fatalf("held %v: Send into a pipe nobody reads failed before the deadline moved: %v", held, err)
		default:
		}
		c.SetWriteDeadline(time.Now().Add(-time.Second))
		select {
		case err := <-res:
			if !errors.Is(err, ipclab.ErrTimeout) {
				t.Fatalf("held %v: Send after its deadline moved into the past: %v, want ErrTimeout", held, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("held %v: Send still waiting 30 s after its deadline moved into the past", held)
		}
		c.Close()
	}
}
