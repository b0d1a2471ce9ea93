package sysvmsg

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/otheruser"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// setQueue changes queue id's owner and mode with msgctl(IPC_SET): the
// owner may change the mode; root may give the queue to anybody.
func setQueue(t *testing.T, id int, change func(p *unix.SysvIpcPerm)) {
	t.Helper()
	ds, err := sysipc.MsgctlStat(id)
	if err != nil {
		t.Fatal(err)
	}
	change(&ds.Perm)
	if _, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(id), unix.IPC_SET, uintptr(unsafe.Pointer(ds))); e != 0 {
		t.Fatalf("msgctl IPC_SET: %v", e)
	}
}

// queueOfNobody makes a 0600 queue as the other user, with util-linux's
// ipcmk run as that user, and returns its id.
func queueOfNobody(t *testing.T) int {
	t.Helper()
	out, err := otheruser.Command(t, "ipcmk", "-Q", "-p", "0600").CombinedOutput()
	if err != nil {
		t.Fatalf("ipcmk as uid %d: %v: %s", otheruser.UID, err, out)
	}
	f := strings.Fields(string(out))
	id, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		t.Fatalf("ipcmk said %q", out)
	}
	t.Cleanup(func() { sysipc.MsgctlRemove(id) })
	return id
}

func refused(t *testing.T, err error, id int, want string) {
	t.Helper()
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), fmt.Sprintf("message queue %d ", id)) ||
		!strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), ",owner=any") {
		t.Fatalf("%v; want fs.ErrPermission saying message queue %d %s and naming ,owner=any", err, id, want)
	}
	t.Log(err)
}

// TestOpenRefusesWhatIsNotPrivate: the opener uses a queue only if it is
// ours (owner and creator) and no other user can reach it, as IPC_STAT on
// its id says; otherwise Open fails with fs.ErrPermission naming what it
// found, and ,owner=any opens it anyway and the channel works.
func TestOpenRefusesWhatIsNotPrivate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		root   bool
		change func(p *unix.SysvIpcPerm)
		want   string
	}{
		{"mode 0666", false, func(p *unix.SysvIpcPerm) { p.Mode = 0o666 }, "has mode 0666"},
		{"mode 0660", false, func(p *unix.SysvIpcPerm) { p.Mode = 0o660 }, "has mode 0660"},
		{"other owner", true, func(p *unix.SysvIpcPerm) { p.Uid = otheruser.UID }, "is owned by uid 65534"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				otheruser.Need(t)
			}
			c, err := Create(sysipc.IPCPrivate, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			setQueue(t, c.ID(), tc.change)
			o, err := Open(c.Addr().String(), Options{})
			if err == nil {
				o.Close()
			}
			refused(t, err, c.ID(), tc.want)
			a := c.Addr().(Addr)
			a.AnyOwner = true
			if p, err := ParseAddr(a.String()); err != nil || p != a {
				t.Fatalf("ParseAddr(%s) = %+v, %v; want %+v", a, p, err, a)
			}
			if o, err = Open(a.String(), Options{}); err != nil {
				t.Fatalf("open with ,owner=any: %v", err)
			}
			defer o.Close()
			exchange(t, c, o)
		})
	}
}

// exchange sends one message each way, within a deadline.
func exchange(t *testing.T, c, o ipclab.Conn) {
	t.Helper()
	buf := make([]byte, 16)
	for _, d := range []struct{ from, to ipclab.Conn }{{o, c}, {c, o}} {
		d.to.SetDeadline(time.Now().Add(10 * time.Second))
		if err := d.from.Send([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		if n, err := d.to.Recv(buf); err != nil || string(buf[:n]) != "hi" {
			t.Fatalf("recv %q, %v; want \"hi\"", buf[:n], err)
		}
	}
}

// TestOpenRefusesAnotherUsersQueue: a queue the other user created is
// refused even once its owner is set to us (msgctl IPC_SET leaves the
// creator's uid): its creator keeps the rights of an owner. Its key
// address is refused as its id is.
func TestOpenRefusesAnotherUsersQueue(t *testing.T) {
	id := queueOfNobody(t)
	ds, err := sysipc.MsgctlStat(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{fmt.Sprintf("sysvmsg:id=%d", id), fmt.Sprintf("sysvmsg:key=%#x", uint32(ds.Perm.Key))} {
		o, err := Open(addr, Options{})
		if err == nil {
			o.Close()
		}
		refused(t, err, id, "is owned by uid 65534")
	}
	setQueue(t, id, func(p *unix.SysvIpcPerm) { p.Uid, p.Gid = 0, 0 })
	o, err := Open(fmt.Sprintf("sysvmsg:id=%d", id), Options{})
	if err == nil {
		o.Close()
	}
	refused(t, err, id, "was created by uid 65534")
	o, err = Open(fmt.Sprintf("sysvmsg:id=%d,owner=any", id), Options{})
	if err != nil {
		t.Fatalf("open with ,owner=any: %v", err)
	}
	o.Close()
	if o, err = Open(fmt.Sprintf("sysvmsg:id=%d", id), Options{TrustOtherUsers: true}); err != nil {
		t.Fatalf("open with Options.TrustOtherUsers: %v", err)
	}
	o.Close()
}

// TestReuseRefusesWhatIsNotPrivate: Create with Reuse checks the queue it
// finds against its own Mode, and leaves a refused queue where it is.
func TestReuseRefusesWhatIsNotPrivate(t *testing.T) {
	key := sysipc.Key(0x1d0e5a7)
	c, err := Create(key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	setQueue(t, c.ID(), func(p *unix.SysvIpcPerm) { p.Mode = 0o606 })
	r, err := Create(key, Options{Reuse: true})
	if err == nil {
		r.Close()
	}
	refused(t, err, c.ID(), "has mode 0606")
	if _, err := sysipc.MsgctlStat(c.ID()); err != nil {
		t.Fatalf("the refused queue is gone: %v", err)
	}
	if r, err = Create(key, Options{Reuse: true, Mode: 0o606}); err != nil {
		t.Fatalf("reuse by a creator that asks for 0606: %v", err)
	}
	r.Close()
}
