package unixsock

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/testmain"
	"github.com/ipclab/ipclab/transports/transporttest"
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
	for _, tr := range all() {
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
