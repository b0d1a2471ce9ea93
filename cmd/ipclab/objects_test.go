package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ipclab/ipclab/internal/ipcobj"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/sysipc"
	"golang.org/x/sys/unix"
)

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func nsInode(t *testing.T, path string) uint64 {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// plant writes an entry file into this user's registry, as a stale or
// forged entry would be, and removes it at the end.
func plant(t *testing.T, e registry.Entry, ns uint64) {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%s-%d-%d.json", e.Kind, ns, e.ID)
	if e.Name != "" {
		t.Fatal("plant: System V entries only")
	}
	dir := registry.Dir()
	os.Mkdir(dir, 0o700)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(p) })
}

// TestCleanRemovesOnlyWhatTheKernelConfirms reproduces the attacks on
// clean found on main: (a) entries naming a queue and a segment ipclab
// did not create, with a dead pid; (b) an entry from another IPC
// namespace whose id, and every other recorded field, match an unrelated
// queue here, and a real entry left by a run killed in another namespace;
// (c) a segment carrying ipclab's magic and a dead creator pid. clean must
// remove none of them and list each as not verified.
func TestCleanRemovesOnlyWhatTheKernelConfirms(t *testing.T) {
	queue, err := sysipc.Msgget(sysipc.IPCPrivate, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer sysipc.MsgctlRemove(queue)
	seg, err := unix.SysvShmGet(unix.IPC_PRIVATE, 8192, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.SysvShmCtl(seg, unix.IPC_RMID, nil)
	forged, err := unix.SysvShmGet(unix.IPC_PRIVATE, 8192, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.SysvShmCtl(forged, unix.IPC_RMID, nil)
	mem, err := unix.SysvShmAttach(forged, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	dead := deadPID(t)
	binary.LittleEndian.PutUint64(mem[0:], 0x4853_4241_4c43_5049) // shmchan's magic
	binary.LittleEndian.PutUint32(mem[56:], uint32(dead))         // its creator pid
	unix.SysvShmDetach(mem)

	here := nsInode(t, "/proc/self/ns/ipc")
	// (a) main's entries: no identity, a dead creator.
	plant(t, registry.Entry{Kind: ipcobj.SysVMsg, ID: queue, PID: dead, Start: 1}, here)
	plant(t, registry.Entry{Kind: ipcobj.SysVShm, ID: seg, PID: dead, Start: 1}, here)
	// (b) another namespace: everything equal to the queue here but the
	// namespace.
	ident, err := registry.Probe(registry.Entry{Kind: ipcobj.SysVMsg, ID: queue})
	if err != nil {
		t.Fatal(err)
	}
	other := nsInode(t, fmt.Sprintf("/proc/%d/ns/ipc", os.Getppid()))
	if other == here {
		other = here + 1 // leakcheck had no private namespace: any other number is another namespace
	}
	ident.NS = other
	plant(t, registry.Entry{Kind: ipcobj.SysVMsg, ID: queue, PID: dead, Start: 1, Ident: &ident}, other)

	// (b') a real run killed in a namespace of its own.
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "recv", "sysvmsg:key=0x7e570011")
	cmd.Env = append(os.Environ(), envMain+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWIPC}
	errPipe, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	n, _ := errPipe.Read(buf)
	cmd.Process.Kill()
	cmd.Wait()
	killedInOtherNS := strings.Contains(string(buf[:n]), "waiting on")
	if !killedInOtherNS {
		t.Logf("no run in a namespace of its own (%q): that case is not covered", buf[:n])
	}

	out, errOut, code := runCLI(t, "", "ls")
	if code != 0 {
		t.Fatalf("ls: exit %d: %s", code, errOut)
	}
	t.Logf("ls:\n%s", out)
	out, errOut, code = runCLI(t, "", "clean")
	t.Logf("clean:\n%s%s", out, errOut)
	if code != 0 {
		t.Fatalf("clean: exit %d", code)
	}
	if _, err := sysipc.MsgctlStat(queue); err != nil {
		t.Errorf("clean removed a queue ipclab did not create: %v", err)
	}
	for _, id := range []int{seg, forged} {
		if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &unix.SysvShmDesc{}); err != nil {
			t.Errorf("clean removed segment %d, which ipclab did not create: %v", id, err)
		}
	}
	wants := []string{
		fmt.Sprintf("not verified sysvmsg id=%d key=0x00000000: the entry records no identity", queue),
		fmt.Sprintf("not verified sysvshm id=%d key=0x00000000: the entry records no identity", seg),
		fmt.Sprintf("not verified sysvmsg id=%d key=0x00000000: recorded in IPC namespace %d", queue, other),
		fmt.Sprintf("not verified sysvshm id=%d key=0x00000000: its header names creator pid %d", forged, dead),
	}
	if killedInOtherNS {
		wants = append(wants, "key=0x7e570011: recorded in IPC namespace")
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("clean does not say %q", want)
		}
	}
	if !strings.Contains(out, "0 object(s) removed") {
		t.Errorf("clean removed something")
	}
	// -forget-unverified drops those entries and still removes nothing.
	out, _, code = runCLI(t, "", "clean", "-forget-unverified")
	if code != 0 || !strings.Contains(out, "0 object(s) removed") {
		t.Fatalf("clean -forget-unverified: exit %d\n%s", code, out)
	}
	if _, err := sysipc.MsgctlStat(queue); err != nil {
		t.Errorf("clean -forget-unverified removed a queue ipclab did not create: %v", err)
	}
	if out, _, _ := runCLI(t, "", "ls"); strings.Contains(out, "not verified (the entry") || strings.Contains(out, "key=0x7e570011") {
		t.Errorf("entries left after clean -forget-unverified:\n%s", out)
	}
}

// TestCleanRefusesAPlantedRegistry: with the registry directory planted by
// another user (mode 777, owned by uid 65534) clean stops with an error
// naming the directory and its owner and removes nothing.
func TestCleanRefusesAPlantedRegistry(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test gives the registry directory to a second user (uid 65534)")
	}
	tmp := t.TempDir()
	os.Chmod(tmp, 0o1777)
	t.Setenv("TMPDIR", tmp)
	t.Setenv("IPCLAB_REGISTRY", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	planted := filepath.Join(tmp, fmt.Sprintf("ipclab-%d", os.Geteuid()))
	if err := os.Mkdir(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(planted, 0o777)
	queue, err := sysipc.Msgget(sysipc.IPCPrivate, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer sysipc.MsgctlRemove(queue)
	b, _ := json.Marshal(registry.Entry{Kind: ipcobj.SysVMsg, ID: queue, PID: deadPID(t), Start: 1})
	os.WriteFile(filepath.Join(planted, fmt.Sprintf("sysvmsg-%d-%d.json", nsInode(t, "/proc/self/ns/ipc"), queue)), b, 0o666)
	os.Lchown(filepath.Join(planted, fmt.Sprintf("sysvmsg-%d-%d.json", nsInode(t, "/proc/self/ns/ipc"), queue)), 65534, 65534)
	if err := os.Lchown(planted, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "", "clean")
	if code == 0 || !strings.Contains(errOut, planted+" belongs to uid 65534") {
		t.Fatalf("clean with a planted registry: exit %d, %q; want a refusal naming it", code, errOut)
	}
	if _, err := sysipc.MsgctlStat(queue); err != nil {
		t.Fatalf("clean removed the queue a planted entry names: %v", err)
	}
}
