package transporttest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab/internal/checksum"
)

// The cases of golang.org/x/net/nettest that apply to a message channel:
// racy reads and writes, every method at once, a deadline already past,
// and a read timeout that leaves writes alone. Under -race they also show
// data races inside a transport.

const racers = 4

// testRacyRead: several goroutines receive at once, moving their read
// deadlines, from a peer that floods numbered messages. Each message must
// arrive whole, and each goroutine must see the numbers grow.
func testRacyRead(t *testing.T, tr Transport) {
	c, p := pair(t, tr, "tt-flood")
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for g := 0; g < racers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			last := -1
			for got := 0; got < 200; {
				c.SetReadDeadline(time.Now().Add(time.Millisecond))
				n, err := c.Recv(buf)
				if isTimeout(err) {
					continue
				}
				if err != nil || n != 8 {
					errs <- fmt.Errorf("recv: %d bytes, %v; want 8 (peer: %s)", n, err, p.Stderr())
					return
				}
				seq := int(binary.LittleEndian.Uint32(buf))
				if seq <= last {
					errs <- fmt.Errorf("message %d after %d in the same goroutine: serialised Recvs must keep the order", seq, last)
					return
				}
				last = seq
				got++
			}
		}()
	}
	within(t, peerRun, "racing receivers", func() error { wg.Wait(); return nil })
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// testRacyWrite: several goroutines send at once, moving their write
// deadlines (never into the past: a deadline inside a large message may
// break a byte stream, by design); the peer checks the count and the
// bytes of everything it received.
func testRacyWrite(t *testing.T, tr Transport) {
	const each = 100
	c, p := pair(t, tr, "tt-drain", strconv.Itoa(racers*each))
	size := min(c.MaxMessageSize(), 512)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total, sum uint64
	errs := make(chan error, racers)
	for g := 0; g < racers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, size)
			for i := 0; i < each; i++ {
				c.SetWriteDeadline(time.Now().Add(peerRun))
				msg := Pattern(buf, 100+g, i, size)
				if err := c.Send(msg); err != nil {
					errs <- fmt.Errorf("send: %v (peer: %s)", err, p.Stderr())
					return
				}
				mu.Lock()
				total += uint64(len(msg))
				sum += checksum.Sum(msg)
				mu.Unlock()
			}
		}()
	}
	within(t, peerRun, "racing senders", func() error { wg.Wait(); return nil })
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(peerRun))
	buf := make([]byte, 128)
	n, err := c.Recv(buf)
	if want := fmt.Sprintf("%d %d %d", racers*each, total, sum); err != nil || string(buf[:n]) != want {
		t.Fatalf("the peer's count: %q, %v; want %q", buf[:n], err, want)
	}
}

// testConcurrentMethods: every method at once, then Close.
func testConcurrentMethods(t *testing.T, tr Transport) {
	const each = 50
	c, p := pair(t, tr, "tt-echo", strconv.Itoa(racers*each))
	c.SetDeadline(time.Now().Add(peerRun))
	var wg sync.WaitGroup
	seen := make(chan uint32, racers*each)
	errs := make(chan error, 2*racers)
	for g := 0; g < racers; g++ {
		wg.Add(3)
		go func() { // sender
			defer wg.Done()
			var b [8]byte
			for i := 0; i < each; i++ {
				binary.LittleEndian.PutUint32(b[:], uint32(g*each+i))
				if err := c.Send(b[:]); err != nil {
					errs <- fmt.Errorf("send: %v (peer: %s)", err, p.Stderr())
					return
				}
			}
		}()
		go func() { // receiver
			defer wg.Done()
			buf := make([]byte, 64)
			for i := 0; i < each; i++ {
				n, err := c.Recv(buf)
				if err != nil || n != 8 {
					errs <- fmt.Errorf("recv: %d bytes, %v (peer: %s)", n, err, p.Stderr())
					return
				}
				seen <- binary.LittleEndian.Uint32(buf)
			}
		}()
		go func() { // the rest
			defer wg.Done()
			for i := 0; i < each; i++ {
				c.SetReadDeadline(time.Now().Add(peerRun))
				c.SetWriteDeadline(time.Now().Add(peerRun))
				if c.Addr() == nil || c.MaxMessageSize() < 8 {
					errs <- errors.New("the Addr or MaxMessageSize changed under load")
					return
				}
			}
		}()
	}
	within(t, peerRun, "every method at once", func() error { wg.Wait(); return nil })
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	close(seen)
	got := map[uint32]bool{}
	for v := range seen {
		if got[v] || v >= racers*each {
			t.Fatalf("echo %d: duplicated or never sent", v)
		}
		got[v] = true
	}
	if len(got) != racers*each {
		t.Fatalf("%d distinct echoes, want %d", len(got), racers*each)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// testPastDeadline: a deadline already past fails a call that would wait
// (and a Send at once), and moving it away makes the channel work again.
func testPastDeadline(t *testing.T, tr Transport) {
	c, p := pair(t, tr, "tt-echo", "1")
	c.SetDeadline(time.Now().Add(-time.Second))
	buf := make([]byte, 8)
	if err := within(t, prompt, "recv with a past deadline", func() error { _, err := c.Recv(buf); return err }); !isTimeout(err) {
		t.Fatalf("recv with a past deadline and nothing queued: %v, want a timeout", err)
	}
	if err := within(t, prompt, "send with a past deadline", func() error { return c.Send([]byte("x")) }); !isTimeout(err) {
		t.Fatalf("send with a past deadline: %v, want a timeout", err)
	}
	c.SetDeadline(time.Now().Add(peerRun))
	if err := c.Send([]byte("again")); err != nil {
		t.Fatalf("send once the deadline moved: %v", err)
	}
	if n, err := c.Recv(buf); err != nil || string(buf[:n]) != "again" {
		t.Fatalf("the echo: %q, %v; want \"again\" (a timed-out Send must send nothing)", buf[:n], err)
	}
	if err := p.Wait(prompt); err != nil {
		t.Fatal(err)
	}
}

// testReadTimeoutKeepsWrites: a read that timed out leaves Send working,
// and the reply is received once the read deadline is cleared.
func testReadTimeoutKeepsWrites(t *testing.T, tr Transport) {
	c, p := pair(t, tr, "tt-echo", "1")
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	buf := make([]byte, 8)
	if err := within(t, prompt, "recv with a deadline", func() error { _, err := c.Recv(buf); return err }); !isTimeout(err) {
		t.Fatalf("recv with nothing sent: %v, want a timeout", err)
	}
	if err := c.Send([]byte("ping")); err != nil {
		t.Fatalf("send after a read timeout: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(peerRun))
	if n, err := c.Recv(buf); err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("the echo after a read timeout: %q, %v", buf[:n], err)
	}
	if err := p.Wait(prompt); err != nil {
		t.Fatal(err)
	}
}
