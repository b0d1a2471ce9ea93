package shmchan

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/posixsem"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

// memObject is a channel's memory in a memfd, with eventfds: the object
// posixshm's inherited pair uses, both ends in this process.
type memObject struct {
	mem []byte
	efd [4]int
}

func (o *memObject) Unlink() {}
func (o *memObject) Close(bool) {
	unix.Munmap(o.mem)
	for _, fd := range o.efd {
		unix.Close(fd)
	}
}
func (o *memObject) PosixSems(bool) ([4]*posixsem.Sem, error) {
	return [4]*posixsem.Sem{}, fmt.Errorf("no names")
}
func (o *memObject) EventFDs() ([4]int, error) { return o.efd, nil }

// eventfdPair makes an EventFD channel in a memfd: the creator's end and
// the opener's, each with its own mapping and descriptors of the same
// four eventfds.
func eventfdPair(t *testing.T, spin time.Duration) (*Chan, *Chan, [4]int) {
	t.Helper()
	cfg := Config{Strategy: EventFD, RingSize: 4096, SpinBudget: spin}
	size, err := SegmentSize(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.MemfdCreate("ipclab-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatal(err)
	}
	obj := func() *memObject {
		mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		return &memObject{mem: mem}
	}
	co, oo := obj(), obj()
	for i := range co.efd {
		if co.efd[i], err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
			t.Fatal(err)
		}
		if oo.efd[i], err = unix.Dup(co.efd[i]); err != nil {
			t.Fatal(err)
		}
	}
	c, err := CreateOn(co.mem, co, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	o, err := AttachOn(oo.mem, uint64(size), oo, AttachOptions{SpinBudget: spin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return c, o, co.efd
}

// TestEventFDWakesByEventfd: under EventFD a producer that finds the
// consumer announced asleep writes the consumer's eventfd (not a futex
// wake), and a sleeping consumer sleeps in ppoll, on the eventfd, and
// is woken by it.
func TestEventFDWakesByEventfd(t *testing.T) {
	testmain.Watchdog(t, time.Minute)
	c, o, efd := eventfdPair(t, -1)
	// Drain what attach wrote (the opener tells the creator it is there).
	var b [8]byte
	for _, fd := range efd {
		unix.Read(fd, b[:])
	}
	atomic.StoreUint32(c.tx.dataWait, 1) // the opener says it sleeps for data
	if err := c.Send([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Read(efd[0], b[:]); err != nil || n != 8 || b[0] != 1 {
		t.Fatalf("ring 0's data eventfd after a Send to a sleeper: %d bytes %v, %v; want a count of 1", n, b, err)
	}
	if atomic.LoadUint32(c.tx.dataWait) != 0 {
		t.Fatal("the wake left the announcement set")
	}
	buf := make([]byte, 8)
	if n, err := o.Recv(buf); err != nil || string(buf[:n]) != "x" {
		t.Fatalf("Recv: %q, %v", buf[:n], err)
	}

	// A Recv with nothing to read sleeps in ppoll (no spin: budget off).
	got := make(chan string, 1)
	go func() {
		runtime.LockOSThread()
		n, err := o.Recv(buf)
		got <- fmt.Sprint(string(buf[:n]), err)
	}()
	for atomic.LoadUint32(o.rx.dataWait) == 0 || !threadIn(unix.SYS_PPOLL) {
		time.Sleep(time.Millisecond)
	}
	if err := c.Send([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "y<nil>" {
		t.Fatalf("the sleeper got %q", s)
	}
}

// threadIn reports whether a thread of this process is in system call nr.
func threadIn(nr int) bool {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/syscall")
		if strings.HasPrefix(string(b), fmt.Sprint(nr)+" ") {
			return true
		}
	}
	return false
}

// TestEventFDRoundTrips: many messages each way through a small ring,
// both sides sleeping and waking on eventfds (no spin), then Close wakes
// a blocked Recv.
func TestEventFDRoundTrips(t *testing.T) {
	testmain.Watchdog(t, time.Minute)
	c, o, _ := eventfdPair(t, -1)
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 2048)
		for i := 0; i < 2000; i++ {
			n, err := o.Recv(buf)
			if err == nil {
				err = o.Send(buf[:n])
			}
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	buf := make([]byte, 2048)
	for i := 0; i < 2000; i++ {
		msg := []byte(fmt.Sprintf("%d%s", i, strings.Repeat("z", i%1500)))
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
		n, err := c.Recv(buf)
		if err != nil || string(buf[:n]) != string(msg) {
			t.Fatalf("round trip %d: %d bytes, %v", i, n, err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(10 * time.Millisecond); c.Close() }()
	if _, err := c.Recv(buf); err == nil {
		t.Fatal("Recv on a closed channel succeeded")
	}
}
