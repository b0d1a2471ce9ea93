package pipe

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"golang.org/x/sys/unix"
)

const nobody = 65534

// exchange sends one message each way, within a deadline, so that a
// channel an opener accepted is shown to work.
func exchange(t *testing.T, c, o ipclab.Conn) {
	t.Helper()
	for _, e := range []ipclab.Conn{c, o} {
		e.SetDeadline(time.Now().Add(10 * time.Second))
	}
	buf := make([]byte, 16)
	for _, d := range []struct{ from, to ipclab.Conn }{{o, c}, {c, o}} {
		if err := d.from.Send([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		if n, err := d.to.Recv(buf); err != nil || string(buf[:n]) != "hi" {
			t.Fatalf("recv %q, %v; want \"hi\"", buf[:n], err)
		}
	}
}

// TestFIFOOpenerRefusesWhatIsNotPrivate: the opener uses a FIFO pair only
// if it is ours and no other user can reach it; either FIFO of another
// user (given away with chown, which needs root) or with a lax mode is
// refused, with fs.ErrPermission naming what was found, and ,owner=any
// opens it anyway.
func TestFIFOOpenerRefusesWhatIsNotPrivate(t *testing.T) {
	cases := []struct {
		name   string
		root   bool
		spoil  func(path string) error
		want   string
		suffix string // which FIFO is spoiled
	}{
		{"other owner to creator", true, func(p string) error { return os.Chown(p, nobody, nobody) }, "is owned by uid 65534", ".2"},
		{"other owner to opener", true, func(p string) error { return os.Chown(p, nobody, nobody) }, "is owned by uid 65534", ".1"},
		{"mode 0666", false, func(p string) error { return os.Chmod(p, 0o666) }, "has mode 0666", ".2"},
		{"mode 0620", false, func(p string) error { return os.Chmod(p, 0o620) }, "has mode 0620", ".1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root && os.Geteuid() != 0 {
				t.Skip("needs root to give the FIFO to a second user (uid 65534)")
			}
			base := filepath.Join(t.TempDir(), "f")
			// The creator trusts what the test does to its FIFOs; it is the
			// opener under test.
			c, err := CreateFIFO(base, Options{TrustOtherUsers: true})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			spoilt := base + tc.suffix
			if err := tc.spoil(spoilt); err != nil {
				t.Fatal(err)
			}
			_, err = Open("fifo:"+base, Options{})
			if err == nil || !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "FIFO "+spoilt+" "+tc.want) ||
				!strings.Contains(err.Error(), ",owner=any") {
				t.Fatalf("open: %v; want fs.ErrPermission saying FIFO %s %s and naming ,owner=any", err, spoilt, tc.want)
			}
			t.Log(err)
			a, err := ParseAddr("fifo:" + base + ",owner=any")
			if err != nil || a.Path != base || !a.AnyOwner || a.String() != "fifo:"+base+",owner=any" {
				t.Fatalf("ParseAddr(fifo:%s,owner=any) = %+v, %v", base, a, err)
			}
			o, err := Open(a.String(), Options{})
			if err != nil {
				t.Fatalf("open with ,owner=any: %v", err)
			}
			defer o.Close()
			exchange(t, c, o)
		})
	}
}

// TestFIFOCreatorChecksItsFIFOs: the creator checks the FIFOs it
// opens after mkfifo too; a mode wider than it asked for (Options.Mode) is
// refused, the one it asked for is its choice.
func TestFIFOCreatorChecksItsFIFOs(t *testing.T) {
	base := filepath.Join(t.TempDir(), "g")
	c, err := CreateFIFO(base, Options{Mode: 0o660})
	if err != nil {
		t.Fatalf("a creator that asked for 0660: %v", err)
	}
	c.Close()
	if check := (Options{}).creatorCheck(); check.any || check.allow != 0o600 {
		t.Fatalf("the default creator check is %+v, want 0600 and no trust", check)
	}
	p := filepath.Join(t.TempDir(), "h")
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	f, err := openFIFO(p, unix.O_RDONLY, (Options{}).creatorCheck())
	if err == nil {
		f.Close()
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("a 0666 FIFO where the creator asked for 0600: %v, want fs.ErrPermission", err)
	}
}
