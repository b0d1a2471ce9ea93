package shmchan

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

const nobody = 65534

// segmentOfNobody makes a 0666 segment of size bytes as uid 65534, with
// util-linux's ipcmk run under that uid, and returns its id.
func segmentOfNobody(t *testing.T, size uint64) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the attacker is a second user (uid 65534)")
	}
	ipcmk, err := exec.LookPath("ipcmk")
	if err != nil {
		t.Skip("ipcmk (util-linux) not found: it creates the second user's segment")
	}
	cmd := exec.Command(ipcmk, "-M", strconv.FormatUint(size, 10), "-p", "0666")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ipcmk as uid %d: %v: %s", nobody, err, out)
	}
	f := strings.Fields(string(out))
	id, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		t.Fatalf("ipcmk said %q", out)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	return id
}

// victimSet makes a set of 4 semaphores of this user's, each at 3.
func victimSet(t *testing.T, key sysipc.Key) int {
	t.Helper()
	id, err := sysipc.Semget(key, 4, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sysipc.SemctlRemove(id) })
	for i := 0; i < 4; i++ {
		if err := sysipc.SemctlSetVal(id, i, 3); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// forgeHeader writes a valid SysVSem header naming semaphore set sem into
// segment id, with the creator pid the kernel reports.
func forgeHeader(t *testing.T, id, sem int) {
	t.Helper()
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatal(err)
	}
	seg, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.SysvShmDetach(seg)
	h := header{strategy: SysVSem, segSize: segSizeFor(minRing), ringSize: minRing, maxMsg: maxMsgFor(minRing, 8),
		align: 8, semID: int32(sem), creator: ds.Cpid}
	h.put(seg)
}

// untouched checks that set sem still exists with every semaphore at 3 and
// no semop done on it.
func untouched(t *testing.T, sem int) {
	t.Helper()
	ds, err := sysipc.SemctlStat(sem)
	if err != nil {
		t.Fatalf("the victim semaphore set is gone: %v", err)
	}
	if ds.Otime != 0 {
		t.Errorf("a semop was done on the victim set (sem_otime %d)", ds.Otime)
	}
	for i := 0; i < 4; i++ {
		if v, err := sysipc.SemctlGetVal(sem, i); err != nil || v != 3 {
			t.Errorf("victim semaphore %d = %d, %v; want 3", i, v, err)
		}
	}
}

// TestHostileHeaderCannotTouchForeignSemaphores is the attack found on
// main: another user's 0666 segment with a valid header naming this
// user's semaphore set, whose creator is dead. The opener refuses the
// segment unless told to trust other users, and then refuses the set; it
// never waits on, signals or removes it.
func TestHostileHeaderCannotTouchForeignSemaphores(t *testing.T) {
	id := segmentOfNobody(t, segSizeFor(minRing))
	victim := victimSet(t, sysipc.IPCPrivate) // after the segment: its ctime is consistent
	forgeHeader(t, id, victim)

	_, err := Attach(id, AttachOptions{})
	if err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("attach to another user's segment: %v; want a refusal naming the owner", err)
	}
	t.Logf("without opting in: %v", err)
	c, err := Attach(id, AttachOptions{TrustOtherUsers: true})
	if err == nil {
		c.SetDeadline(time.Now()) // what the old code did next: P and V on the set, and remove it on Close
		c.Recv(make([]byte, 64))
		c.Close()
		t.Fatal("attach accepted a header naming another user's semaphore set")
	}
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "semaphore set") {
		t.Fatalf("attach with TrustOtherUsers: %v; want ErrCorrupt about the semaphore set", err)
	}
	t.Logf("opting in: %v", err)
	untouched(t, victim)
}

// TestHeaderNamingAnUnrelatedSetOfOurs: even in a segment of this user's,
// a header naming a set that is not the channel's (here one with a key) is
// refused.
func TestHeaderNamingAnUnrelatedSetOfOurs(t *testing.T) {
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, int(segSizeFor(minRing)), unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	victim := victimSet(t, sysipc.Key(0x7e57_5e70))
	forgeHeader(t, id, victim)
	c, err := Attach(id, AttachOptions{})
	if err == nil {
		c.Close()
		t.Fatal("attach accepted a header naming a keyed semaphore set")
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("attach: %v; want ErrCorrupt", err)
	}
	untouched(t, victim)
}

// blockedProducer fills c's ring and returns once a Send sleeps on the
// futex word; the Send's result arrives on the channel.
func blockedProducer(t *testing.T, c *Chan) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		msg := make([]byte, 512)
		for {
			if err := c.Send(msg); err != nil {
				done <- err
				return
			}
		}
	}()
	for !sleepingOn(t, c.tx.spaceWait) {
		select {
		case err := <-done:
			t.Fatalf("the producer stopped before it had to wait: %v", err)
		default:
			runtime.Gosched()
		}
	}
	return done
}

// sleepingOn reports whether a thread of this process is in a futex wait
// on word, from /proc/self/task/*/syscall: "NR arg0 ...".
func sleepingOn(t *testing.T, word *uint32) bool {
	nr := map[string]string{"amd64": "202", "arm64": "98"}[runtime.GOARCH]
	if nr == "" {
		t.Skipf("the futex system call number of %s is not known to this test", runtime.GOARCH)
	}
	tasks, _ := os.ReadDir("/proc/self/task")
	want := fmt.Sprintf("%#x", uintptr(unsafe.Pointer(word)))
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/syscall")
		if f := strings.Fields(string(b)); len(f) > 1 && f[0] == nr && f[1] == want {
			return true
		}
	}
	return false
}

// TestHostileWakeWordCannotStrandProducer: the peer keeps zeroing the
// producer's wake word, as a hostile or broken peer can; when the peer
// is found dead the producer must still wake and say ErrPeerGone.
func TestHostileWakeWordCannotStrandProducer(t *testing.T) {
	testmain.Watchdog(t, 30*time.Second)
	c, o := pair(t, Config{Strategy: Futex, RingSize: 4096, SpinBudget: -1})
	done := blockedProducer(t, c)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the peer's side of the word, scribbled on
		defer wg.Done()
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			atomic.StoreUint32(o.rx.spaceWait, i&2) // 0 mostly, now and then 2
		}
	}()
	for atomic.LoadUint32(c.tx.spaceWait) == 1 { // until the scribbler has erased the announcement
		runtime.Gosched()
	}
	c.peerDied() // what the pidfd watch calls when the peer exits
	err := <-done
	close(stop)
	wg.Wait()
	if !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("producer after the peer died: %v; want ErrPeerGone", err)
	}
}

// TestFutexWaitIsBounded: a dead peer is noticed even if no wake-up comes
// at all, because every futex wait is bounded (peerCheckInterval).
func TestFutexWaitIsBounded(t *testing.T) {
	testmain.Watchdog(t, 30*time.Second)
	c, _ := pair(t, Config{Strategy: Futex, RingSize: 4096, SpinBudget: -1})
	done := blockedProducer(t, c)
	c.end.SetPeerGone() // the death, with its wake-up lost
	if err := <-done; !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("producer after the peer died: %v; want ErrPeerGone", err)
	}
}

// keyedSegment makes a minimal-ring-sized segment under key for a test
// of reuse, removed when the test ends.
func keyedSegment(t *testing.T, key int) int {
	t.Helper()
	id, err := unix.SysvShmGet(key, int(segSizeFor(minRing)), unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	return id
}

// TestReusedSegmentWithSemaphores: a creator that reuses an existing
// segment (Reuse) makes a set the opener accepts, since it brings the
// segment's ctime up to the set's.
func TestReusedSegmentWithSemaphores(t *testing.T) {
	const key = 0x7e57_5e71
	id := keyedSegment(t, key)
	c, err := Create(Config{Key: key, Reuse: true, Strategy: SysVSem, RingSize: minRing})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.ID() != id {
		t.Fatalf("Create with Reuse made segment %d, want the existing %d", c.ID(), id)
	}
	o, err := Attach(id, AttachOptions{})
	if err != nil {
		t.Fatal(err)
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

// TestReusedSegmentStaleFastTail: a segment reused under its key keeps
// whatever its ring control blocks held, and a fastTail left at 1 would
// let the producer skip its barrier while this consumer, which never
// offered it, sleeps without making one: every wake-up could be lost. Each
// side writes the words it owns when it attaches.
func TestReusedSegmentStaleFastTail(t *testing.T) {
	const key = 0x7e57_5e72
	id := keyedSegment(t, key)
	seg, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ctrl := range []int{ctrlBase, ctrlBase + ctrlSize} {
		atomic.StoreUint32(u32(seg, ctrl+2*lineSize+4), 1) // fastTail
		atomic.StoreUint32(u32(seg, ctrl+lineSize+8), 7)   // barrierReg
	}
	unix.SysvShmDetach(seg)
	c, err := Create(Config{Key: key, Reuse: true, Strategy: Futex, RingSize: minRing})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o, err := Attach(id, AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	reg := uint32(0)
	if sysipc.RegisterGlobalBarrier() {
		reg = 1
	}
	for _, s := range []*Chan{c, o} {
		if got := atomic.LoadUint32(s.rx.fastTail); got != 0 {
			t.Errorf("creator %v: fastTail %d before this consumer offered it", s.creator, got)
		}
		if got := atomic.LoadUint32(s.tx.barrierReg); got != reg {
			t.Errorf("creator %v: barrierReg %d, want %d", s.creator, got, reg)
		}
	}
}
