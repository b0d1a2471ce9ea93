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
