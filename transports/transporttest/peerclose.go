package transporttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"github.com/ipclab/ipclab/internal/peerproc"
)

// The peer-close clause of the contract: a peer that calls Close while its
// process keeps running is ErrPeerGone on this end, after the messages it
// queued. Both directions, since the creator and the opener of a channel
// close differently on most mechanisms.

func init() {
	peerproc.Register("tt-send-close", roleSendClose)
	peerproc.Register("tt-recv-gone", roleRecvGone)
}

const peerCloseMessages, peerCloseSeed, peerCloseSize = 3, 13, 200

// testPeerCloseToHere: the peer (the opener) sends, closes, stays alive.
func testPeerCloseToHere(t *testing.T, tr Transport) {
	c, p := pair(t, tr, "tt-send-close", strconv.Itoa(peerCloseMessages))
	if line, err := p.ReadLine(prompt); err != nil || line != "closed" {
		t.Fatalf("peer: %q, %v (stderr: %s)", line, err, p.Stderr())
	}
	closed := time.Now()
	c.SetReadDeadline(closed.Add(4 * prompt)) // a backstop; detection must beat it by far
	buf := make([]byte, peerCloseSize)
	want := make([]byte, peerCloseSize)
	for i := 0; i < peerCloseMessages; i++ {
		m, err := c.Recv(buf)
		if w := Pattern(want, peerCloseSeed, i, peerCloseSize); err != nil || !bytes.Equal(buf[:m], w) {
			t.Fatalf("message %d queued before the peer's Close: %d bytes, %v; want %d bytes", i, m, err, len(w))
		}
	}
	_, err := c.Recv(buf)
	if el := time.Since(closed); !errors.Is(err, ipclab.ErrPeerGone) || el > prompt {
		t.Fatalf("recv after the peer's Close: %v after %v; want ErrPeerGone within %v", err, el, prompt)
	}
	t.Logf("ErrPeerGone %v after the peer's Close returned", time.Since(closed))
	if p.Exited() {
		t.Fatalf("the peer exited (%s): its Close, not its exit, is under test", p.Stderr())
	}
	if err := c.Send([]byte("x")); err != nil && !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("send to a peer that closed: %v, want nil (the kernel took it) or ErrPeerGone", err)
	}
}

// peerCloseFullMessages is more than a POSIX queue's default depth (10):
// the peer's Close then finds the queue full and must wait for a slot for
// its close marker, while this end is still receiving.
const peerCloseFullMessages = 24

// testPeerCloseFull: the peer sends more than the buffer may hold and
// closes while this end is receiving (it is not told when): everything
// arrives, then ErrPeerGone, the peer still running.
func testPeerCloseFull(t *testing.T, tr Transport) {
	c, p := pair(t, tr, "tt-send-close", strconv.Itoa(peerCloseFullMessages))
	c.SetReadDeadline(time.Now().Add(4 * prompt)) // a backstop
	buf := make([]byte, peerCloseSize)
	want := make([]byte, peerCloseSize)
	for i := 0; i < peerCloseFullMessages; i++ {
		// A slow receiver: the peer stays ahead, so its Close finds the
		// buffer as full as the peer could make it.
		time.Sleep(10 * time.Millisecond)
		m, err := c.Recv(buf)
		if w := Pattern(want, peerCloseSeed, i, peerCloseSize); err != nil || !bytes.Equal(buf[:m], w) {
			t.Fatalf("message %d: %d bytes, %v; want %d bytes (peer: %s)", i, m, err, len(w), p.Stderr())
		}
	}
	if _, err := c.Recv(buf); !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("recv after the peer's Close: %v; want ErrPeerGone (peer: %s)", err, p.Stderr())
	}
	if line, err := p.ReadLine(prompt); err != nil || line != "closed" {
		t.Fatalf("peer: %q, %v (stderr: %s)", line, err, p.Stderr())
	}
	if p.Exited() {
		t.Fatalf("the peer exited (%s): its Close, not its exit, is under test", p.Stderr())
	}
}

// testPeerCloseFromHere: this end (the creator) sends and closes; the peer
// must receive everything, then ErrPeerGone.
func testPeerCloseFromHere(t *testing.T, tr Transport) {
	c, p := pair(t, tr, "tt-recv-gone", strconv.Itoa(peerCloseMessages))
	if line, err := p.ReadLine(prompt); err != nil || line != "ready" {
		t.Fatalf("peer: %q, %v (stderr: %s)", line, err, p.Stderr())
	}
	buf := make([]byte, peerCloseSize)
	for i := 0; i < peerCloseMessages; i++ {
		if err := c.Send(Pattern(buf, peerCloseSeed, i, peerCloseSize)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	line, err := p.ReadLine(prompt + 2*time.Second)
	if err != nil || len(line) < 3 || line[:3] != "ok " {
		t.Fatalf("peer after this end's Close: %q, %v (stderr: %s)", line, err, p.Stderr())
	}
	t.Logf("peer: %s", line)
}

// roleSendClose sends n messages of the pattern, closes, says "closed",
// and lives on until its stdin closes.
func roleSendClose(args []string) error {
	c, rest, err := openPeer(args, 1)
	if err != nil {
		return err
	}
	buf := make([]byte, peerCloseSize)
	for i := 0; i < atoi(rest[0]); i++ {
		if err := c.Send(Pattern(buf, peerCloseSeed, i, peerCloseSize)); err != nil {
			c.Close()
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	if err := c.Close(); err != nil {
		return err
	}
	fmt.Println("closed")
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// roleRecvGone receives n messages of the pattern, then expects
// ErrPeerGone and prints "ok" with how long that took after the last one.
func roleRecvGone(args []string) error {
	c, rest, err := openPeer(args, 1)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println("ready")
	c.SetReadDeadline(time.Now().Add(peerRun))
	buf := make([]byte, peerCloseSize)
	want := make([]byte, peerCloseSize)
	var last time.Time
	for i := 0; i < atoi(rest[0]); i++ {
		m, err := c.Recv(buf)
		if w := Pattern(want, peerCloseSeed, i, peerCloseSize); err != nil || !bytes.Equal(buf[:m], w) {
			return fmt.Errorf("message %d queued before the creator's Close: %d bytes, %v; want %d bytes", i, m, err, len(w))
		}
		last = time.Now()
	}
	c.SetReadDeadline(time.Now().Add(prompt))
	if _, err := c.Recv(buf); !errors.Is(err, ipclab.ErrPeerGone) {
		return fmt.Errorf("recv after the creator's Close: %v, want ErrPeerGone", err)
	}
	fmt.Printf("ok %v after the last message\n", time.Since(last))
	return nil
}

// testFanInClose: on a channel several openers share, the creator's end
// ends once every opener closed, or, told to expect n openers, once n
// closed even if one finished before the next opened. The openers run in
// this process: what is under test is the creator's count of their
// markers.
func testFanInClose(t *testing.T, tr Transport) {
	c, _, err := tr.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fan, ok := c.(ipclab.FanIn)
	if !ok {
		t.Skip(tr.Name + " has one opener per channel")
	}
	fan.ExpectOpeners(2)
	buf := make([]byte, 8)
	for i := range 2 {
		o, err := tr.Open(c.Addr().String())
		if err != nil {
			t.Fatalf("opener %d: %v", i, err)
		}
		if err := o.Send([]byte{byte(i)}); err != nil {
			t.Fatalf("opener %d: send: %v", i, err)
		}
		o.Close()
		c.SetReadDeadline(time.Now().Add(prompt))
		if n, err := c.Recv(buf); err != nil || n != 1 || buf[0] != byte(i) {
			t.Fatalf("message of opener %d: %d bytes, %v", i, n, err)
		}
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err = c.Recv(buf)
		if i == 0 && !isTimeout(err) {
			t.Fatalf("after the first of 2 expected openers closed: %v, want a timeout (the channel goes on)", err)
		}
		if i == 1 && !errors.Is(err, ipclab.ErrPeerGone) {
			t.Fatalf("after both expected openers closed: %v, want ErrPeerGone", err)
		}
	}
}
