package intr

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

// The tests create semaphore sets: check that none is left behind.
func TestMain(m *testing.M) { testmain.Main(m) }

// blockOnSem blocks in semop on a semaphore nobody posts, the way transports
// block in msgrcv, and reports what woke it.
func TestWakeAllInterruptsBlockedSemop(t *testing.T) {
	id, err := sysipc.Semget(sysipc.IPCPrivate, 1, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer sysipc.SemctlRemove(id)

	var ws Waiters
	var stop sync.WaitGroup
	var mu sync.Mutex
	stopping := false
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		stop.Add(1)
		go func() {
			defer stop.Done()
			for {
				w := ws.Enter(time.Time{})
				mu.Lock()
				s := stopping
				mu.Unlock()
				if s {
					w.Exit()
					errs <- nil
					return
				}
				err := sysipc.Semop(id, []sysipc.Sembuf{{Num: 0, Op: -1}})
				w.Exit()
				if !errors.Is(err, unix.EINTR) {
					errs <- err
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let them block
	mu.Lock()
	stopping = true
	mu.Unlock()
	ws.WakeAll()
	done := make(chan struct{})
	go func() { stop.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("waiters still blocked 5s after WakeAll")
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("waiter returned %v, want a clean wake-up", err)
		}
	}
}

func TestDeadlineInterruptsBlockedSemop(t *testing.T) {
	id, err := sysipc.Semget(sysipc.IPCPrivate, 1, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer sysipc.SemctlRemove(id)
	var ws Waiters
	start := time.Now()
	w := ws.Enter(start.Add(30 * time.Millisecond))
	err = sysipc.Semop(id, []sysipc.Sembuf{{Num: 0, Op: -1}})
	w.Exit()
	if !errors.Is(err, unix.EINTR) {
		t.Fatalf("semop returned %v, want EINTR from the deadline", err)
	}
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Fatalf("woken after %v, before the deadline", el)
	}
}
