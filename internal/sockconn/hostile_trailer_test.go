package sockconn

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"golang.org/x/sys/unix"
)

// A peer may set the long bit anywhere: a packet too short for the long
// trailer is refused, a long hello skipped, and a long data packet
// delivered or refused alike whatever the buffer, read from the socket or
// from the early queue; a sentinel follows each.
func TestLongBitFromAnyPeer(t *testing.T) {
	const max = 200
	long := func(n int, kind byte) []byte {
		pkt := bytes.Repeat([]byte{0x5a}, n+longTrailer)
		clear(pkt[n:])
		pkt[len(pkt)-1] = kind | kindLong
		return pkt
	}
	pkts := [][]byte{
		{0x80}, {0x81}, {0x82}, {0xff}, append(make([]byte, 62), 0x80),
		long(0, pktData), long(0, pktHello), long(0, 3),
		long(1, pktData), long(max-1, pktData), long(max, pktData), long(max+1, pktData), long(max+300, pktData),
	}
	for _, kind := range []Kind{SeqPacket, Datagram} {
		for _, early := range []bool{false, true} {
			if early && kind != Datagram {
				continue
			}
			c, peer := packetEnd(t, kind, max)
			for _, b := range []int{0, 1, 63, 64, 65, max, max + 1, max + 2, max + 63, max + 64, max + 65, 4 * max} {
				for _, pkt := range pkts {
					name := fmt.Sprintf("%v early=%v buffer %d: %d bytes ending %#x", kind, early, b, len(pkt), pkt[len(pkt)-1])
					for _, w := range [][]byte{pkt, {'s', pktData}} {
						if _, err := unix.Write(peer, w); err != nil {
							t.Fatal(err)
						}
					}
					if early {
						c.takeQueued(c.fd)
					}
					p := make([]byte, b)
					n, err := c.Recv(p)
					var short *ipclab.ShortBufferError
					if errors.As(err, &short) {
						p = make([]byte, short.Size)
						n, err = c.Recv(p)
					}
					var large *ipclab.TooLargeError
					m := len(pkt) - longTrailer
					switch kindByte := pkt[len(pkt)-1] &^ kindLong; {
					case m < 0:
						if err == nil || !strings.Contains(err.Error(), "does not speak this protocol") {
							t.Fatalf("%s: %d, %v; want it refused", name, n, err)
						}
					case kindByte == pktHello:
						if err != nil || string(p[:n]) != "s" {
							t.Fatalf("%s: %q, %v; want it skipped for the sentinel", name, p[:n], err)
						}
						continue
					case kindByte != pktData:
						if err == nil || !strings.Contains(err.Error(), "unknown kind") {
							t.Fatalf("%s: %d, %v; want an unknown kind", name, n, err)
						}
					case m > max:
						if !errors.As(err, &large) {
							t.Fatalf("%s: %d, %v; want a TooLargeError", name, n, err)
						}
					default:
						if err != nil || !bytes.Equal(p[:n], pkt[:m]) {
							t.Fatalf("%s: %d, %v; want the %d-byte message", name, n, err, m)
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

// A message within the receiver's limit arrives whole, whatever the
// buffer and from the early queue too, even when the sender's limit is
// larger (a bigger SO_SNDBUF) and sent it with the long trailer this
// end's own Send would not have used.
func TestLongTrailerFromALargerLimit(t *testing.T) {
	const small = 65536 + 9 // its limit+1 lies 10 bytes past a page boundary
	n := small - 5          // n+1 lies 5 bytes past one: the long trailer
	msg := bytes.Repeat([]byte{9}, n)
	for _, kind := range []Kind{SeqPacket, Datagram} {
		for _, early := range []bool{false, true} {
			if early && kind != Datagram {
				continue
			}
			for _, b := range []int{n, small + 1, small + longTrailer + 1} {
				fds, err := unix.Socketpair(unix.AF_UNIX, map[Kind]int{SeqPacket: unix.SOCK_SEQPACKET, Datagram: unix.SOCK_DGRAM}[kind]|unix.SOCK_CLOEXEC, 0)
				if err != nil {
					t.Fatal(err)
				}
				rcv, err := New(fds[0], Config{Kind: kind, Limit: Limit{Max: small, Name: "small"}})
				if err != nil {
					t.Fatal(err)
				}
				big, err := New(fds[1], Config{Kind: kind, Limit: Limit{Max: 1 << 17, Name: "big"}})
				if err != nil {
					t.Fatal(err)
				}
				rcv.SetDeadline(time.Now().Add(20 * time.Second))
				if err := big.Send(msg); err != nil {
					t.Fatal(err)
				}
				if early {
					rcv.takeQueued(rcv.fd)
				}
				buf := make([]byte, b)
				got, err := rcv.Recv(buf)
				rcv.Close()
				big.Close()
				if err != nil || got != n || !bytes.Equal(buf[:got], msg) {
					t.Fatalf("%v early=%v buffer %d: a %d-byte message to an end allowing %d: %d, %v", kind, early, b, n, small, got, err)
				}
			}
		}
	}
}
