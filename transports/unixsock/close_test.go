package unixsock

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/sockconn"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/transports/transporttest"
	"golang.org/x/sys/unix"
)

// TestPeerCloseWhileReplying: the peer sends n messages and closes while
// this end receives them and replies to each one, as a link consumer
// returns credit. Every message sent before the peer's Close must arrive,
// then ErrPeerGone. Over a connected datagram socket a send to a closed
// peer makes the kernel discard the sender's own receive queue
// (unix_dgram_sendmsg -> unix_dgram_disconnected), so a Close that
// releases the socket before the peer has taken what it was sent loses
// the tail: the bug TestStaleWriteDeadlineDoesNotPoison showed over the
// link layer.
func TestPeerCloseWhileReplying(t *testing.T) {
	const n, size, seed = 24, 200, 13 // tt-send-close's pattern
	for _, tr := range plain() {      // held waits change no step of closing (the conformance suite runs held)
		t.Run(tr.Name, func(t *testing.T) {
			c, files, err := tr.Create()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			p := testmain.StartPeer(t, c, files, "tt-send-close", tr.Name, c.Addr().String(), strconv.Itoa(n))
			c.SetDeadline(time.Now().Add(time.Minute)) // a backstop
			buf := make([]byte, size)
			want := make([]byte, size)
			for i := 0; i < n; i++ {
				m, err := c.Recv(buf)
				if w := transporttest.Pattern(want, seed, i, size); err != nil || !bytes.Equal(buf[:m], w) {
					t.Fatalf("message %d of %d sent before the peer's Close: %d bytes, %v; want %d bytes (peer: %s)",
						i, n, m, err, len(w), p.Stderr())
				}
				// The peer may have closed by now: the reply may fail
				// (ErrPeerGone), but must not cost the messages queued here.
				if err := c.Send([]byte("credit")); err != nil && !errors.Is(err, ipclab.ErrPeerGone) {
					t.Fatalf("reply %d: %v", i, err)
				}
			}
			if _, err := c.Recv(buf); !errors.Is(err, ipclab.ErrPeerGone) {
				t.Fatalf("recv after the peer's Close: %v, want ErrPeerGone (peer: %s)", err, p.Stderr())
			}
			if line, err := p.ReadLine(time.Minute); err != nil || line != "closed" {
				t.Fatalf("peer: %q, %v (stderr: %s)", line, err, p.Stderr())
			}
		})
	}
}

// TestPeerCloseThenSendBeforeRecv: the peer sends n messages and closes
// while this end does nothing (so a datagram peer's Close gives up
// waiting for us to take them); then this end sends before it receives.
// The send may fail (ErrPeerGone), but the messages queued here must
// still arrive, then ErrPeerGone.
func TestPeerCloseThenSendBeforeRecv(t *testing.T) {
	const n, size, seed = 3, 200, 13 // tt-send-close's pattern
	for _, tr := range plain() {     // held waits change no step of closing (the conformance suite runs held)
		t.Run(tr.Name, func(t *testing.T) {
			c, files, err := tr.Create()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			p := testmain.StartPeer(t, c, files, "tt-send-close", tr.Name, c.Addr().String(), strconv.Itoa(n))
			if line, err := p.ReadLine(time.Minute); err != nil || line != "closed" {
				t.Fatalf("peer: %q, %v (stderr: %s)", line, err, p.Stderr())
			}
			c.SetDeadline(time.Now().Add(time.Minute)) // a backstop
			if err := c.Send([]byte("late")); err != nil && !errors.Is(err, ipclab.ErrPeerGone) {
				t.Fatalf("send to a peer that closed: %v, want nil or ErrPeerGone", err)
			}
			buf := make([]byte, size)
			want := make([]byte, size)
			for i := 0; i < n; i++ {
				m, err := c.Recv(buf)
				if w := transporttest.Pattern(want, seed, i, size); err != nil || !bytes.Equal(buf[:m], w) {
					t.Fatalf("message %d of %d sent before the peer's Close: %d bytes, %v; want %d bytes", i, n, m, err, len(w))
				}
			}
			if _, err := c.Recv(buf); !errors.Is(err, ipclab.ErrPeerGone) {
				t.Fatalf("recv after the peer's Close: %v, want ErrPeerGone", err)
			}
		})
	}
}

// TestSendTakesQueuedFirst: a datagram Send that has not seen its queue
// empty lately first takes what is queued (so that a send to a peer that
// closed cannot destroy it); Recv then delivers those messages exactly as
// from the socket: in order, empty ones, the largest, one kept for a
// second Recv when the buffer is short, and the close marker. Both ends
// are in this process: what is under test is one end's bookkeeping.
func TestSendTakesQueuedFirst(t *testing.T) {
	a, files, err := CreatePair(sockconn.Datagram, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// The other end, as a child would open it: a descriptor of its own
	// (the *os.File would close it when collected).
	peerFD, err := unix.Dup(int(files[0].Fd()))
	files[0].Close()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(fmt.Sprintf("%s:fd=%d", SchemeDgram, peerFD), Options{})
	if err != nil {
		unix.Close(peerFD)
		t.Fatal(err)
	}
	defer b.Close() // it owns the descriptor now
	max := a.MaxMessageSize()
	msgs := [][]byte{{}, []byte("x"), bytes.Repeat([]byte("m"), 1000), bytes.Repeat([]byte("L"), max)}
	for i, m := range msgs {
		if err := b.Send(m); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := a.Send([]byte("ping")); err != nil { // a has never seen its queue empty
		t.Fatal(err)
	}
	if q, err := unix.IoctlGetInt(peerFD, unix.SIOCOUTQ); err != nil || q != 0 {
		t.Fatalf("the sender still has %d bytes not taken (%v): the Send did not take the queue first", q, err)
	}
	a.SetDeadline(time.Now().Add(time.Minute)) // a backstop
	buf := make([]byte, max)
	for i, m := range msgs {
		if len(m) == 1000 {
			var sb *ipclab.ShortBufferError
			if _, err := a.Recv(buf[:10]); !errors.As(err, &sb) || !sb.Kept || sb.Size != 1000 {
				t.Fatalf("message %d into a 10-byte buffer: %v, want a ShortBufferError keeping 1000 bytes", i, err)
			}
		}
		n, err := a.Recv(buf)
		if err != nil || !bytes.Equal(buf[:n], m) {
			t.Fatalf("message %d: %d bytes, %v; want %d bytes", i, n, err, len(m))
		}
	}
	b.Close()
	if _, err := a.Recv(buf); !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("after the peer's Close: %v, want ErrPeerGone", err)
	}
}
