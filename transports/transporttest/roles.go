package transporttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/checksum"
	"github.com/ipclab/ipclab/internal/peerproc"
)

// The peer roles. Each gets [transport, address, role args...], opens the
// address, watches its parent when the transport needs it, and plays its
// part; an error makes the peer exit 1 with the error on stderr, which the
// test reports.
func init() {
	peerproc.Register("tt-echo", roleEcho)
	peerproc.Register("tt-sink", roleSink)
	peerproc.Register("tt-source", roleSource)
	peerproc.Register("tt-idle", roleIdle)
	peerproc.Register("tt-flood", roleFlood)
	peerproc.Register("tt-create-source", roleCreateSource)
	peerproc.Register("tt-drain", roleDrain)
}

// roleDrain receives n messages, touching every byte, and replies with
// "count bytes sum" so the sender can check that all of them arrived
// whole. Streaming benchmarks use it.
func roleDrain(args []string) error {
	c, rest, err := openPeer(args, 1)
	if err != nil {
		return err
	}
	defer c.Close()
	n := atoi(rest[0])
	buf := make([]byte, c.MaxMessageSize())
	var total, sum uint64
	for i := 0; i < n; i++ {
		m, err := c.Recv(buf)
		if err != nil {
			return fmt.Errorf("recv %d of %d: %w", i, n, err)
		}
		total += uint64(m)
		sum += checksum.Sum(buf[:m])
	}
	return c.Send(fmt.Appendf(nil, "%d %d %d", n, total, sum))
}

func openPeer(args []string, want int) (ipclab.Conn, []string, error) {
	if len(args) < 2+want {
		return nil, nil, fmt.Errorf("want transport, address and %d more arguments, got %q", want, args)
	}
	tr, err := lookup(args[0])
	if err != nil {
		return nil, nil, err
	}
	c, err := tr.Open(args[1])
	if err != nil {
		return nil, nil, err
	}
	if w, ok := c.(ipclab.PeerWatcher); ok {
		if err := w.WatchPeer(os.Getppid()); err != nil {
			c.Close()
			return nil, nil, err
		}
	}
	return c, args[2:], nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// roleEcho returns each of n messages to the sender.
func roleEcho(args []string) error {
	c, rest, err := openPeer(args, 1)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, c.MaxMessageSize())
	for i, n := 0, atoi(rest[0]); i < n; i++ {
		m, err := c.Recv(buf)
		if err != nil {
			return fmt.Errorf("recv %d: %w", i, err)
		}
		if err := c.Send(buf[:m]); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	return nil
}

// roleSink receives n messages of the pattern (seed, maxSize) and checks
// each, then sends one message, "ok", so the sender knows all arrived.
func roleSink(args []string) error {
	c, rest, err := openPeer(args, 3)
	if err != nil {
		return err
	}
	defer c.Close()
	n, seed, maxSize := atoi(rest[0]), atoi(rest[1]), atoi(rest[2])
	buf := make([]byte, c.MaxMessageSize())
	want := make([]byte, c.MaxMessageSize())
	for i := 0; i < n; i++ {
		m, err := c.Recv(buf)
		if err != nil {
			return fmt.Errorf("recv %d of %d: %w", i, n, err)
		}
		w := Pattern(want, seed, i, maxSize)
		if !bytes.Equal(buf[:m], w) {
			return fmt.Errorf("message %d: got %d bytes, want %d bytes of pattern %d (first difference at %d)",
				i, m, len(w), seed, firstDiff(buf[:m], w))
		}
	}
	return c.Send([]byte("ok"))
}

// roleSource sends n messages of the pattern (seed, maxSize), then waits
// for one message back before closing, so the data is not torn down under
// the receiver.
func roleSource(args []string) error {
	c, rest, err := openPeer(args, 3)
	if err != nil {
		return err
	}
	defer c.Close()
	n, seed, maxSize := atoi(rest[0]), atoi(rest[1]), atoi(rest[2])
	buf := make([]byte, c.MaxMessageSize())
	for i := 0; i < n; i++ {
		if err := c.Send(Pattern(buf, seed, i, maxSize)); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	_, err = c.Recv(buf)
	return err
}

// roleIdle opens the channel and does nothing until its stdin closes.
func roleIdle(args []string) error {
	c, _, err := openPeer(args, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// roleFlood sends small numbered messages until it is killed.
func roleFlood(args []string) error {
	c, _, err := openPeer(args, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	var b [8]byte
	for i := 0; ; i++ {
		b[0], b[1], b[2], b[3] = byte(i), byte(i>>8), byte(i>>16), byte(i>>24)
		if err := c.Send(b[:]); err != nil {
			return err
		}
	}
}

// roleCreateSource creates a channel, prints its address, sends 10
// messages and waits to be killed: the test checks that the surviving
// opener reports the death and removes what the dead creator left.
func roleCreateSource(args []string) error {
	if len(args) < 1 {
		return errors.New("want transport")
	}
	tr, err := lookup(args[0])
	if err != nil {
		return err
	}
	c, _, err := tr.Create()
	if err != nil {
		return err
	}
	defer c.Close()
	if w, ok := c.(ipclab.PeerWatcher); ok {
		if err := w.WatchPeer(os.Getppid()); err != nil {
			return err
		}
	}
	fmt.Println(c.Addr().String())
	for i := 0; i < 10; i++ {
		if err := c.Send([]byte{byte(i)}); err != nil {
			return err
		}
	}
	time.Sleep(time.Minute)
	return errors.New("not killed within a minute")
}

// Pattern fills buf with message i of a deterministic stream and returns
// it: the length varies from 0 to maxSize (every 97th message is exactly
// maxSize, the first is empty) and every byte depends on seed, i and its
// offset, so a lost, duplicated, reordered or corrupted message shows.
func Pattern(buf []byte, seed, i, maxSize int) []byte {
	x := uint64(seed)*0x9e3779b97f4a7c15 + uint64(i)*0xbf58476d1ce4e5b9 + 1
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	n := int(x % uint64(maxSize+1))
	switch {
	case i == 0:
		n = 0
	case i%97 == 0:
		n = maxSize
	}
	b := buf[:n]
	// Byte j depends on j only through j%256 (the 131*j term) and j%7
	// (the shift), so the bytes repeat every 7*256: the loop writes one
	// period and copy repeats it. The same bytes as the loop over all of
	// b, but under the race detector, which instruments every store of
	// the loop and not copy's, the 10,000-message streams of the suite
	// took seconds each in this loop (the sender's and the receiver's).
	head := b[:min(n, patternPeriod)]
	for j := range head {
		head[j] = byte(uint64(j)*131 + x>>(j%7*8))
	}
	for k := len(head); k < n; k *= 2 {
		copy(b[k:], b[:k])
	}
	return b
}

// patternPeriod is the period of Pattern's bytes: lcm(256, 7).
const patternPeriod = 7 * 256

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
