package shmchan

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/sysipc"
	"github.com/ipclab/ipclab/internal/testmain"
)

// TestFastTailFollowsTheSpinner: the consumer lets the producer publish
// without a barrier (rx.fastTail) while its data spins succeed, withdraws
// it with a barrier of its own when spinning stops, and offers it again
// when a probe succeeds; the semaphore and spin strategies never offer it.
func TestFastTailFollowsTheSpinner(t *testing.T) {
	if !sysipc.RegisterGlobalBarrier() {
		t.Skip("membarrier's global expedited barrier is refused here: producers always make their own barrier")
	}
	c, o := pair(t, Config{Strategy: Futex})
	if atomic.LoadUint32(c.tx.barrierReg) != 1 || atomic.LoadUint32(o.tx.barrierReg) != 1 {
		t.Fatal("a side of a registered process did not say so in its ring")
	}
	fast := func() bool { return atomic.LoadUint32(o.rx.fastTail) == 1 }
	o.recvMu.Lock()
	defer o.recvMu.Unlock()
	if fast() {
		t.Fatal("fastTail offered before any spin")
	}
	o.recordSpin(&o.dataSpin, true)
	if !fast() || !o.rxFastTail {
		t.Fatal("fastTail not offered after a spin that succeeded")
	}
	before := o.recvStats.Barriers
	for range offAfter {
		o.recordSpin(&o.dataSpin, false)
	}
	if fast() || o.rxFastTail {
		t.Fatalf("fastTail still offered after %d spins ran out", offAfter)
	}
	if o.recvStats.Barriers != before+1 {
		t.Errorf("withdrawing fastTail made %d barriers, want 1", o.recvStats.Barriers-before)
	}
	o.recordSpin(&o.dataSpin, true) // a probe that succeeded
	if !fast() {
		t.Error("fastTail not offered again after a successful probe")
	}
	for _, st := range []Strategy{Spin, SysVSem} {
		_, p := pair(t, Config{Strategy: st})
		p.recvMu.Lock()
		p.recordSpin(&p.dataSpin, true)
		p.recvMu.Unlock()
		if atomic.LoadUint32(p.rx.fastTail) != 0 {
			t.Errorf("%v: fastTail offered", st)
		}
	}
}

// TestNoLostWakeUps: a stream whose producer pauses at random, so that
// the consumer keeps switching between spinning (fastTail offered: the
// producer makes no barrier), sleeping after a spin that ran out (the
// consumer's membarrier stands for it) and sleeping at once (withdrawn:
// the producer's XCHG). Every message arrives in order and no sleep
// ends unwoken with its message there (LateWakes): a wake-up lost to a
// reordered store would sleep out the 100 ms bound and be counted.
func TestNoLostWakeUps(t *testing.T) {
	testmain.Watchdog(t, 3*time.Minute)
	n := 20000
	if testing.Short() {
		n = 2000
	}
	c, o := pair(t, Config{Strategy: Futex, SpinBudget: 3 * time.Microsecond})
	errc := make(chan error, 1)
	go func() {
		rng := rand.New(rand.NewPCG(1, 2))
		msg := make([]byte, 64)
		for i := range n {
			binary.LittleEndian.PutUint64(msg, uint64(i))
			if err := c.Send(msg); err != nil {
				errc <- err
				return
			}
			// Blocks of 2,000: in even ones most pauses are shorter than
			// the consumer's spin (it spins and succeeds, fastTail on) and
			// one in 50 a sleep (a spin runs out: it sleeps after its
			// barrier, spinning stays on); in odd ones one in four is a
			// sleep (its spins run out, spinning and fastTail go off, then
			// it sleeps at once; a probe now and then).
			sleepOdds := 50
			if i/2000%2 == 1 {
				sleepOdds = 4
			}
			if rng.IntN(sleepOdds) == 0 {
				time.Sleep(time.Duration(rng.IntN(50)) * time.Microsecond)
			} else if rng.IntN(4) == 0 {
				pause := time.Duration(rng.IntN(2000)) * time.Nanosecond
				for start := time.Now(); time.Since(start) < pause; {
				}
			}
		}
		errc <- nil
	}()
	buf := make([]byte, 64)
	want := make([]byte, 64)
	for i := range n {
		k, err := o.Recv(buf)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		binary.LittleEndian.PutUint64(want, uint64(i))
		if !bytes.Equal(buf[:k], want) {
			t.Fatalf("message %d: got %x", i, buf[:8])
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	recv, _ := o.WaitStats()
	t.Logf("consumer: %+v", recv)
	if recv.LateWakes != 0 {
		t.Errorf("%d sleeps were never woken though their message had come", recv.LateWakes)
	}
	if recv.Sleeps == 0 {
		t.Error("the consumer never slept: the test did not reach the wake-up protocol")
	}
	if sysipc.RegisterGlobalBarrier() && recv.Barriers == 0 {
		t.Error("the consumer made no barrier: fastTail was never offered, or never withdrawn")
	}
}
