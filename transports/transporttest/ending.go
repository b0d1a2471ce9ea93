package transporttest

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/testmain"
)

// The cases about how calls end: Close, deadlines, a killed peer.

// idlePair starts a peer that opens the channel and then does nothing.
func idlePair(t *testing.T, tr Transport) (ipclab.Conn, *testmain.Peer) {
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
	p := testmain.StartPeer(t, nil, nil, "tt-create-source", tr.Name)
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
