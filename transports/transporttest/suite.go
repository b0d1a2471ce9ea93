package transporttest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/peerproc"
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
		{"PeerCloseFromHere", testPeerCloseFromHere},
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
func pair(t *testing.T, tr Transport, role string, args ...string) (ipclab.Conn, *peerproc.Proc) {
	t.Helper()
	c, files, err := tr.Create()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	r, w, err := os.Pipe() // the peer's stdin: closing w ends roleIdle
	if err != nil {
		t.Fatal(err)
	}
	all := append([]string{tr.Name, c.Addr().String()}, args...)
	p, err := peerproc.Start(role, all, peerproc.Options{ExtraFiles: files, Stdin: r})
	r.Close()
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		w.Close()
		t.Fatalf("start peer: %v", err)
	}
	t.Cleanup(func() {
		w.Close()
		if !p.Exited() {
			p.Kill()
		}
	})
	if pw, ok := c.(ipclab.PeerWatcher); ok {
		if err := pw.WatchPeer(p.Pid()); err != nil {
			t.Fatalf("watch peer: %v", err)
		}
	}
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

// idlePair starts a peer that opens the channel and then does nothing.
func idlePair(t *testing.T, tr Transport) (ipclab.Conn, *peerproc.Proc) {
	c, p := pair(t, tr, "tt-idle")
	if line, err := p.ReadLine(prompt); err != nil || line != "ready" {
		t.Fatalf("idle peer: %q, %v", line, err)
	}
	return c, p
}

// within runs fn and fails unless it returns within d.
func within(t *testing.T, d time.Duration, what string, fn func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
		return nil
	}
}

func testCloseUnblocksRecv(t *testing.T, tr Transport) {
	c, _ := idlePair(t, tr)
	res := make(chan error, 1)
	go func() {
		_, err := c.Recv(make([]byte, 64))
		res <- err
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-res:
		t.Fatalf("recv returned %v with nothing sent", err)
	default:
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	err := within(t, prompt, "recv after close", func() error { return <-res })
	if !errors.Is(err, ipclab.ErrClosed) {
		t.Fatalf("blocked recv after close: %v, want ErrClosed", err)
	}
	if err := c.Send([]byte("x")); !errors.Is(err, ipclab.ErrClosed) {
		t.Fatalf("send after close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v, want nil", err)
	}
}

func testConcurrentClose(t *testing.T, tr Transport) {
	c, _ := idlePair(t, tr)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Recv(make([]byte, 64))
			errs <- err
		}()
	}
	time.Sleep(30 * time.Millisecond)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); c.Close() }()
	}
	within(t, prompt, "4 receivers and 8 concurrent closes", func() error { wg.Wait(); return nil })
	close(errs)
	for err := range errs {
		if !errors.Is(err, ipclab.ErrClosed) {
			t.Fatalf("receiver woken by close got %v, want ErrClosed", err)
		}
	}
}

func isTimeout(err error) bool {
	var to interface{ Timeout() bool }
	return errors.Is(err, ipclab.ErrTimeout) && errors.Is(err, os.ErrDeadlineExceeded) &&
		errors.As(err, &to) && to.Timeout()
}

func testReadDeadline(t *testing.T, tr Transport) {
	c, _ := idlePair(t, tr)
	const d = 50 * time.Millisecond
	start := time.Now()
	c.SetReadDeadline(start.Add(d))
	err := within(t, prompt, "recv with a deadline", func() error { _, err := c.Recv(make([]byte, 8)); return err })
	if el := time.Since(start); !isTimeout(err) || el < d {
		t.Fatalf("recv with a %v deadline: %v after %v; want a timeout error, not before the deadline", d, err, el)
	}
	// A deadline moved while a call is blocked applies to it.
	c.SetReadDeadline(time.Time{})
	res := make(chan error, 1)
	go func() { _, err := c.Recv(make([]byte, 8)); res <- err }()
	time.Sleep(30 * time.Millisecond)
	c.SetReadDeadline(time.Now())
	if err := within(t, prompt, "recv after its deadline was moved", func() error { return <-res }); !isTimeout(err) {
		t.Fatalf("recv whose deadline was moved to now: %v, want a timeout", err)
	}
}

func testWriteDeadline(t *testing.T, tr Transport) {
	c, _ := idlePair(t, tr)
	msg := make([]byte, c.MaxMessageSize())
	c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	var err error
	sent := 0
	for ; sent < 1<<20 && err == nil; sent++ {
		err = c.Send(msg)
	}
	if !isTimeout(err) {
		t.Fatalf("sending to a peer that never reads: after %d messages got %v, want a timeout", sent, err)
	}
	t.Logf("the channel held %d messages of %d bytes before Send blocked", sent-1, len(msg))
}

// testCloseUnblocksSend uses a fresh channel: a deadline that expires in
// the middle of a frame may leave a byte stream broken, by design.
func testCloseUnblocksSend(t *testing.T, tr Transport) {
	c, _ := idlePair(t, tr)
	msg := make([]byte, c.MaxMessageSize())
	res := make(chan error, 1)
	go func() {
		for {
			if err := c.Send(msg); err != nil {
				res <- err
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // the peer never reads: the sender is blocked by now
	select {
	case err := <-res:
		t.Fatalf("send to a peer that never reads failed before close: %v", err)
	default:
	}
	c.Close()
	if err := within(t, prompt, "blocked send after close", func() error { return <-res }); !errors.Is(err, ipclab.ErrClosed) {
		t.Fatalf("blocked send after close: %v, want ErrClosed", err)
	}
}

func testPeerKilled(t *testing.T, tr Transport) {
	c, p := pair(t, tr, "tt-flood")
	buf := make([]byte, 64)
	c.SetReadDeadline(time.Now().Add(peerRun))
	for i := 0; i < 100; i++ {
		if _, err := c.Recv(buf); err != nil {
			t.Fatalf("recv %d from the flooding peer: %v (peer: %s)", i, err, p.Stderr())
		}
	}
	p.Kill()
	start := time.Now()
	// The deadline is a backstop only: detection must beat it by far.
	c.SetReadDeadline(start.Add(4 * prompt))
	var err error
	drained := 0
	for err == nil {
		_, err = c.Recv(buf)
		drained++
	}
	if el := time.Since(start); !errors.Is(err, ipclab.ErrPeerGone) || el > prompt {
		t.Fatalf("recv after the peer was killed: %v after %d more messages and %v; want ErrPeerGone within %v",
			err, drained-1, el, prompt)
	}
	t.Logf("peer gone reported %v after SIGKILL, after %d queued messages", time.Since(start), drained-1)
	if err := c.Send([]byte("x")); err == nil {
		// A kernel queue with room may accept it; a second send must still
		// not hang, and sends to a dead peer report it.
		t.Logf("send to a dead peer was accepted by the kernel")
	} else if !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("send to a dead peer: %v, want ErrPeerGone", err)
	}
}

func testCreatorKilled(t *testing.T, tr Transport) {
	if !tr.CreateInPeer {
		t.Skip(tr.Name + " cannot be created by the peer")
	}
	p, err := peerproc.Start("tt-create-source", []string{tr.Name}, peerproc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	addr, err := p.ReadLine(prompt)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tr.Open(addr)
	if err != nil {
		t.Fatalf("open %s: %v", addr, err)
	}
	defer c.Close()
	if w, ok := c.(ipclab.PeerWatcher); ok {
		if err := w.WatchPeer(p.Pid()); err != nil {
			t.Fatal(err)
		}
	}
	c.SetReadDeadline(time.Now().Add(peerRun))
	buf := make([]byte, 8)
	for i := 0; i < 10; i++ {
		if m, err := c.Recv(buf); err != nil || m != 1 || buf[0] != byte(i) {
			t.Fatalf("recv %d from the creator: %d bytes %v, %v", i, m, buf[:m], err)
		}
	}
	p.Kill()
	start := time.Now()
	c.SetReadDeadline(start.Add(4 * prompt))
	if _, err := c.Recv(buf); !errors.Is(err, ipclab.ErrPeerGone) || time.Since(start) > prompt {
		t.Fatalf("recv after the creator was killed: %v after %v, want ErrPeerGone within %v", err, time.Since(start), prompt)
	}
	// Close must remove what the dead creator left; the leak check of
	// TestMain fails the run if it does not.
	if err := c.Close(); err != nil {
		t.Fatalf("close after the creator died: %v", err)
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
