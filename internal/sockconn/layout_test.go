package sockconn

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/ipclab/ipclab"
	"golang.org/x/sys/unix"
)

// The kind byte lands in p, in spare, or is cut off, depending on the
// buffer and the message: every split is delivered the same way, read
// from the socket and from the datagram early queue (takeQueued).
func TestPacketLayoutAtEveryBoundary(t *testing.T) {
	const max = 64
	bufs := []int{0, 1, max - 1, max, max + 1, max + 2, max + 3, 2 * max}
	sizes := []int{0, 1, max - 1, max, max + 1, max + 2, max + 3}
	for _, kind := range []Kind{SeqPacket, Datagram} {
		for _, early := range []bool{false, true} {
			if early && kind != Datagram {
				continue
			}
			c, peer := packetEnd(t, kind, max)
			for _, b := range bufs {
				for _, m := range sizes {
					name := fmt.Sprintf("%v early=%v buffer %d message %d", kind, early, b, m)
					msg := make([]byte, m)
					for i := range msg {
						msg[i] = byte(i*7 + 3)
					}
					// The message, a hello, then a sentinel that must follow it.
					for _, pkt := range [][]byte{append(append([]byte(nil), msg...), pktData), {pktHello}, {'s', pktData}} {
						if _, err := unix.Write(peer, pkt); err != nil {
							t.Fatal(err)
						}
					}
					if early {
						c.takeQueued(c.fd)
					}
					p := bytes.Repeat([]byte{0xee}, b)
					n, err := c.Recv(p)
					var short *ipclab.ShortBufferError
					var large *ipclab.TooLargeError
					switch {
					case m > max:
						if !errors.As(err, &large) || large.Size != m {
							t.Fatalf("%s: %d, %v; want a TooLargeError of %d bytes", name, n, err, m)
						}
					case m > b:
						if !errors.As(err, &short) || short.Size != m || !short.Kept {
							t.Fatalf("%s: %d, %v; want a kept ShortBufferError of %d bytes", name, n, err, m)
						}
						big := make([]byte, m)
						if n, err := c.Recv(big); err != nil || !bytes.Equal(big[:n], msg) {
							t.Fatalf("%s: the kept message: %x, %v; want %x", name, big[:n], err, msg)
						}
					default:
						if err != nil || !bytes.Equal(p[:n], msg) {
							t.Fatalf("%s: %x, %v; want %x", name, p[:n], err, msg)
						}
					}
					s := make([]byte, 1)
					if n, err := c.Recv(s); err != nil || string(s[:n]) != "s" {
						t.Fatalf("%s: then %q, %v; want the sentinel", name, s[:n], err)
					}
				}
			}
		}
	}
}
