package chanend

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
)

type addr string

func (a addr) Transport() string { return "test" }
func (a addr) String() string    { return "test:" + string(a) }

func TestChecks(t *testing.T) {
	var e End
	if err := e.SendCheck(); err != nil {
		t.Fatalf("a fresh end: %v", err)
	}
	e.Wdl.Set(time.Now().Add(-time.Second))
	if err := e.SendCheck(); err != ipclab.ErrTimeout {
		t.Fatalf("past write deadline: %v, want ErrTimeout", err)
	}
	if err := e.RecvCheck(); err != nil {
		t.Fatalf("recv with only a write deadline past: %v", err)
	}
	e.SetPeerGone()
	if err := e.SendCheck(); err != ipclab.ErrPeerGone {
		t.Fatalf("peer gone (before the deadline): %v", err)
	}
	calls := 0
	for range 3 {
		if err := e.Close(func() error { calls++; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 || !e.Closed() {
		t.Fatalf("release ran %d times, closed %v; want once, true", calls, e.Closed())
	}
	if err := e.RecvCheck(); err != ipclab.ErrClosed {
		t.Fatalf("closed (before peer gone): %v", err)
	}
	if err := e.MapErr(syscall.EAGAIN); err != ipclab.ErrClosed {
		t.Fatalf("any error of a closed end: %v, want ErrClosed", err)
	}
}

func TestErrors(t *testing.T) {
	var e End
	if err := e.Err("send", syscall.EINVAL); err != syscall.EINVAL {
		t.Fatalf("no Addr: %v, want the error itself", err)
	}
	e.Addr = addr("x")
	err := e.Err("send", os.ErrDeadlineExceeded)
	var oe *ipclab.OpError
	if !errors.As(err, &oe) || oe.Transport != "test" || oe.Addr != "test:x" || oe.Op != "send" {
		t.Fatalf("%#v", err)
	}
	if e.Err("send", nil) != nil {
		t.Fatal("nil wrapped")
	}
	if e.MapErr(os.ErrDeadlineExceeded) != ipclab.ErrTimeout || e.MapErr(os.ErrClosed) != ipclab.ErrClosed {
		t.Fatal("poller errors not mapped")
	}
	if Perm(0) != 0o600 || Perm(0o1644) != 0o644 {
		t.Fatalf("Perm: %o %o", Perm(0), Perm(0o1644))
	}
	if Exclusive(1, 2, false) != 3 || Exclusive(1, 2, true) != 1 {
		t.Fatal("Exclusive")
	}
	if e.Removes(false) || !e.Removes(true) {
		t.Fatal("Removes before the peer is gone")
	}
	e.SetPeerGone()
	if e.Removes(false) {
		t.Fatal("an opener whose creator closed must not remove: the creator did, and the names may be another channel's now")
	}
	e.SetPeerDied()
	if !e.Removes(false) || !e.PeerGone() {
		t.Fatal("an opener whose creator died must remove, since nobody else will")
	}
	if err := Exists(syscall.EEXIST, "queue /q", "ipclab clean", "name"); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("Exists lost the errno: %v", err)
	}
}
