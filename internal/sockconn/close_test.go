package sockconn

import (
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ipclab/ipclab"
	"golang.org/x/sys/unix"
)

// waitParked waits until some goroutine's stack holds every one of
// frames, that is, until it has got there and waits; it fails the test
// with the goroutines' stacks if none has after 20 s (a backstop, not
// a measurement).
func waitParked(t *testing.T, frames ...string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for end := time.Now().Add(20 * time.Second); ; {
		stacks := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(stacks, "\n\n") {
			all := true
			for _, f := range frames {
				all = all && strings.Contains(g, f)
			}
			if all {
				return
			}
		}
		if time.Now().After(end) {
			t.Fatalf("no goroutine got to %q:\n%s", frames, stacks)
		}
		time.Sleep(time.Millisecond)
	}
}

// await returns what ch gives, failing the test with the goroutines'
// stacks if it gives nothing within 20 s (a backstop for a call that
// would otherwise hang the test).
func await(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("%s: still blocked after 20 s:\n%s", what, buf[:runtime.Stack(buf, true)])
		return nil
	}
}

// TestCloseMarkerComesLast: a datagram end's close marker is the last
// packet it sends. A Send that had passed its closed check when Close
// began either sends before the marker or not at all: the peer takes the
// marker as end of file, so a message behind it would arrive after end of
// file (Recv delivers it, then says the peer is gone again). Here the Send
// is held inside its write (takeQueued waits for early.mu) while Close
// runs, then let go.
func TestCloseMarkerComesLast(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	c, err := New(fds[0], testCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	c.early.mu.Lock() // the Send's takeQueued (it has never seen the queue empty) waits here
	sent := make(chan error, 1)
	go func() { sent <- c.Send([]byte("x")) }()
	waitParked(t, "sockconn.(*Conn).takeQueued", "sockconn.(*Conn).Send")
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	// Close has marked the end closed, lingered (nothing is queued for
	// the peer) and waits for the Send's mutex: before the marker, or
	// after it.
	waitParked(t, "sockconn.(*Conn).Close", "Semacquire")
	c.early.mu.Unlock()
	sendErr := await(t, sent, "Send")
	if err := await(t, closed, "Close"); err != nil {
		t.Fatal(err)
	}

	var kinds []byte
	var b [16]byte
	for {
		n, _, err := unix.Recvfrom(fds[1], b[:], unix.MSG_DONTWAIT)
		if err != nil {
			break
		}
		if n > 0 {
			kinds = append(kinds, b[n-1]) // the kind is the last byte
		}
	}
	want := []byte{pktClose}
	if sendErr == nil {
		want = []byte{pktData, pktClose}
	} else if !errors.Is(sendErr, ipclab.ErrClosed) {
		t.Fatalf("send: %v; want nil or ErrClosed", sendErr)
	}
	if string(kinds) != string(want) {
		t.Fatalf("the peer got packets of kinds %v (data %d, close %d), Send said %v; want %v: nothing after the close marker", kinds, pktData, pktClose, sendErr, want)
	}
}

// fullDatagramEnd returns an end over a datagram socketpair whose send
// side is full (the peer, the returned descriptor, reads nothing).
func fullDatagramEnd(t *testing.T) (*Conn, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 1+testCfg.Limit.Max)
	for {
		_, err := unix.SendmsgN(fds[0], pkt, nil, nil, unix.MSG_DONTWAIT)
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(fds[0], testCfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, fds[1]
}

// TestPeerDeathWakesBlockedSend: a datagram Send waiting for room returns
// ErrPeerGone when the watched peer process dies, also while the peer's
// socket lives on (here the test holds it; in life a child of the peer
// that inherited it), so the kernel wakes nobody.
func TestPeerDeathWakesBlockedSend(t *testing.T) {
	c, peer := fullDatagramEnd(t)
	defer unix.Close(peer)
	defer c.Close()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	if err := c.WatchPeer(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() { sent <- c.Send([]byte("x")) }()
	waitParked(t, "[syscall", "sockconn.(*Conn).writeWait")
	cmd.Process.Kill()
	if err := await(t, sent, "Send, after its peer died"); !errors.Is(err, ipclab.ErrPeerGone) {
		t.Fatalf("send: %v; want ErrPeerGone", err)
	}
}

// TestWriteDeadlineReachesSendWaitingForPeer: SetWriteDeadline stops a
// Send that waits for the opener, also while a Recv waits for it too
// (each must be told; the Recv must not take the Send's wake-up).
func TestWriteDeadlineReachesSendWaitingForPeer(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	never := func(int) (Peer, error) { return Peer{}, ErrNotThisOne }
	c, err := Listen(fds[0], testCfg, never)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	received := make(chan error, 1)
	go func() {
		_, err := c.Recv(make([]byte, 8))
		received <- err
	}()
	waitParked(t, "[select", "sockconn.(*Conn).awaitConnect", "sockconn.(*Conn).Recv")
	sent := make(chan error, 1)
	go func() { sent <- c.Send([]byte("x")) }()
	waitParked(t, "[select", "sockconn.(*Conn).awaitConnect", "sockconn.(*Conn).Send")

	c.SetWriteDeadline(time.Now())
	if err := await(t, sent, "Send, after its deadline passed"); !errors.Is(err, ipclab.ErrTimeout) {
		t.Fatalf("send: %v; want ErrTimeout", err)
	}
	c.SetReadDeadline(time.Now())
	if err := await(t, received, "Recv, after its deadline passed"); !errors.Is(err, ipclab.ErrTimeout) {
		t.Fatalf("recv: %v; want ErrTimeout", err)
	}
}
