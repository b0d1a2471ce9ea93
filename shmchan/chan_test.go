package shmchan

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/testmain"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testmain.Main(m) }

// pair makes both sides in this process. The headline numbers come from
// two processes (transports/sysvshm); these tests are about the ring's
// logic, which is the same, and run under -race.
func pair(t testing.TB, cfg Config) (creator, opener *Chan) {
	t.Helper()
	c, err := Create(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o, err := Attach(c.ID(), AttachOptions{SpinBudget: cfg.SpinBudget})
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close(); c.Close() })
	return c, o
}

var strategies = []Strategy{Futex, SysVSem, Spin}

func msgFor(i, n int) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*7 + j)
	}
	return b
}

// TestStreamWrapsAround pushes messages of random sizes through a small
// ring from one goroutine to another: thousands of wrap-arounds, full and
// empty rings, padding records, all checked byte for byte.
func TestStreamWrapsAround(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			c, o := pair(t, Config{Strategy: s, RingSize: 4096})
			max := c.MaxMessageSize()
			const n = 5000
			sizes := make([]int, n)
			rng := rand.New(rand.NewSource(1))
			for i := range sizes {
				sizes[i] = rng.Intn(max + 1)
				if i%50 == 0 {
					sizes[i] = max
				}
			}
			errc := make(chan error, 1)
			go func() {
				for i, sz := range sizes {
					if err := c.Send(msgFor(i, sz)); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			buf := make([]byte, max)
			o.SetReadDeadline(time.Now().Add(time.Minute))
			for i, sz := range sizes {
				m, err := o.Recv(buf)
				if err != nil {
					t.Fatalf("recv %d: %v", i, err)
				}
				if !bytes.Equal(buf[:m], msgFor(i, sz)) {
					t.Fatalf("message %d: %d bytes, want %d", i, m, sz)
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFullAndEmpty(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			c, o := pair(t, Config{Strategy: s, RingSize: 4096})
			o.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, err := o.Recv(make([]byte, 8)); !errors.Is(err, ipclab.ErrTimeout) {
				t.Fatalf("recv on an empty ring: %v, want a timeout", err)
			}
			// Records of 1000+8 bytes, aligned: how many fit in 4096 bytes
			// depends on the alignment; the ring must take exactly that many.
			rec := alignUp(1008, c.hdr.align)
			want := int(4096 / rec)
			c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
			sent := 0
			for ; sent < 100; sent++ {
				if err := c.Send(msgFor(sent, 1000)); err != nil {
					if !errors.Is(err, ipclab.ErrTimeout) {
						t.Fatalf("send to a full ring: %v, want a timeout", err)
					}
					break
				}
			}
			if sent != want {
				t.Fatalf("a 4096-byte ring took %d messages of 1000 bytes, want %d (records of %d bytes)", sent, want, rec)
			}
			buf := make([]byte, 1000)
			o.SetReadDeadline(time.Time{})
			for i := 0; i < sent; i++ {
				if n, err := o.Recv(buf); err != nil || !bytes.Equal(buf[:n], msgFor(i, 1000)) {
					t.Fatalf("recv %d after filling: %d bytes, %v", i, n, err)
				}
			}
		})
	}
}

// TestMaxSizeAtEveryOffset sends the largest message from many starting
// offsets, so it needs padding before it at most of them.
func TestMaxSizeAtEveryOffset(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			c, o := pair(t, Config{Strategy: s, RingSize: 4096})
			max := c.MaxMessageSize()
			if want := int(maxMsgFor(4096, c.hdr.align)); max != want {
				t.Fatalf("MaxMessageSize %d, want %d", max, want)
			}
			buf := make([]byte, max)
			for off := 0; off < 64; off++ {
				small := msgFor(off, off*8)
				big := msgFor(off+1, max)
				for _, m := range [][]byte{small, big} {
					if err := c.Send(m); err != nil {
						t.Fatalf("offset %d: send %d bytes: %v", off, len(m), err)
					}
					n, err := o.Recv(buf)
					if err != nil || !bytes.Equal(buf[:n], m) {
						t.Fatalf("offset %d: recv of %d bytes: got %d, %v", off, len(m), n, err)
					}
				}
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	_, err := Create(Config{RingSize: 4096, MaxMessage: 4000})
	var le *ipclab.LimitError
	if !errors.As(err, &le) || le.Limit != int(maxMsgFor(4096, 8)) {
		t.Fatalf("MaxMessage beyond half the ring: %v, want a LimitError with the ring's ceiling", err)
	}
	c, _ := pair(t, Config{RingSize: 4096, MaxMessage: 100})
	var tl *ipclab.TooLargeError
	if err := c.Send(make([]byte, 101)); !errors.As(err, &tl) || tl.Limit != 100 {
		t.Fatalf("send of 101 bytes with MaxMessage 100: %v", err)
	}
	// Most channels are made through the transports table, not a Config.
	if !strings.Contains(tl.Raise, "RingSizeFor") || !strings.Contains(tl.Raise, "transports.Options.MaxMessage") {
		t.Errorf("how to raise the limit: %q, want RingSizeFor and transports.Options.MaxMessage named", tl.Raise)
	}
	if _, err := Create(Config{RingSize: 5000}); err == nil {
		t.Fatal("a ring size that is not a power of two was accepted")
	}
}

func TestShortBufferKeepsMessage(t *testing.T) {
	for _, s := range strategies {
		c, o := pair(t, Config{Strategy: s, RingSize: 4096})
		c.Send(msgFor(1, 100))
		c.Send(msgFor(2, 5))
		_, err := o.Recv(make([]byte, 10))
		var sb *ipclab.ShortBufferError
		if !errors.As(err, &sb) || sb.Size != 100 || !sb.Kept {
			t.Fatalf("%s: short buffer: %v", s, err)
		}
		buf := make([]byte, 100)
		for _, want := range [][]byte{msgFor(1, 100), msgFor(2, 5)} {
			o.SetReadDeadline(time.Now().Add(time.Second))
			if n, err := o.Recv(buf); err != nil || !bytes.Equal(buf[:n], want) {
				t.Fatalf("%s: after the short buffer: %d bytes, %v", s, n, err)
			}
		}
	}
}

func TestZeroCopy(t *testing.T) {
	c, o := pair(t, Config{RingSize: 1 << 16})
	b, err := c.Reserve(300)
	if err != nil || len(b) != 300 {
		t.Fatalf("Reserve: %d bytes, %v", len(b), err)
	}
	copy(b, msgFor(9, 300))
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	m, err := o.RecvInPlace()
	if err != nil || !bytes.Equal(m, msgFor(9, 300)) {
		t.Fatalf("RecvInPlace: %d bytes, %v", len(m), err)
	}
	if err := o.Release(); err != nil {
		t.Fatal(err)
	}
	if err := o.Release(); err == nil {
		t.Fatal("a second Release was accepted")
	}
}

func TestSendBatch(t *testing.T) {
	for _, s := range strategies {
		c, o := pair(t, Config{Strategy: s, RingSize: 4096})
		msgs := make([][]byte, 1000)
		for i := range msgs {
			msgs[i] = msgFor(i, i%40)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			o.SetReadDeadline(time.Now().Add(time.Minute))
			for i := range msgs {
				if n, err := o.Recv(buf); err != nil || !bytes.Equal(buf[:n], msgs[i]) {
					t.Errorf("%s: batch message %d: %d bytes, %v", s, i, n, err)
					return
				}
			}
		}()
		if n, err := c.SendBatch(msgs); n != len(msgs) || err != nil {
			t.Fatalf("%s: SendBatch sent %d of %d: %v", s, n, len(msgs), err)
		}
		wg.Wait()
	}
}

func TestCloseIsPromptAndIdempotent(t *testing.T) {
	for _, s := range strategies {
		c, o := pair(t, Config{Strategy: s, RingSize: 4096})
		res := make(chan error, 1)
		go func() { _, err := o.Recv(make([]byte, 8)); res <- err }()
		time.Sleep(20 * time.Millisecond)
		o.Close()
		select {
		case err := <-res:
			if !errors.Is(err, ipclab.ErrClosed) {
				t.Fatalf("%s: recv woken by close: %v", s, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: close did not wake a blocked recv", s)
		}
		o.Close()
		if err := o.Send(nil); !errors.Is(err, ipclab.ErrClosed) {
			t.Fatalf("%s: send after close: %v", s, err)
		}
		c.Close()
	}
}

// TestPeerCloseWakesBlockedSender: a sender waiting for room learns that
// its peer closed (and stayed alive) within about peerCheckInterval, on
// either side. The opener's Close has no way to interrupt a creator's
// P(empty) (it can V only "full", and only the creator removes the set).
func TestPeerCloseWakesBlockedSender(t *testing.T) {
	for _, s := range strategies {
		for _, creatorSends := range []bool{true, false} {
			c, o := pair(t, Config{Strategy: s, RingSize: 4096})
			tx, rx := c, o
			if !creatorSends {
				tx, rx = o, c
			}
			tx.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			for tx.Send(make([]byte, 1000)) == nil {
			}
			tx.SetWriteDeadline(time.Time{})
			res := make(chan error, 1)
			go func() { res <- tx.Send(make([]byte, 1000)) }()
			time.Sleep(20 * time.Millisecond)
			rx.Close()
			select {
			case err := <-res:
				if !errors.Is(err, ipclab.ErrPeerGone) {
					t.Errorf("%s, creator sends %v: send woken by the peer's close: %v, want ErrPeerGone", s, creatorSends, err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("%s, creator sends %v: the peer's close did not wake a send blocked for room", s, creatorSends)
				tx.SetWriteDeadline(time.Now())
				<-res
			}
		}
	}
}

func TestSecondOpenerIsRefused(t *testing.T) {
	c, err := Create(Config{RingSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Keep the segment findable: attach once, then try again before the
	// first opener's IPC_RMID would matter (attach by id still works).
	o, err := Attach(c.ID(), AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o2, err := Attach(c.ID(), AttachOptions{}); err == nil {
		o2.Close()
		t.Fatal("a second opener was let in")
	}
}

func cpuTime(t *testing.T) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestIdleWaitStopsSpinning: a futex-strategy receiver on an idle channel
// spins for its budget and then sleeps, so 300 ms of waiting costs about
// the budget in CPU time, not 300 ms; a Spin receiver burns its core for
// as long as it waits. CPU time, unlike wall time, is not inflated by a
// busy machine; a busy machine can only give the spinner less of a core,
// so spinning is checked against sleeping rather than against the clock.
func TestIdleWaitStopsSpinning(t *testing.T) {
	const wait = 300 * time.Millisecond
	used := map[string]time.Duration{}
	for _, tc := range []struct {
		name   string
		s      Strategy
		budget time.Duration
	}{
		{"futex-5ms", Futex, 5 * time.Millisecond},
		{"futex-nospin", Futex, -1},
		{"spin", Spin, 0},
	} {
		_, o := pair(t, Config{Strategy: tc.s, RingSize: 4096, SpinBudget: tc.budget})
		before := cpuTime(t)
		o.SetReadDeadline(time.Now().Add(wait))
		if _, err := o.Recv(make([]byte, 8)); !errors.Is(err, ipclab.ErrTimeout) {
			t.Fatalf("%s: %v", tc.name, err)
		}
		used[tc.name] = cpuTime(t) - before
		t.Logf("%s: %v of CPU for a %v idle wait", tc.name, used[tc.name], wait)
	}
	if u := used["futex-5ms"]; u > 100*time.Millisecond {
		t.Errorf("futex with a 5 ms budget used %v of CPU in a %v idle wait; it should sleep after the budget", u, wait)
	}
	if u := used["futex-nospin"]; u > 50*time.Millisecond {
		t.Errorf("futex without a spin used %v of CPU in a %v idle wait", u, wait)
	}
	if u, floor := used["spin"], max(10*used["futex-nospin"], 15*time.Millisecond); u < floor {
		t.Errorf("spin used %v of CPU in a %v idle wait, less than %v: it should burn a core", u, wait, floor)
	}
}
