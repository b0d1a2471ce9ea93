package sysvshm

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/otheruser"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/shmchan"
	"golang.org/x/sys/unix"
)

// setSegment changes segment id's owner or mode with shmctl(IPC_SET): the
// owner may change the mode; root may give the segment to anybody.
func setSegment(t *testing.T, id int, change func(p *unix.SysvIpcPerm)) {
	t.Helper()
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatal(err)
	}
	change(&ds.Perm)
	if _, err := unix.SysvShmCtl(id, unix.IPC_SET, &ds); err != nil {
		t.Fatalf("shmctl IPC_SET: %v", err)
	}
}

func refused(t *testing.T, err error, id int, want string) {
	t.Helper()
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), fmt.Sprintf("segment %d %s", id, want)) ||
		!strings.Contains(err.Error(), ",owner=any") {
		t.Fatalf("%v; want fs.ErrPermission saying segment %d %s and naming ,owner=any", err, id, want)
	}
	t.Log(err)
}

// TestOpenRefusesWhatIsNotPrivate: the opener attaches only to a segment
// that is ours and that no other user can reach, as IPC_STAT on its id
// says (any of them could write its header); otherwise Open fails with
// fs.ErrPermission naming what it found, and ,owner=any attaches anyway.
func TestOpenRefusesWhatIsNotPrivate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		root   bool
		change func(p *unix.SysvIpcPerm)
		want   string
	}{
		{"mode 0666", false, func(p *unix.SysvIpcPerm) { p.Mode = 0o666 }, "has mode 0666"},
		{"mode 0620", false, func(p *unix.SysvIpcPerm) { p.Mode = 0o620 }, "has mode 0620"},
		{"other owner", true, func(p *unix.SysvIpcPerm) { p.Uid = otheruser.UID }, "is owned by uid 65534"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				otheruser.Need(t)
			}
			c, err := Create(shmchan.Config{RingSize: 4096})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			id := c.Addr().(Addr).ID
			setSegment(t, id, tc.change)
			o, err := Open(c.Addr().String(), shmchan.AttachOptions{})
			if err == nil {
				o.Close()
			}
			refused(t, err, id, tc.want)
			a := c.Addr().(Addr)
			a.AnyOwner = true
			if o, err = Open(a.String(), shmchan.AttachOptions{}); err != nil {
				t.Fatalf("open with ,owner=any: %v", err)
			}
			defer o.Close()
			for _, e := range []*Conn{c, o} {
				e.SetDeadline(time.Now().Add(10 * time.Second))
			}
			if err := o.Send([]byte("hi")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 16)
			if n, err := c.Recv(buf); err != nil || string(buf[:n]) != "hi" {
				t.Fatalf("recv %q, %v; want \"hi\"", buf[:n], err)
			}
		})
	}
}

// TestReuseRefusesWhatIsNotPrivate: Create with Reuse checks the segment
// it finds under its key against its own Mode, and leaves a refused one
// where it is.
func TestReuseRefusesWhatIsNotPrivate(t *testing.T) {
	key := sysipc.Key(0x1d0e5a8)
	c, err := Create(shmchan.Config{Key: key, RingSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id, err := unix.SysvShmGet(int(key), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	setSegment(t, id, func(p *unix.SysvIpcPerm) { p.Mode = 0o606 })
	r, err := Create(shmchan.Config{Key: key, RingSize: 4096, Reuse: true})
	if err == nil {
		r.Close()
	}
	refused(t, err, id, "has mode 0606")
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatalf("the refused segment is gone: %v", err)
	}
}
