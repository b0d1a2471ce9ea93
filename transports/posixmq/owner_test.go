package posixmq

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

const nobody = 65534

// spoil opens queue name on a descriptor of its own and changes its owner
// or mode through it (a queue descriptor is a file: fchown and fchmod
// work on it), as another user's queue or a careless one would be.
func spoil(t *testing.T, name string, change func(fd int) error) {
	t.Helper()
	fd, err := sysipc.MqOpen(name, unix.O_RDONLY|unix.O_CLOEXEC, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := change(fd); err != nil {
		t.Fatal(err)
	}
}

// exchange sends one message each way that the transport allows, within
// a deadline, so that an accepted channel is shown to work.
func exchange(t *testing.T, c, o ipclab.Conn, single bool) {
	t.Helper()
	dirs := []struct{ from, to ipclab.Conn }{{o, c}, {c, o}}
	if single {
		dirs = dirs[:1]
	}
	buf := make([]byte, 8192)
	for _, d := range dirs {
		d.to.SetDeadline(time.Now().Add(10 * time.Second))
		if err := d.from.Send([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		if n, err := d.to.Recv(buf); err != nil || string(buf[:n]) != "hi" {
			t.Fatalf("recv %q, %v; want \"hi\"", buf[:n], err)
		}
	}
}

// TestOpenRefusesWhatIsNotPrivate: the opener uses queues only if they
// are ours and no other user can reach them. A queue given to another
// user (fchown, which needs root) or opened up to others (fchmod) is
// refused with fs.ErrPermission naming what was found; ,owner=any opens
// it anyway, and the channel works.
func TestOpenRefusesWhatIsNotPrivate(t *testing.T) {
	cases := []struct {
		name   string
		single bool
		queue  func(a Addr) string // the queue spoilt
		change func(fd int) error
		want   string
	}{
		{"other owner of .1", false, Addr.toOpener, func(fd int) error { return unix.Fchown(fd, nobody, nobody) }, "is owned by uid 65534"},
		{"other owner of .2", false, Addr.toCreator, func(fd int) error { return unix.Fchown(fd, nobody, nobody) }, "is owned by uid 65534"},
		{"mode 0666 of .1", false, Addr.toOpener, func(fd int) error { return unix.Fchmod(fd, 0o666) }, "has mode 0666"},
		{"mode 0640 of .2", false, Addr.toCreator, func(fd int) error { return unix.Fchmod(fd, 0o640) }, "has mode 0640"},
		{"single, other owner", true, func(a Addr) string { return a.Name }, func(fd int) error { return unix.Fchown(fd, nobody, nobody) }, "is owned by uid 65534"},
		{"single, mode 0622", true, func(a Addr) string { return a.Name }, func(fd int) error { return unix.Fchmod(fd, 0o622) }, "has mode 0622"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "owner") && os.Geteuid() != 0 {
				t.Skip("needs root to give the queue to a second user (uid 65534)")
			}
			create := Create
			if tc.single {
				create = CreateSingle
			}
			c, err := create(NewName(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a := c.Addr().(Addr)
			q := tc.queue(a)
			spoil(t, q, tc.change)
			o, err := Open(a.String())
			if err == nil {
				o.Close()
			}
			if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "POSIX message queue "+q+" "+tc.want) ||
				!strings.Contains(err.Error(), ",owner=any") {
				t.Fatalf("open: %v; want fs.ErrPermission saying POSIX message queue %s %s and naming ,owner=any", err, q, tc.want)
			}
			t.Log(err)
			a.AnyOwner = true
			if p, err := ParseAddr(a.String()); err != nil || p != a {
				t.Fatalf("ParseAddr(%s) = %+v, %v; want %+v", a, p, err, a)
			}
			o, err = Open(a.String())
			if err != nil {
				t.Fatalf("open with ,owner=any: %v", err)
			}
			defer o.Close()
			exchange(t, c, o, tc.single)
		})
	}
}

// TestReuseRefusesWhatIsNotPrivate: Create with Reuse opens queues that
// exist, and so checks them as an opener does, against its own Mode;
// TrustOtherUsers takes them anyway.
func TestReuseRefusesWhatIsNotPrivate(t *testing.T) {
	c, err := Create(NewName(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	name := c.Addr().(Addr).Name
	spoil(t, name+".2", func(fd int) error { return unix.Fchmod(fd, 0o606) })
	r, err := Create(name, Options{Reuse: true})
	if err == nil {
		r.Close()
	}
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "has mode 0606") {
		t.Fatalf("reuse of a 0606 queue: %v; want fs.ErrPermission naming the mode", err)
	}
	r, err = Create(name, Options{Reuse: true, Mode: 0o606})
	if err != nil {
		t.Fatalf("reuse of a 0606 queue by a creator that asks for 0606: %v", err)
	}
	r.Close()
}

// TestReuseRefusalLeavesNothingBehind: a refused Create with Reuse does
// not leave behind a queue it made itself (nothing would remove it), and
// leaves the queue it refused where it was.
func TestReuseRefusalLeavesNothingBehind(t *testing.T) {
	exists := func(name string) bool {
		t.Helper()
		fd, err := sysipc.MqOpen(name, unix.O_RDONLY|unix.O_CLOEXEC, 0, nil)
		if err == nil {
			unix.Close(fd)
			return true
		}
		if !errors.Is(err, unix.ENOENT) {
			t.Fatal(err)
		}
		return false
	}
	for _, careless := range []string{".1", ".2"} {
		name := NewName()
		fd, err := sysipc.MqOpen(name+careless, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY|unix.O_CLOEXEC, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = unix.Fchmod(fd, 0o606)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Create(name, Options{Reuse: true})
		if err == nil {
			r.Close()
		}
		left := map[string]bool{".1": exists(name + ".1"), ".2": exists(name + ".2")}
		sysipc.MqUnlink(name + ".1")
		sysipc.MqUnlink(name + ".2")
		if !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("reuse with a 0606 queue %s%s: %v; want fs.ErrPermission", name, careless, err)
		}
		for suffix, there := range left {
			if there != (suffix == careless) {
				t.Errorf("after refusing the 0606 queue %s%s: queue %s%s exists %v", name, careless, name, suffix, there)
			}
		}
	}
}
