package chanend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/reclaim"
)

type addr string

func (a addr) Transport() string { return "test" }
func (a addr) String() string    { return "test:" + string(a) }

// TestCloseLetsGo: deadlines far ahead do not keep a closed end
// reachable (their timers would, until they fire).
func TestCloseLetsGo(t *testing.T) {
	e := &End{}
	e.SetDeadlines(time.Now().Add(time.Hour))
	e.Close(func() error { return nil })
	gone := reclaim.Watch(e)
	e = nil
	gone(t, "a deadline's timer holds it")
}

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
	// A timeout that says why keeps saying it (a socket creator's "no
	// process has connected yet" read as a bare timeout in a CI failure).
	why := fmt.Errorf("%w: no process has connected yet", ipclab.ErrTimeout)
	if got := e.MapErr(why); got != why {
		t.Fatalf("MapErr(%v) = %v, want it unchanged", why, got)
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

// TestPrivate: every way an object can fail to be ours is refused with
// fs.ErrPermission and the override named; ours at 0600 passes, and so
// does a wider mode the creator asked for itself.
func TestPrivate(t *testing.T) {
	me, other := uint32(os.Geteuid()), uint32(os.Geteuid())+1
	for _, c := range []struct {
		name            string
		uid, cuid, mode uint32
		allow           uint32
		want            string // "" when accepted
	}{
		{"ours", me, me, 0o600, 0, ""},
		{"ours, owner read only", me, me, 0o400, 0, ""},
		{"other owner", other, me, 0o600, 0, fmt.Sprintf("is owned by uid %d, not by this user", other)},
		{"other creator", me, other, 0o600, 0, fmt.Sprintf("was created by uid %d, not by this user", other)},
		{"other owner and creator", other, other, 0o600, 0, fmt.Sprintf("is owned by uid %d, not by this user", other)},
		{"two other users", other, other + 1, 0o600, 0, fmt.Sprintf("is owned by uid %d and was created by uid %d, not by this user", other, other+1)},
		{"group readable", me, me, 0o640, 0, "has mode 0640"},
		{"world writable", me, me, 0o602, 0, "has mode 0602"},
		{"0666", me, me, 0o100666, 0, "has mode 0666"},
		{"wider mode the creator asked for", me, me, 0o660, 0o660, ""},
		{"wider than the creator asked for", me, me, 0o666, 0o660, "has mode 0666"},
	} {
		err := Private("queue 7", c.uid, c.cuid, c.mode, c.allow)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want it accepted", c.name, err)
		case c.want != "" && (err == nil || !errors.Is(err, fs.ErrPermission) ||
			!strings.Contains(err.Error(), "queue 7 "+c.want) || !strings.Contains(err.Error(), ",owner=any")):
			t.Errorf("%s: %v, want fs.ErrPermission saying %q and naming ,owner=any", c.name, err, c.want)
		}
	}
	if ParseOwner("any") != nil || ParseOwner("me") == nil {
		t.Fatal("ParseOwner: any is the only value")
	}
}

// pidfds counts the pidfds this process holds.
func pidfds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == "anon_inode:[pidfd]" {
			n++
		}
	}
	return n
}

// TestWatchPeerAfterCloseHoldsNothing: a watch started on a closed end
// (a socket creator's accept takes its opener while Close runs) stops at
// once, rather than holding a pidfd and calling wake on the released end
// when the process exits.
func TestWatchPeerAfterCloseHoldsNothing(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep(1):", err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	e := &End{}
	e.Close(func() error { return nil })
	before := pidfds(t)
	if err := e.WatchPeer(cmd.Process.Pid, func() {}); err != nil {
		t.Fatal(err)
	}
	if after := pidfds(t); after != before {
		t.Fatalf("a watch started after Close holds %d pidfds (%d before): it outlives the end", after, before)
	}
}
