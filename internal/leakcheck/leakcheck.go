// Package leakcheck is the safety net of every test package that creates
// kernel objects: its TestMain fails the run when an object the tests
// created is still alive at the end, and removes it so the next run starts
// clean.
package leakcheck

import (
	"fmt"
	"os"
	"testing"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// Main runs the tests and exits, with status 1 if they leaked an object.
func Main(m *testing.M) {
	mq, unmount := mqueueDir()
	before, err := snapshot(mq)
	if err != nil {
		fmt.Fprintf(os.Stderr, "leakcheck: cannot list IPC objects, so cannot check for leaks: %v\n", err)
		unmount()
		os.Exit(1)
	}
	code := m.Run()
	after, err := snapshot(mq)
	if err != nil {
		fmt.Fprintf(os.Stderr, "leakcheck: %v\n", err)
		code = 1
	}
	leaked := ipcobj.Diff(before, after)
	if len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "leakcheck: the tests left %d IPC object(s) alive:\n", len(leaked))
		for _, o := range leaked {
			fmt.Fprintf(os.Stderr, "  %s\n", o)
			remove(o)
		}
		if code == 0 {
			code = 1
		}
	}
	unmount()
	os.Exit(code)
}

func snapshot(mqdir string) ([]ipcobj.Object, error) {
	var all []ipcobj.Object
	for _, k := range []ipcobj.Kind{ipcobj.SysVMsg, ipcobj.SysVSem, ipcobj.SysVShm} {
		objs, err := ipcobj.SysV(k)
		if err != nil {
			return nil, err
		}
		all = append(all, objs...)
	}
	if mqdir != "" {
		objs, err := ipcobj.PosixQueues(mqdir)
		if err != nil {
			return nil, err
		}
		all = append(all, objs...)
	}
	fifos, err := ipcobj.FIFOs(os.TempDir(), 2)
	return append(all, fifos...), err
}

// mqueueDir finds an mqueue mount, or mounts a private one (the tests run as
// root here) so POSIX queues can be listed; the returned func undoes it.
func mqueueDir() (string, func()) {
	if d := ipcobj.MqueueMount(); d != "" {
		return d, func() {}
	}
	d, err := os.MkdirTemp("", "ipclab-mqueue-")
	if err != nil {
		return "", func() {}
	}
	if err := unix.Mount("none", d, "mqueue", 0, ""); err != nil {
		fmt.Fprintf(os.Stderr, "leakcheck: cannot mount mqueue to list POSIX queues (%v); they are not checked\n", err)
		os.Remove(d)
		return "", func() {}
	}
	return d, func() { unix.Unmount(d, unix.MNT_DETACH); os.Remove(d) }
}

func remove(o ipcobj.Object) {
	switch o.Kind {
	case ipcobj.SysVMsg:
		sysipc.MsgctlRemove(o.ID)
	case ipcobj.SysVSem:
		sysipc.SemctlRemove(o.ID)
	case ipcobj.SysVShm:
		unix.SysvShmCtl(o.ID, unix.IPC_RMID, nil)
	case ipcobj.PosixMQ:
		sysipc.MqUnlink(o.Name)
	case ipcobj.FIFO:
		os.Remove(o.Name)
	}
}
