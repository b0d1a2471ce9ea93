package link

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/peerproc"
	"github.com/ipclab/ipclab/transports"
)

// Tests of what the link promises when something goes wrong: a failed
// Send, a peer that forges producers or repeats itself, a transport that
// holds less than the capacity asked for, a rendezvous Send that fails.

func init() {
	peerproc.Register("link-forge", roleForge)
	peerproc.Register("link-take-one", roleTakeOne)
	peerproc.Register("link-recv-late", roleRecvLate)
}

// roleForge speaks the link protocol badly: n data messages, each from a
// different (forged) producer pid, or all repeating sequence number 1.
func roleForge(args []string) error {
	c, err := transports.Open(args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	n, _ := strconv.Atoi(args[2])
	b := make([]byte, HeaderLen+4)
	for i := 1; i <= n; i++ {
		h := header{typ: typeData, pid: uint32(1_000_000 + i), seq: 1}
		if args[3] == "repeat" {
			h.pid = uint32(os.Getpid())
		}
		h.put(b)
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if err := c.Send(b); err != nil {
			return err
		}
	}
	fmt.Println("sent")
	io.Copy(io.Discard, os.Stdin) // until the test is done
	return nil
}

// roleTakeOne says ready, waits for a line, takes one message, says took,
// waits for another line, then takes the rest (n in all) and reports.
func roleTakeOne(args []string) error {
	l, rest, err := openLink(args, 1)
	if err != nil {
		return err
	}
	defer l.Close()
	n, _ := strconv.Atoi(rest[0])
	in := bufio.NewReader(os.Stdin)
	buf := make([]byte, 64)
	fmt.Println("ready")
	for i := 0; i < n; i++ {
		if i < 2 {
			if _, err := in.ReadString('\n'); err != nil {
				return err
			}
		}
		if _, err := l.Recv(buf); err != nil {
			return fmt.Errorf("recv %d of %d: %w", i+1, n, err)
		}
		if i == 0 {
			fmt.Println("took")
		}
	}
	return report(peerResult{Stats: l.Stats()})
}

// roleRecvLate waits 300 ms, then Recvs for 300 ms and reports how many
// messages it got (0 or 1).
func roleRecvLate(args []string) error {
	l, _, err := openLink(args, 0)
	if err != nil {
		return err
	}
	defer l.Close()
	time.Sleep(300 * time.Millisecond)
	l.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	got := 0
	if _, err := l.Recv(make([]byte, 64)); err == nil {
		got = 1
	} else if !errors.Is(err, ipclab.ErrTimeout) {
		return err
	}
	return report(peerResult{Stats: l.Stats(), Bad: got})
}

// failOnce fails the n-th Send in the transport, sending nothing.
type failOnce struct {
	ipclab.Conn
	i, n int
}

var errInjected = errors.New("injected failure")

func (f *failOnce) Send(p []byte) error {
	if f.i++; f.i == f.n {
		return errInjected
	}
	return f.Conn.Send(p)
}

func TestFailedSendConsumesNoSequenceNumber(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		const n = 20
		wrap := func(c ipclab.Conn) ipclab.Conn { return &failOnce{Conn: c, n: 5} }
		l, p := start(t, tr, Options{Capacity: 4}, wrap, "link-sink", strconv.Itoa(n), "0", "0s")
		failed := 0
		for sent := 0; sent < n; {
			if err := l.Send([]byte("x")); errors.Is(err, errInjected) {
				failed++
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			sent++
		}
		r := p.result(t).Stats
		if s := l.Stats(); failed != 1 || s.Sent != n || r.Received != n || r.Lost != 0 {
			t.Fatalf("%d failed; sender counted %d sent, receiver %d received and %d lost: want 1, %d, %d, 0", failed, s.Sent, r.Received, r.Lost, n, n)
		}
	})
}

func TestForgedProducersAreBounded(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		const n = 500
		l, p := start(t, tr, Options{Capacity: 1, NoCredits: true}, nil, "link-forge", strconv.Itoa(n), "forge")
		buf := make([]byte, 64)
		for i := 0; i < n; i++ {
			if _, err := l.Recv(buf); err != nil {
				t.Fatalf("recv %d: %v (peer: %s)", i, err, p.Stderr())
			}
		}
		s := l.Stats()
		l.mu.Lock()
		tracked := len(l.order)
		l.mu.Unlock()
		if tracked > maxProducers || s.Untracked != n-maxProducers || s.Received != n {
			t.Fatalf("%d producers tracked (at most %d), %d untracked of %d received; want %d untracked", tracked, maxProducers, s.Untracked, s.Received, n-maxProducers)
		}
	})
}

func TestRepeatedSequenceIsBoundedByTheWindow(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		const n, window = 8, 2 // n within a POSIX queue's depth: the forger cannot wait for a reader
		l, p := start(t, tr, Options{Capacity: window}, nil, "link-forge", strconv.Itoa(n), "repeat")
		if line, err := p.ReadLine(time.Minute); err != nil || line != "sent" {
			t.Fatalf("peer: %q, %v", line, err)
		}
		// Fill our window, then wait for credit: the wait reads the peer's
		// messages, which must stop queueing at the window.
		for i := 0; i < window; i++ {
			if err := l.Send([]byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		l.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		if err := l.Send([]byte("x")); !errors.Is(err, ipclab.ErrTimeout) {
			t.Fatalf("send past a window nobody acknowledges: %v", err)
		}
		l.mu.Lock()
		queued, s := l.queued(), l.stats
		l.mu.Unlock()
		if queued > window || s.ProtocolErrors != n-window {
			t.Fatalf("%d messages queued on a window of %d, %d protocol errors; want at most %d and %d", queued, window, s.ProtocolErrors, window, n-window)
		}
		var pe *ProtocolError
		for i := 0; i <= window; i++ {
			if _, err := l.Recv(make([]byte, 64)); i < window && err != nil || i == window && !errors.As(err, &pe) {
				t.Fatalf("recv %d: %v; want %d messages, then the protocol error", i, err, window)
			}
		}
	})
}

func TestFullMeansUntaken(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		const capacity = 4
		l, p := start(t, tr, Options{Capacity: capacity, Full: Fail}, nil, "link-take-one", strconv.Itoa(capacity+1))
		if line, err := p.ReadLine(time.Minute); err != nil || line != "ready" {
			t.Fatalf("peer: %q, %v", line, err)
		}
		for i := 0; i < capacity; i++ {
			if err := l.Send([]byte("x")); err != nil {
				t.Fatalf("send %d of %d: %v", i+1, capacity, err)
			}
		}
		if err := l.Send([]byte("x")); !errors.Is(err, ErrFull) {
			t.Fatalf("send %d with none taken: %v, want ErrFull", capacity+1, err)
		}
		io.WriteString(p.Stdin(), "take one\n")
		if line, err := p.ReadLine(time.Minute); err != nil || line != "took" {
			t.Fatalf("peer: %q, %v", line, err)
		}
		// The take's acknowledgement is on its way or there: once it is
		// read, one message fits again. (No timing: retry until it does.)
		deadline := time.Now().Add(time.Minute)
		for err := l.Send([]byte("x")); err != nil; err = l.Send([]byte("x")) {
			if !errors.Is(err, ErrFull) || time.Now().After(deadline) {
				t.Fatalf("send after one of %d was taken: %v", capacity, err)
			}
			time.Sleep(time.Millisecond)
		}
		io.WriteString(p.Stdin(), "take the rest\n")
		if r := p.result(t); r.Stats.Received != capacity+1 {
			t.Fatalf("peer received %d, want %d", r.Stats.Received, capacity+1)
		}
	})
}

func TestCapacityBeyondTheTransportIsClampedAndSaid(t *testing.T) {
	c, _, err := transports.Create("posixmq")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	depth := c.(ipclab.Buffered).Buffer().Messages
	l, err := New(c, Options{Capacity: 16, Full: Fail})
	if err != nil {
		t.Fatal(err)
	}
	s := l.Stats()
	if want := (depth - controlExtra) / 2; s.Capacity != want || s.CapacityLimit == "" {
		t.Fatalf("cap-16 over a posixmq queue of %d: window %d (%q), want %d and the reason", depth, s.Capacity, s.CapacityLimit, want)
	}
	// Fail fires at the window, at once, instead of blocking in the queue.
	for i := 0; i < s.Capacity; i++ {
		if err := l.Send([]byte("x")); err != nil {
			t.Fatalf("send %d of %d: %v", i+1, s.Capacity, err)
		}
	}
	if err := l.Send([]byte("x")); !errors.Is(err, ErrFull) {
		t.Fatalf("send past the window: %v, want ErrFull", err)
	}
	t.Logf("%s", s.CapacityLimit)
}

func TestFailedRendezvousDelivery(t *testing.T) {
	for _, o := range []Options{{Strict: true}, {Capacity: 0}} {
		t.Run(o.String(), func(t *testing.T) {
			forEachTransport(t, func(t *testing.T, tr string) {
				l, p := start(t, tr, o, nil, "link-recv-late")
				l.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				if err := l.Send([]byte("meet")); !errors.Is(err, ipclab.ErrTimeout) {
					t.Fatalf("send to a receiver that comes late: %v, want a timeout", err)
				}
				got := p.result(t).Bad
				switch {
				case o.Strict && got != 0:
					t.Fatal("a strict rendezvous Send failed, yet its message was delivered")
				case !o.Strict && got != 1:
					t.Fatal("a hand-shake rendezvous Send that failed waiting for the take: its message should still be taken (documented)")
				}
			})
		})
	}
}

func TestStaleWriteDeadlineDoesNotPoison(t *testing.T) {
	forEachTransport(t, func(t *testing.T, tr string) {
		const n, capacity = 40, 4 // the producer needs our acknowledgements 10 times over
		l, p := start(t, tr, Options{Capacity: capacity}, nil, "link-produce", strconv.Itoa(n))
		l.SetWriteDeadline(time.Now().Add(-time.Hour))
		buf := make([]byte, 64)
		for i := 0; i < n; i++ {
			l.SetReadDeadline(time.Now().Add(time.Minute))
			if _, err := l.Recv(buf); err != nil {
				t.Fatalf("recv %d with a stale write deadline: %v (peer: %s)", i, err, p.Stderr())
			}
		}
		// Sending n on a window of capacity took n - capacity acknowledgements.
		if r := p.result(t); r.Stats.Sent != n || r.Stats.Acked < n-capacity {
			t.Fatalf("the producer sent %d, had %d acknowledged; want %d and at least %d", r.Stats.Sent, r.Stats.Acked, n, n-capacity)
		}
		if err := l.Send([]byte("x")); !errors.Is(err, ipclab.ErrTimeout) {
			t.Fatalf("send with a deadline an hour past: %v, want a timeout", err)
		}
		l.SetWriteDeadline(time.Time{})
		if err := l.Send([]byte("x")); err != nil && !errors.Is(err, ipclab.ErrPeerGone) {
			t.Fatalf("send after the deadline was cleared: %v", err)
		}
	})
}
