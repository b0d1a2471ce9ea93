package transporttest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/registry"
	"github.com/ipclab/ipclab/internal/testmain"
)

// Bounds for things that must happen "promptly". Generous: this machine is
// shared and noisy, and these are correctness bounds, not speed targets.
const (
	prompt  = 5 * time.Second
	peerRun = 2 * time.Minute
)

// Run runs the whole suite over tr.
func Run(t *testing.T, tr Transport) {
	if _, ok := registered[tr.Name]; !ok {
		t.Fatalf("transport %q is not registered: call transporttest.Main(m, tr) in TestMain", tr.Name)
	}
	cases := []struct {
		name string
		fn   func(*testing.T, Transport)
	}{
		{"Sizes", testSizes},
		{"TooLarge", testTooLarge},
		{"StreamToPeer", testStreamToPeer},
		{"StreamFromPeer", testStreamFromPeer},
		{"PingPong", testPingPong},
		{"ShortBuffer", testShortBuffer},
		{"CloseUnblocksRecv", testCloseUnblocksRecv},
		{"ConcurrentClose", testConcurrentClose},
		{"ReadDeadline", testReadDeadline},
		{"WriteDeadline", testWriteDeadline},
		{"CloseUnblocksSend", testCloseUnblocksSend},
		{"PeerKilled", testPeerKilled},
		{"CreatorKilled", testCreatorKilled},
		{"BadAddresses", testBadAddresses},
		{"PeerCloseToHere", testPeerCloseToHere},
		{"PeerCloseFull", testPeerCloseFull},
		{"PeerCloseFromHere", testPeerCloseFromHere},
		{"FanInClose", testFanInClose},
		{"Registry", testRegistry},
		{"RacyRead", testRacyRead},
		{"RacyWrite", testRacyWrite},
		{"ConcurrentMethods", testConcurrentMethods},
		{"PastDeadline", testPastDeadline},
		{"ReadTimeoutKeepsWrites", testReadTimeoutKeepsWrites},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, tr) })
	}
}

// pair creates a channel here and starts role in a peer process on it.
func pair(t *testing.T, tr Transport, role string, args ...string) (ipclab.Conn, *testmain.Peer) {
	t.Helper()
	c, files, err := tr.Create()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	p := testmain.StartPeer(t, c, files, role, append([]string{tr.Name, c.Addr().String()}, args...)...)
	return c, p
}

func fill(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7) + byte(i>>8)
	}
	return b
}

func testSizes(t *testing.T, tr Transport) {
	c, _, err := tr.Create()
	if err != nil {
		t.Fatal(err)
	}
	max := c.MaxMessageSize()
	c.Close()
	sizes := []int{0, 1, 64, 4096, max}
	sizes = slices.DeleteFunc(sizes, func(n int) bool { return n > max })
	c, p := pair(t, tr, "tt-echo", strconv.Itoa(len(sizes)))
	buf := make([]byte, max)
	for i, n := range sizes {
		msg := fill(n, byte(i))
		if err := c.Send(msg); err != nil {
			t.Fatalf("send %d bytes: %v", n, err)
		}
		m, err := c.Recv(buf)
		if err != nil {
			t.Fatalf("recv echo of %d bytes: %v", n, err)
		}
		if !bytes.Equal(buf[:m], msg) {
			t.Fatalf("echo of %d bytes came back as %d bytes, differing at %d", n, m, firstDiff(buf[:m], msg))
		}
	}
	if err := p.Wait(prompt); err != nil {
		t.Fatal(err)
	}
	t.Logf("max message size %d bytes", max)
}

func testTooLarge(t *testing.T, tr Transport) {
	c, _, err := tr.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	max := c.MaxMessageSize()
	err = c.Send(make([]byte, max+1))
	var tl *ipclab.TooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("send of max+1 = %d bytes: got %v, want a *ipclab.TooLargeError", max+1, err)
	}
	if tl.Size != max+1 || tl.Limit != max || tl.Name == "" || tl.Raise == "" {
		t.Fatalf("TooLargeError %+v: want Size %d, Limit %d, and the limit's name and how to raise it", tl, max+1, max)
	}
	t.Logf("%v", err)
}

// streamMax bounds the message sizes of the 10,000-message streams so they
// stay quick on transports whose maximum is large.
func streamMax(c ipclab.Conn) int { return min(c.MaxMessageSize(), 16<<10) }

func testStreamToPeer(t *testing.T, tr Transport) {
	const n, seed = 10000, 7
	c0, _, err := tr.Create()
	if err != nil {
		t.Fatal(err)
	}
	maxSize := streamMax(c0)
	c0.Close()
	c, p := pair(t, tr, "tt-sink", strconv.Itoa(n), strconv.Itoa(seed), strconv.Itoa(maxSize))
	buf := make([]byte, maxSize)
	for i := 0; i < n; i++ {
		if err := c.Send(Pattern(buf, seed, i, maxSize)); err != nil {
			t.Fatalf("send %d: %v (peer: %s)", i, err, p.Stderr())
		}
	}
	c.SetReadDeadline(time.Now().Add(peerRun))
	m, err := c.Recv(buf)
	if err != nil || string(buf[:m]) != "ok" {
		t.Fatalf("sink's reply: %q, %v (peer: %s)", buf[:m], err, p.Stderr())
	}
	if err := p.Wait(prompt); err != nil {
		t.Fatal(err)
	}
}

func testStreamFromPeer(t *testing.T, tr Transport) {
	const n, seed = 10000, 11
	c0, _, err := tr.Create()
	if err != nil {
		t.Fatal(err)
	}
	maxSize := streamMax(c0)
	c0.Close()
	c, p := pair(t, tr, "tt-source", strconv.Itoa(n), strconv.Itoa(seed), strconv.Itoa(maxSize))
	c.SetReadDeadline(time.Now().Add(peerRun))
	buf := make([]byte, maxSize)
	want := make([]byte, maxSize)
	for i := 0; i < n; i++ {
		m, err := c.Recv(buf)
		if err != nil {
			t.Fatalf("recv %d: %v (peer: %s)", i, err, p.Stderr())
		}
		if w := Pattern(want, seed, i, maxSize); !bytes.Equal(buf[:m], w) {
			t.Fatalf("message %d: got %d bytes, want %d (first difference at %d)", i, m, len(w), firstDiff(buf[:m], w))
		}
	}
	if err := c.Send([]byte("done")); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(prompt); err != nil {
		t.Fatal(err)
	}
}

func testPingPong(t *testing.T, tr Transport) {
	const n = 10000
	c, p := pair(t, tr, "tt-echo", strconv.Itoa(n))
	c.SetDeadline(time.Now().Add(peerRun))
	msg := fill(64, 1)
	buf := make([]byte, 64)
	rtt := make([]time.Duration, n)
	for i := 0; i < n; i++ {
		msg[0] = byte(i)
		start := time.Now()
		if err := c.Send(msg); err != nil {
			t.Fatalf("round trip %d: send: %v", i, err)
		}
		m, err := c.Recv(buf)
		rtt[i] = time.Since(start)
		if err != nil {
			t.Fatalf("round trip %d: recv: %v (peer: %s)", i, err, p.Stderr())
		}
		if !bytes.Equal(buf[:m], msg) {
			t.Fatalf("round trip %d: reply differs", i)
		}
	}
	if err := p.Wait(prompt); err != nil {
		t.Fatal(err)
	}
	slices.Sort(rtt)
	t.Logf("%s: 64-byte round trip over %d: p50 %v, p99 %v, min %v", tr.Name, n,
		rtt[n/2], rtt[n*99/100], rtt[0])
}

func testShortBuffer(t *testing.T, tr Transport) {
	c, p := pair(t, tr, "tt-source", "3", "5", "300")
	c.SetDeadline(time.Now().Add(peerRun))
	// The source sends Pattern(5, i, 300) for i = 0, 1, 2: 0 bytes, then two
	// longer ones. Take the empty one, then try the next with a short buffer.
	want := make([]byte, 300)
	if _, err := c.Recv(nil); err != nil {
		t.Fatalf("recv of the empty message into a nil buffer: %v", err)
	}
	next := Pattern(want, 5, 1, 300)
	if len(next) < 2 {
		t.Fatalf("pattern gave a %d-byte message; the test needs >= 2", len(next))
	}
	short := make([]byte, len(next)-1)
	_, err := c.Recv(short)
	var sb *ipclab.ShortBufferError
	if !errors.As(err, &sb) || !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("recv of %d bytes into %d: got %v, want *ipclab.ShortBufferError", len(next), len(short), err)
	}
	if sb.Size != len(next) || sb.Buffer != len(short) {
		t.Fatalf("ShortBufferError %+v: want Size %d, Buffer %d", sb, len(next), len(short))
	}
	buf := make([]byte, 300)
	if sb.Kept {
		m, err := c.Recv(buf)
		if err != nil || !bytes.Equal(buf[:m], next) {
			t.Fatalf("the kept message: got %d bytes, %v; want the %d-byte message intact", m, err, len(next))
		}
	}
	m, err := c.Recv(buf)
	if w := Pattern(want, 5, 2, 300); err != nil || !bytes.Equal(buf[:m], w) {
		t.Fatalf("the message after: got %d bytes, %v; want %d bytes", m, err, len(w))
	}
	c.Send([]byte("done"))
	if err := p.Wait(prompt); err != nil {
		t.Fatal(err)
	}
}

func testBadAddresses(t *testing.T, tr Transport) {
	for _, a := range tr.BadAddrs {
		c, err := tr.Open(a)
		var ae *ipclab.AddrError
		if !errors.As(err, &ae) {
			if c != nil {
				c.Close()
			}
			t.Errorf("open %q: %v, want *ipclab.AddrError", a, err)
		}
	}
	if tr.MissingAddr != nil {
		a := tr.MissingAddr()
		c, err := tr.Open(a)
		if !errors.Is(err, fs.ErrNotExist) {
			if c != nil {
				c.Close()
			}
			t.Errorf("open %q, which names nothing: %v, want an error matching fs.ErrNotExist", a, err)
		} else {
			t.Logf("%v", err)
		}
	}
}

// testRegistry: a constructor writes the registry only when asked to
// (Options.Register), and Close takes the entries away.
func testRegistry(t *testing.T, tr Transport) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil { // the registry refuses a directory others can reach
		t.Fatal(err)
	}
	t.Setenv("IPCLAB_REGISTRY", dir)
	entries := func() int {
		t.Helper()
		es, err := registry.List()
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	c, files, err := tr.Create()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		f.Close()
	}
	n := entries()
	c.Close()
	if n != 0 {
		t.Fatalf("a channel created without Register left %d registry entries", n)
	}
	if tr.Registered == nil {
		return
	}
	if c, err = tr.Registered(); err != nil {
		t.Fatal(err)
	}
	n = entries()
	c.Close()
	if n == 0 {
		t.Fatalf("a channel created with Register left no registry entry")
	}
	if n = entries(); n != 0 {
		t.Fatalf("Close left %d registry entries", n)
	}
}
