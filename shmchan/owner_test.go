package shmchan

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"unsafe"

	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// TestOpenerRefusesALaxSemaphoreSet: the sysvsem channel's set is ours,
// as its segment is, but a mode that lets other users in lets them stall
// or wake our waits: Attach refuses it (fs.ErrPermission naming the set
// and its mode) unless told to trust other users.
func TestOpenerRefusesALaxSemaphoreSet(t *testing.T) {
	c, err := Create(Config{Strategy: SysVSem, RingSize: minRing})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sem := int(c.hdr.semID)
	ds, err := sysipc.SemctlStat(sem)
	if err != nil {
		t.Fatal(err)
	}
	ds.Perm.Mode = 0o666
	if _, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(sem), 0, unix.IPC_SET, uintptr(unsafe.Pointer(ds)), 0, 0); e != 0 {
		t.Fatalf("semctl IPC_SET: %v", e)
	}
	o, err := Attach(c.ID(), AttachOptions{})
	if err == nil {
		o.Close()
	}
	if want := fmt.Sprintf("semaphore set %d has mode 0666", sem); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), want) {
		t.Fatalf("attach with a 0666 semaphore set: %v; want fs.ErrPermission saying %q", err, want)
	}
	t.Log(err)
	o, err = Attach(c.ID(), AttachOptions{TrustOtherUsers: true})
	if err != nil {
		t.Fatalf("attach with TrustOtherUsers: %v", err)
	}
	defer o.Close()
	if err := c.Send([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := o.Recv(buf); err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("Recv = %q, %v", buf[:n], err)
	}
}
