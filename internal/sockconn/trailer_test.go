package sockconn

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"golang.org/x/sys/unix"
)

// A packet is the message, then its kind: the wire format the C baseline
// and any other peer speak. A message sent from the start of a page then
// keeps that placement in the kernel's buffer (packetHeader says why).
// Received: the kind is found after the message whether it lands in p or
// past it, and early-taken datagrams are laid out the same way.
func TestPacketKindIsATrailer(t *testing.T) {
	for _, kind := range []Kind{SeqPacket, Datagram} {
		c, peer := packetEnd(t, kind, testCfg.Limit.Max)

		if err := c.Send([]byte("abc")); err != nil {
			t.Fatal(err)
		}
		raw := make([]byte, 16)
		n, err := unix.Read(peer, raw)
		if err != nil || !bytes.Equal(raw[:n], []byte{'a', 'b', 'c', pktData}) {
			t.Fatalf("%v: the peer read %q, %v; want the message, then the data kind", kind, raw[:n], err)
		}

		for _, pkt := range [][]byte{{'x', 'y', 'z', pktData}, {pktHello}, {'q', pktData}} {
			if _, err := unix.Write(peer, pkt); err != nil {
				t.Fatal(err)
			}
		}
		buf := make([]byte, 3) // exactly the message: its kind lands past p
		if n, err := c.Recv(buf); err != nil || string(buf[:n]) != "xyz" {
			t.Fatalf("%v: Recv into a 3-byte buffer: %q, %v; want xyz", kind, buf[:n], err)
		}
		// The hello is skipped; then a message a short buffer cannot take
		// is kept, and delivered whole with its kind read right.
		var short *ipclab.ShortBufferError
		if _, err := c.Recv(buf[:0]); !errors.As(err, &short) || short.Size != 1 {
			t.Fatalf("%v: Recv into no room: %v; want a ShortBufferError of 1 byte", kind, err)
		}
		if n, err := c.Recv(buf); err != nil || string(buf[:n]) != "q" {
			t.Fatalf("%v: Recv after the short buffer: %q, %v; want q", kind, buf[:n], err)
		}
	}
}

// packetEnd is an end of kind (SeqPacket or Datagram) with messages of
// at most max bytes over a socketpair, and the pair's other descriptor,
// both closed when the test ends; every call has a 20 s backstop
// deadline, not a timing.
func packetEnd(t *testing.T, kind Kind, max int) (*Conn, int) {
	t.Helper()
	typ := map[Kind]int{SeqPacket: unix.SOCK_SEQPACKET, Datagram: unix.SOCK_DGRAM}[kind]
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(fds[0], Config{Kind: kind, Limit: Limit{Max: max, Name: "test"}})
	if err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		unix.Close(fds[1])
	})
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, fds[1]
}
