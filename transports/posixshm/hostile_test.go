package posixshm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipclab/ipclab/shmchan"
)

// TestOpenRefusesWhatIsNotAChannel: the object is another process's
// writing; what the opener finds under the name is checked before it is
// used, and nothing of it is left mapped or removed.
func TestOpenRefusesWhatIsNotAChannel(t *testing.T) {
	path := func(n string) string { return "/dev/shm/" + n[1:] }
	cases := []struct {
		name  string
		setup func(p string) error
		want  string
	}{
		{"symlink", func(p string) error { return os.Symlink("/etc/passwd", p) }, "too many levels of symbolic links"},
		{"small", func(p string) error { return os.WriteFile(p, make([]byte, 100), 0o600) }, "a channel has from 4096"},
		{"garbage", func(p string) error { return os.WriteFile(p, make([]byte, 8192), 0o600) }, "bad magic"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }, "is a directory"},
		{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o600) }, "not a regular file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewName()
			if err := c.setup(path(n)); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(path(n))
			_, err := Open(Scheme+":name="+n, shmchan.AttachOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open of a %s: %v, want an error saying %q", c.name, err, c.want)
			}
			if _, err := os.Lstat(path(n)); err != nil {
				t.Fatalf("the refused object was removed: %v", err)
			}
		})
	}
}

// TestOpenRefusesAnotherUsersObject: a channel's header names objects the
// opener will act on, so an object another user owns is refused unless
// the address says owner=any.
func TestOpenRefusesAnotherUsersObject(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the object to a second user (uid 65534)")
	}
	c, err := Create(NewName(), shmchan.Config{RingSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	name := c.Addr().(Addr).Name
	if err := os.Chown("/dev/shm/"+name[1:], 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(c.Addr().String(), shmchan.AttachOptions{}); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("Open of another user's object: %v, want a refusal naming the owner", err)
	}
	o, err := Open(c.Addr().String()+",owner=any", shmchan.AttachOptions{})
	if err != nil {
		t.Fatalf("owner=any: %v", err)
	}
	o.Close()
}

// TestOpenRefusesALaxObject: an object of ours whose mode lets other
// users in could have its header written by any of them, so it is refused
// (fs.ErrPermission naming the mode) unless the address says owner=any.
func TestOpenRefusesALaxObject(t *testing.T) {
	for _, mode := range []os.FileMode{0o666, 0o640, 0o602} {
		c, err := Create(NewName(), shmchan.Config{RingSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		name := c.Addr().(Addr).Name
		if err := os.Chmod("/dev/shm/"+name[1:], mode); err != nil {
			t.Fatal(err)
		}
		o, err := Open(c.Addr().String(), shmchan.AttachOptions{})
		if err == nil {
			o.Close()
		}
		if want := fmt.Sprintf("object %s has mode %#o", name, mode); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), want) {
			t.Fatalf("Open of a %#o object: %v, want fs.ErrPermission saying %q", mode, err, want)
		}
		t.Log(err)
		o, err = Open(c.Addr().String()+",owner=any", shmchan.AttachOptions{})
		if err != nil {
			t.Fatalf("owner=any: %v", err)
		}
		o.Close()
	}
}

// TestOpenRefusesALaxSemaphore: with posixsem, a semaphore of the
// channel's whose mode lets other users in lets them stall or wake our
// waits: refused as a lax object is, unless owner=any.
func TestOpenRefusesALaxSemaphore(t *testing.T) {
	c, err := Create(NewName(), shmchan.Config{Strategy: shmchan.PosixSem, RingSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	name := c.Addr().(Addr).Name
	if err := os.Chmod("/dev/shm/sem."+name[1:]+"-e1", 0o666); err != nil {
		t.Fatal(err)
	}
	o, err := Open(c.Addr().String(), shmchan.AttachOptions{})
	if err == nil {
		o.Close()
	}
	if want := "semaphore " + name + "-e1 has mode 0666"; !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open with a 0666 semaphore: %v, want fs.ErrPermission saying %q", err, want)
	}
	t.Log(err)
	o, err = Open(c.Addr().String()+",owner=any", shmchan.AttachOptions{})
	if err != nil {
		t.Fatalf("owner=any: %v", err)
	}
	defer o.Close()
	if err := o.Send([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 8)
	if n, err := c.Recv(buf); err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("Recv = %q, %v", buf[:n], err)
	}
}

// TestCreateIsExclusive: an existing name, even a semaphore's, is an
// error naming it, and a failed Create leaves nothing behind.
func TestCreateIsExclusive(t *testing.T) {
	n := NewName()
	c, err := Create(n, shmchan.Config{RingSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(n, shmchan.Config{RingSize: 4096}); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second Create of %s: %v, want EEXIST", n, err)
	}
	c.Close()
	if _, err := os.Stat("/dev/shm/" + n[1:]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Close left the object: %v", err)
	}
	n = NewName()
	taken := "/dev/shm/sem." + n[1:] + "-f1"
	if err := os.WriteFile(taken, make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(taken)
	if _, err := Create(n, shmchan.Config{Strategy: shmchan.PosixSem, RingSize: 4096}); !errors.Is(err, os.ErrExist) {
		t.Fatalf("Create with a semaphore name taken: %v, want EEXIST", err)
	}
	left, _ := os.ReadDir("/dev/shm")
	if len(left) != 1 {
		t.Fatalf("a failed Create left %d files in /dev/shm, want only the one it found", len(left))
	}
	if _, _, err := CreateInherited(shmchan.Config{Strategy: shmchan.PosixSem}); err == nil {
		t.Fatal("a memfd channel with named semaphores was accepted")
	}
}
