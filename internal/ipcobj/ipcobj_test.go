package ipcobj

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

func TestSysVListsWhatWasCreated(t *testing.T) {
	id, err := sysipc.Msgget(sysipc.IPCPrivate, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer sysipc.MsgctlRemove(id)
	sid, err := sysipc.Semget(sysipc.IPCPrivate, 2, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer sysipc.SemctlRemove(sid)
	for _, want := range []Object{{Kind: SysVMsg, ID: id, Mode: 0o600}, {Kind: SysVSem, ID: sid, Mode: 0o640}} {
		objs, err := SysV(want.Kind)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, o := range objs {
			if o.ID == want.ID {
				found = true
				if o.Mode != want.Mode || o.Key != 0 || o.UID != os.Getuid() {
					t.Errorf("%s listed as %+v, want mode %#o, key 0, uid %d", want.Kind, o, want.Mode, os.Getuid())
				}
			}
		}
		if !found {
			t.Errorf("%s id %d not listed", want.Kind, want.ID)
		}
	}
}

func TestFIFOsAndDiff(t *testing.T) {
	dir := t.TempDir()
	before, err := FIFOs(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "a.fifo")
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "plain"), nil, 0o600)
	after, _ := FIFOs(dir, 2)
	d := Diff(before, after)
	if len(d) != 1 || d[0].Name != p || d[0].Kind != FIFO {
		t.Fatalf("diff = %v, want just the FIFO %s", d, p)
	}
}

// TestPids: a segment names its creator, a queue the last process that
// sent to it; a leak report relies on both.
func TestPids(t *testing.T) {
	seg, err := unix.SysvShmGet(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.SysvShmCtl(seg, unix.IPC_RMID, nil)
	if c, s := Pids(Object{Kind: SysVShm, ID: seg}); c != os.Getpid() || s != 0 {
		t.Errorf("segment: creator %d, sender %d; want %d, 0", c, s, os.Getpid())
	}
	q, err := sysipc.Msgget(sysipc.IPCPrivate, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer sysipc.MsgctlRemove(q)
	if c, s := Pids(Object{Kind: SysVMsg, ID: q}); c != 0 || s != 0 {
		t.Errorf("queue nobody sent to: creator %d, sender %d; want 0, 0", c, s)
	}
	msg := make([]byte, sysipc.MsgHeader+1)
	sysipc.PutMtype(msg, 1)
	if err := sysipc.Msgsnd(q, msg, unix.IPC_NOWAIT); err != nil {
		t.Fatal(err)
	}
	if c, s := Pids(Object{Kind: SysVMsg, ID: q}); c != 0 || s != os.Getpid() {
		t.Errorf("queue: creator %d, sender %d; want 0, %d", c, s, os.Getpid())
	}
}
