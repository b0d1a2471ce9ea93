package sockconn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/framing"
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

// A large message whose kind byte alone would leave the kernel's pages
// 1-31 bytes off a receiver's page boundary goes with the 64-byte trailer
// (longTrailer says why), unless that would pass the limit; the receiver
// takes either, and refuses a long trailer longer than its packet.
func TestLongTrailerOnlyWhereItKeepsPagesUnaliased(t *testing.T) {
	for _, tc := range []struct {
		n, max   int
		wantLong bool
	}{
		{65536, 128 << 10, true},        // 65537: 1 byte past a page
		{32768 + 4090, 128 << 10, true}, // 36859: 5 bytes short of one
		{65535, 128 << 10, false},       // 65536: on the boundary
		{40000, 128 << 10, false},       // 40001: mid-page
		{4000, 128 << 10, false},        // within a page: one linear copy
		{65536, 65536 + 63, true},       // the long one just fits the limit (Max+1)
		{65536, 65536 + 62, false},      // the long one would pass the limit
	} {
		for _, kind := range []Kind{SeqPacket, Datagram} {
			c, peer := packetEnd(t, kind, tc.max)
			msg := bytes.Repeat([]byte{7}, tc.n)
			if err := c.Send(msg); err != nil {
				t.Fatal(err)
			}
			raw := make([]byte, tc.n+2*longTrailer)
			got, err := unix.Read(peer, raw)
			if err != nil {
				t.Fatal(err)
			}
			trail, kindByte := raw[tc.n:got], raw[got-1]
			long := len(trail) == longTrailer && kindByte == pktData|kindLong && bytes.Count(trail, []byte{0}) == longTrailer-1
			short := len(trail) == 1 && kindByte == pktData
			if !bytes.Equal(raw[:tc.n], msg) || long != tc.wantLong || !(long || short) {
				t.Fatalf("%v: a %d-byte message (limit %d) went as %d bytes ending % x; want the message and the long trailer: %v",
					kind, tc.n, tc.max, got, trail[max(len(trail)-4, 0):], tc.wantLong)
			}

			// Back: the receiver strips either trailer, with the message
			// exactly filling its buffer (the trailer goes to spare).
			if _, err := unix.Write(peer, raw[:got]); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, tc.n)
			if n, err := c.Recv(buf); err != nil || n != tc.n || !bytes.Equal(buf, msg) {
				t.Fatalf("%v: Recv of the %d-byte packet: %d bytes, %v; want the %d-byte message", kind, got, n, err, tc.n)
			}
		}
	}
	for _, kind := range []Kind{SeqPacket, Datagram} {
		c, peer := packetEnd(t, kind, 1<<10)
		bad := append(make([]byte, 9), pktData|kindLong) // 10 bytes cannot hold a 64-byte trailer
		for _, pkt := range [][]byte{bad, {'o', 'k', pktData}} {
			if _, err := unix.Write(peer, pkt); err != nil {
				t.Fatal(err)
			}
		}
		buf := make([]byte, 64)
		if n, err := c.Recv(buf); err == nil || !strings.Contains(err.Error(), "does not speak this protocol") {
			t.Fatalf("%v: Recv of a 10-byte packet marked long: %d bytes, %v; want it dropped as not this protocol", kind, n, err)
		}
		if n, err := c.Recv(buf); err != nil || string(buf[:n]) != "ok" {
			t.Fatalf("%v: Recv after the dropped packet: %q, %v; want ok", kind, buf[:n], err)
		}
	}
}

func TestNearAliasEdge(t *testing.T) {
	for n, want := range map[int]bool{
		4096: false, 4097: true, 4096 + 31: true, 4096 + 32: false,
		8192 - 31: true, 8192 - 32: false, 8192: false, 65537: true, 100: false, 1: false,
	} {
		if got := nearAliasEdge(n); got != want {
			t.Errorf("nearAliasEdge(%d) = %v, want %v", n, got, want)
		}
	}
}

// A stream end with PadFrames (TCP's) pads the header of a large
// page-aligned message (framing.PadHeader), and not of one the kernel
// would not alias; without it, every header is 4 bytes. Either end reads
// both.
func TestPadFramesOnlyWhereAsked(t *testing.T) {
	buf := make([]byte, 3*65536)
	if uintptr(unsafe.Pointer(&buf[0]))%4096 != 0 {
		t.Fatal("a 192 KiB allocation is not page-aligned: the cases below assume it")
	}
	aligned := buf[:65536]
	offset := buf[64 : 64+65536]
	for _, c := range []struct {
		pad     bool
		msg     []byte
		wantHdr int
	}{
		{true, aligned, framing.PaddedLen},
		{true, offset, framing.HeaderLen},
		{false, aligned, framing.HeaderLen},
	} {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := New(fds[0], Config{Kind: Stream, PadFrames: c.pad, Limit: Limit{Max: 1 << 20, Name: "test"}})
		if err != nil {
			t.Fatal(err)
		}
		peer := fds[1]
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		for i := range c.msg {
			c.msg[i] = byte(i * 7)
		}
		// The socket's buffer takes the whole frame: Send returns (or its
		// 20 s deadline fails it), then the peer takes what was sent.
		if err := conn.Send(c.msg); err != nil {
			t.Fatal(err)
		}
		raw := make([]byte, len(c.msg)+2*framing.PaddedLen)
		got := 0
		for {
			n, _, err := unix.Recvfrom(peer, raw[got:], unix.MSG_DONTWAIT)
			if err == unix.EAGAIN {
				break
			}
			if err != nil || n == 0 {
				t.Fatalf("read: %d, %v", n, err)
			}
			got += n
		}
		done := make(chan error, 1)
		word := binary.LittleEndian.Uint32(raw)
		if got != len(c.msg)+c.wantHdr || int(word&^(1<<31)) != len(c.msg) || (word>>31 == 1) != (c.wantHdr == framing.PaddedLen) ||
			!bytes.Equal(raw[c.wantHdr:got], c.msg) {
			t.Fatalf("PadFrames %v, message at page offset %d: %d bytes on the wire, header %#x; want a %d-byte header and the message",
				c.pad, uintptr(unsafe.Pointer(&c.msg[0]))%4096, got, word, c.wantHdr)
		}
		// Back, as sent: Recv strips the header, padded or not.
		go func() { _, err := unix.Write(peer, raw[:got]); done <- err }()
		p := make([]byte, len(c.msg))
		if n, err := conn.Recv(p); err != nil || !bytes.Equal(p[:n], c.msg) {
			t.Fatalf("Recv of the frame: %d bytes, %v", n, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		conn.Close()
		unix.Close(peer)
	}
}
